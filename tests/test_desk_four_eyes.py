"""Four-eyes across co-editing (issue 16, attack 3): nobody approves text they helped to write.

The attack: an approver writes version 1, an author changes one word (version 2, authored by the author), and
the approver approves version 2 - their own text went live with nobody else having approved it.
"""

from __future__ import annotations

import feedparser
import pytest

from tests.desk_support import API, approve, bearer, desk_app, edit, new_announcement


@pytest.fixture
def app(make_app, frozen):
    return desk_app(make_app, "presse", "bauamt")


def live_titles(client, feed_id: str = "presse") -> list[str]:
    return [e.title for e in feedparser.parse(client.get(f"/feeds/{feed_id}.rss").data).entries]


def approve_log(client, token, announcement_id: int) -> list[dict]:
    log = client.get(f"{API}/announcements/{announcement_id}/audit", headers=bearer(token)).get_json()
    return [e for e in log if e["action"] == "approve"]


CRISIS = {"crisis": True, "targets": ["presse", "bauamt"]}


@pytest.mark.parametrize("kind", [{}, CRISIS], ids=["announcement", "crisis"])
def test_an_approver_cannot_approve_their_own_text_after_an_author_changed_one_word(client, tokens, kind):
    announcement_id = new_announcement(client, tokens["anna"], **kind)  # anna (approver) writes version 1
    assert edit(client, tokens["paul"], announcement_id, text="Musik und Tanz.") == 2  # paul: one word

    refused = approve(client, tokens["anna"], announcement_id, 2)
    assert refused.status_code == 403
    assert "wrote" in refused.get_json()["detail"]
    assert live_titles(client) == [] and live_titles(client, "bauamt") == []  # nothing went live

    approved = approve(client, tokens["bernd"], announcement_id, 2)  # a third person, who wrote nothing
    assert approved.status_code == 200
    assert live_titles(client) == ["Stadtfest am Markt"]
    [entry] = approve_log(client, tokens["bernd"], announcement_id)
    assert (entry["actor"], entry["version"]) == ("bernd", 2)
    assert "anna" in entry["detail"] and "paul" in entry["detail"]  # every contributor is named


def test_after_an_approval_only_the_writers_of_the_new_versions_count(client, tokens):
    announcement_id = new_announcement(client, tokens["anna"])
    assert approve(client, tokens["bernd"], announcement_id, 1).status_code == 200
    assert edit(client, tokens["paul"], announcement_id, title="Stadtfest verschoben") == 2
    # anna wrote version 1, but bernd approved it; since then only paul wrote: anna may approve
    assert approve(client, tokens["anna"], announcement_id, 2).status_code == 200
    [entry] = [e for e in approve_log(client, tokens["anna"], announcement_id) if e["version"] == 2]
    assert "paul" in entry["detail"] and "anna" not in entry["detail"]

    assert edit(client, tokens["bernd"], announcement_id, text="Neuer Termin folgt.") == 3
    assert edit(client, tokens["paul"], announcement_id, text="Neuer Termin: Samstag.") == 4
    assert approve(client, tokens["bernd"], announcement_id, 4).status_code == 403  # bernd wrote version 3
    assert approve(client, tokens["anna"], announcement_id, 4).status_code == 200
    assert live_titles(client) == ["Stadtfest verschoben"]
