"""/admin/plan: the desk's scheduled and published messages by day and office, from a week ago to two weeks
ahead, of the user's own offices, filterable by office, each linking to its announcement."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.desk_support import (
    API,
    NOW,
    add_user,
    admin_app,
    approve,
    bearer,
    login,
    new_announcement,
    set_password,
    token_for,
)

ADMIN_PASSWORD = "zoe-has-a-long-password"


@pytest.fixture
def app(tmp_path, monkeypatch, frozen):
    app = admin_app(tmp_path, monkeypatch)
    add_user(app, "zoe", "admin")
    set_password(app, "zoe", ADMIN_PASSWORD)
    add_user(app, "carl", "author", "bauamt")
    add_user(app, "dora", "approver", "bauamt")
    return app


def at(days: float) -> str:
    return (NOW + timedelta(days=days)).isoformat()


@pytest.fixture
def planned(app):
    """Announcements around NOW: their ids by name."""
    client = app.test_client()
    tokens = {name: token_for(app, name) for name in ("anna", "bernd", "carl", "dora")}

    def post(token, approver, title, days, **fields):
        found = new_announcement(client, tokens[token], title=title, publish_at=at(days), **fields)
        if approver:
            assert approve(client, tokens[approver], found, 1).status_code == 200
        return found

    ids = {
        "published": post("anna", "bernd", "Markt verlegt", -2),
        "scheduled": post("anna", "bernd", "Stadtfest", 3, expires=at(4)),
        "pending": post("bernd", None, "Bürgerbüro zu", 1),
        "too-old": post("anna", "bernd", "Alte Meldung", -10),
        "too-far": post("anna", "bernd", "Ferne Meldung", 20),
        "bauamt": post("carl", "dora", "Baustelle Ringstraße", 5, feed="bauamt"),
        "withdrawn": post("anna", "bernd", "Zurückgezogen", 2),
    }
    url = f"{API}/announcements/{ids['withdrawn']}/withdraw"
    assert client.post(url, headers=bearer(tokens["anna"])).status_code == 200
    return ids


def rows(page: str) -> list[tuple[str, str, str]]:
    """(day heading, title, state) of every message on the page, in order."""
    found = []
    for section in page.split("<section")[1:]:
        day = re.search(r"<h2[^>]*>([^<]+)</h2>", section).group(1)
        for title, state in re.findall(
            r'<a href="/admin/announcements/\d+[^"]*">([^<]+)</a>.*?<td>([^<(]+)', section, re.S
        ):
            found.append((day, title, state.strip()))
    return found


def test_an_office_sees_its_messages_by_day_in_the_window_with_links(app, planned):
    anna = login(app, "anna")
    page = anna.get("/admin/plan?lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert rows(text) == [
        ("Thursday, November 19, 2026", "Markt verlegt", "published"),
        ("Sunday, November 22, 2026", "Bürgerbüro zu", "awaiting approval"),
        ("Tuesday, November 24, 2026", "Stadtfest", "scheduled"),
    ]  # not bauamt's, not withdrawn, nothing before Nov 14 or after Dec 5
    assert f'href="/admin/announcements/{planned["scheduled"]}?lang=en"' in text
    assert "November 14, 2026" in text and "December 5, 2026" in text  # the window, said
    german = anna.get("/admin/plan").get_data(as_text=True)
    assert "Planung" in german and "Dienstag, 24. November 2026" in german and "geplant" in german


def test_an_admin_sees_every_office_and_filters_by_one(app, planned):
    zoe = login(app, "zoe", ADMIN_PASSWORD)
    everything = [title for _, title, _ in rows(zoe.get("/admin/plan?lang=en").get_data(as_text=True))]
    assert everything == ["Markt verlegt", "Bürgerbüro zu", "Stadtfest", "Baustelle Ringstraße"]
    page = zoe.get("/admin/plan?lang=en&office=bauamt").get_data(as_text=True)
    assert [title for _, title, _ in rows(page)] == ["Baustelle Ringstraße"]
    assert (
        '<option value="bauamt" selected>' in page and '<input type="hidden" name="lang" value="en">' in page
    )


def test_an_office_not_ones_own_is_refused_without_echo_and_the_page_needs_a_login(app, planned):
    anna = login(app, "anna")
    for office in ("bauamt", "<script>x</script>", "x" * 300):
        response = anna.get("/admin/plan", query_string={"office": office})
        assert response.status_code == 400
        assert "<script>x" not in response.get_data(as_text=True) and "Baustelle" not in response.get_data(
            as_text=True
        )
    stranger = app.test_client().get("/admin/plan")
    assert stranger.status_code == 302 and stranger.headers["Location"].startswith("/admin/login")


def test_an_empty_plan_says_so(app):
    page = login(app, "anna").get("/admin/plan?lang=en").get_data(as_text=True)
    assert "No messages in this period." in page and "<table>" not in page
