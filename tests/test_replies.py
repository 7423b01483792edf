"""Citizens' replies reach the office of the feed, and its answers go back (issue 20).

A Fedify peer (tests/fedify_peer, an ActivityPub implementation nobody here wrote) follows the presse feed,
gets a new announcement, answers it with a signed reply: the message lands in the presse office's inbox (and
no other's); a staff answer, approved by a second person, arrives at the peer as a signed reply with
`inReplyTo`; the author's Delete, or Undo of its Create, removes the message; the retention time removes what
is older. Limits, blocks and feeds without an office are tested on `take` directly."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from feedserver.push import replies
from feedserver.push import reply_records as records
from feedserver.tables import desk_audit
from tests.desk_support import approve, bearer, desk_feeds, new_announcement, staff
from tests.push_support import live_app, queue_empty, refresh, wait_for
from tests.test_fedify_peer import of_type, peer  # noqa: F401 - the peer fixture

DESK = "/api/v1/desk"


def control(peer_url: str, action: str, **query) -> bytes:
    with urllib.request.urlopen(
        f"{peer_url}/control/{action}?{urllib.parse.urlencode(query)}", timeout=30
    ) as r:
        return r.read()


def kept(app) -> list[records.Reply]:
    return records.listed(app.extensions["feedserver"].store.engine, None)


def test_a_reply_reaches_its_office_an_answer_goes_back_and_the_authors_delete_removes_it(
    tmp_path,
    upstream,
    peer,  # noqa: F811
):
    four_eyes = '[activitypub]\nretry_delay = 1\n[replies]\nanswers_need_approval = ["presse"]\n'
    with live_app(tmp_path, desk_feeds(upstream.url), four_eyes) as app:
        for feed_id in ("waste-test", "presse", "bauamt"):
            assert refresh(app, feed_id).ok
        wait_for(lambda: queue_empty(app))
        actor = f"{app.extensions['feedserver'].settings.server.base_url}/ap/feeds/presse"
        control(peer, "follow", actor=actor)
        wait_for(lambda: of_type(peer, "Accept"), timeout=30)
        client, tokens = app.test_client(), staff(app)
        announcement = new_announcement(
            client, tokens["paul"], title="Sperrung Hauptstraße", text="Ab Montag."
        )
        assert approve(client, tokens["anna"], announcement, 1).status_code == 200
        [create] = wait_for(lambda: of_type(peer, "Create"), timeout=30)

        sent = json.loads(
            control(
                peer, "reply", actor=actor, to=create["object"], text="Gilt das auch für <b>Radfahrer</b>?"
            )
        )
        [message] = wait_for(lambda: kept(app), timeout=30)
        assert (message.office, message.feed_id, message.in_reply_to) == (
            "presse",
            "presse",
            create["object"],
        )
        assert message.text.endswith("Gilt das auch für Radfahrer?") and message.handle.startswith("@tester@")
        listed = client.get(f"{DESK}/replies", headers=bearer(tokens["anna"])).get_json()
        assert [m["id"] for m in listed] == [message.id]
        assert client.get(f"{DESK}/replies", headers=bearer(tokens["dora"])).get_json() == []  # bauamt
        other = client.post(
            f"{DESK}/replies/{message.id}/answer", json={"text": "x"}, headers=bearer(tokens["dora"])
        )
        assert other.status_code == 404

        reply_url = f"{DESK}/replies/{message.id}"
        drafted = client.post(
            f"{reply_url}/answer",
            json={"text": "Ja, auch für Radfahrer.", "visibility": "direct"},
            headers=bearer(tokens["anna"]),
        )  # the presse office's answers need four eyes: this one waits
        assert drafted.status_code == 200 and drafted.get_json()["answered_by"] is None
        assert (drafted.get_json()["draft"], drafted.get_json()["drafted_by"]) == (
            "Ja, auch für Radfahrer.",
            "anna",
        )
        refusals = [(name, client.post(f"{reply_url}/approve", headers=bearer(tokens[name])).status_code)
                    for name in ("anna", "paul", "dora")]  # fmt: skip
        assert refusals == [
            ("anna", 403),
            ("paul", 403),
            ("dora", 404),
        ]  # its writer, an author, another office
        assert of_type(peer, "Create")[-1]["inReplyTo"] != sent["note"]  # nothing went out yet

        approved = client.post(f"{reply_url}/approve", headers=bearer(tokens["bernd"]))
        assert approved.status_code == 200
        assert [approved.get_json()[k] for k in ("answered_by", "approved_by", "draft")] == [
            "anna",
            "bernd",
            None,
        ]
        answer = wait_for(
            lambda: [e for e in of_type(peer, "Create") if e["inReplyTo"] == sent["note"]], timeout=30
        )
        assert "Ja, auch für Radfahrer." in answer[0]["content"] and answer[0]["actor"] == actor
        assert client.post(f"{reply_url}/approve", headers=bearer(tokens["bernd"])).status_code == 409
        with app.extensions["feedserver"].store.engine.connect() as connection:
            audit = connection.execute(
                select(desk_audit.c.actor, desk_audit.c.action, desk_audit.c.detail)
            ).all()
        assert ("anna", "answer drafted", f"reply {message.id} to {message.handle}") in audit
        assert ("bernd", "answer", f"reply {message.id} to {message.handle}, written by anna") in audit

        control(peer, "delete", actor=actor, note=sent["note"])
        wait_for(lambda: kept(app) == [], timeout=30)

        again = json.loads(control(peer, "reply", actor=actor, to=create["object"], text="Und Busse?"))
        wait_for(lambda: [m.remote_id for m in kept(app)] == [again["note"]], timeout=30)
        control(peer, "undo", actor=actor, note=again["note"])  # an Undo of its Create takes it back too
        wait_for(lambda: kept(app) == [], timeout=30)


def message(
    actor: str = "https://social.example/users/a", note: str = "https://social.example/notes/1"
) -> dict:
    note = {"id": note, "type": "Note", "attributedTo": actor, "content": "<p>Hallo <script>x</script></p>"}
    note["inReplyTo"] = "http://127.0.0.1:8000/ap/feeds/presse/notes/abc"
    return {"type": "Create", "actor": actor, "object": note}


def test_limits_blocks_and_feeds_nobody_reads_keep_nothing(make_app, tmp_path):
    limits = "per_actor_hour = 2\nper_instance_hour = 3\nretention_days = 30\n"
    app = make_app(desk_feeds(), f'[replies]\n{limits}blocked = ["spam.example"]\n')
    runtime, now = app.extensions["feedserver"], datetime.now(UTC)
    presse = runtime.feed("presse")
    take = lambda actor, n: replies.take(runtime, presse, message(actor, f"{actor}/notes/{n}"), actor, now)  # noqa: E731
    a, b, c = (f"https://social.example/users/{name}" for name in "abc")
    assert [take(a, 1) is not None, take(a, 2) is not None, take(a, 3) is not None] == [True, True, False]
    assert take(b, 1) is not None and take(c, 1) is None  # the instance's three an hour are used up
    assert take("https://spam.example/users/x", 1) is None
    assert [r.text for r in kept(app)][0] == "Hallo"  # plain text: the script's content is gone
    assert replies.purge(runtime, now + timedelta(days=29)) == 0
    assert replies.purge(runtime, now + timedelta(days=31)) == 3
    nobody = runtime.feed("bauamt").__class__(**{**runtime.feed("bauamt").__dict__, "office": None})
    assert replies.take(runtime, nobody, message(), "https://social.example/users/a", now) is None


def test_a_note_attributed_to_someone_else_is_not_kept(make_app):
    app = make_app(desk_feeds())
    runtime, now = app.extensions["feedserver"], datetime.now(UTC)
    forged = message()
    forged["object"]["attributedTo"] = "https://social.example/users/mayor"
    assert (
        replies.take(runtime, runtime.feed("presse"), forged, "https://social.example/users/a", now) is None
    )
