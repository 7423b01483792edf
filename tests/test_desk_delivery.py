"""Delivery is visible in the desk: the announcement page shows each channel's state (not queued yet,
queued, sent with the post's address, failed with the reason) and a failed delivery can be retried, by a
member of the office, with the form's CSRF token, audited; nothing else can be "retried"."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from feedserver.push import social
from feedserver.push.worker import PushWorker
from tests.ap_support import FAST_RETRY
from tests.desk_support import add_user, admin_app, csrf_of, draft, login, set_password
from tests.mastodon_server import MastodonServer
from tests.push_support import queue_empty, wait_for
from tests.test_desk_channels import FEEDS, TOKEN_VARIABLE, channels

DORA = "dora-has-a-long-password"


@pytest.fixture
def servers(monkeypatch):
    monkeypatch.setenv(TOKEN_VARIABLE, "city-token")
    found = {"stadt": MastodonServer(), "kreis": MastodonServer(token="another-token", username="kreis")}
    yield found
    for server in found.values():
        server.stop()


@pytest.fixture
def app(tmp_path, monkeypatch, servers):
    extra = FAST_RETRY + channels({name: server.url for name, server in servers.items()})
    app = admin_app(tmp_path, monkeypatch, extra=extra, feeds=FEEDS)
    add_user(app, "dora", "approver", "bauamt")
    set_password(app, "dora", DORA)
    sync(app)  # the channels' first look at the feed: what it holds now (nothing) is their backlog
    return app


def sync(app) -> None:
    """What the push worker does after the feed changed: compare the channels with the feed, queue jobs."""
    runtime = app.extensions["feedserver"]
    with app.app_context():
        social.sync(runtime, runtime.feed("presse"), datetime.now(UTC))


@contextmanager
def worker(app):
    running = PushWorker(app, poll=0.1).start()
    try:
        yield running
    finally:
        running.stop()


def published(app) -> str:
    """A presse announcement drafted by anna and approved by bernd: its page's address."""
    anna, bernd = login(app, "anna"), login(app, "bernd")
    detail = draft(anna, title="Markt fällt aus", text="Wegen Glätte.").headers["Location"]
    page = bernd.get(detail)
    assert (
        bernd.post(f"{detail}/approve", data={"version": "1", "csrf_token": csrf_of(page)}).status_code == 302
    )
    return detail


def states(browser, detail: str) -> dict[str, str]:
    """Each channel's state on the announcement page (English)."""
    page = browser.get(f"{detail}?lang=en").get_data(as_text=True)
    table = page.split('id="h-deliveries"', 1)[1].split("</table>", 1)[0]
    cells = [row.split("<td>")[1:3] for row in table.split("<tr>")[2:]]
    return {channel.split("<")[0]: state.split("<")[0] for channel, state in cells}


def retry(browser, detail: str, channel: str, token: str | None = None):
    url = f"{detail}/deliveries/{channel}/retry"
    return browser.post(
        url, data={"csrf_token": token if token is not None else csrf_of(browser.get(detail))}
    )


def test_each_channel_shows_its_state_and_a_failed_delivery_is_retried_once(app, servers):
    anna = login(app, "anna")
    detail = published(app)
    assert states(anna, detail) == {"stadt": "not queued yet", "kreis": "not queued yet"}
    sync(app)
    assert states(anna, detail) == {"stadt": "queued", "kreis": "queued"}
    assert "Retry delivery" not in anna.get(detail).get_data(as_text=True)

    with worker(app):
        wait_for(lambda: queue_empty(app))
    [status] = servers["stadt"].statuses.values()
    page = anna.get(f"{detail}?lang=en").get_data(as_text=True)
    assert states(anna, detail) == {"stadt": "sent", "kreis": "failed"}
    assert f'href="{servers["stadt"].url}/@stadt/{status.id}"' in page  # the post's address on the network
    assert 'Reason: <span lang="en">token refused' in page and "Retry delivery to kreis" in page
    assert "Retry delivery to stadt" not in page  # only a failed delivery has the button

    refused = retry(anna, detail, "stadt")
    assert refused.status_code == 409  # sent: nothing to retry
    servers["kreis"].token = "city-token"  # the city fixed the account's token
    assert retry(anna, detail, "kreis").status_code == 302
    assert states(anna, detail)["kreis"] == "failed, will be retried"  # queued again, the reason kept
    assert retry(anna, detail, "kreis").status_code == 409  # queued already: a second click adds nothing
    with worker(app):
        wait_for(lambda: len(servers["kreis"].statuses) == 1)
        wait_for(lambda: queue_empty(app))
    assert states(anna, detail) == {"stadt": "sent", "kreis": "sent"}
    assert (
        len(servers["stadt"].statuses) == 1 and [m for m, _ in servers["kreis"].requests].count("POST") == 2
    )
    audit = anna.get(f"{detail}?lang=en").get_data(as_text=True)
    assert "delivery retried" in audit and "channel kreis" in audit
    assert "Zustellung wiederholt" in anna.get(detail).get_data(as_text=True)


def test_a_retry_needs_the_office_the_csrf_token_a_login_and_a_configured_channel(app, servers):
    anna = login(app, "anna")
    detail = published(app)
    sync(app)
    with worker(app):
        wait_for(lambda: queue_empty(app))
    assert states(anna, detail)["kreis"] == "failed"

    assert retry(anna, detail, "kreis", token="").status_code == 400  # no CSRF token
    assert retry(anna, detail, "kreis", token="forged").status_code == 400
    dora = login(app, "dora", DORA)  # an approver of another office
    assert retry(dora, detail, "kreis", token=csrf_of(dora.get("/admin/"))).status_code == 403
    stranger = app.test_client().post(f"{detail}/deliveries/kreis/retry", data={"csrf_token": "x"})
    assert stranger.status_code in (302, 400)  # no session: refused before anything is looked at
    for channel in ("land", "nirgends", "%3Cscript%3E"):
        response = retry(anna, detail, channel)
        assert response.status_code == 404 and "<script>" not in response.get_data(as_text=True)
    assert retry(anna, "/admin/announcements/999999", "kreis").status_code == 404
    assert states(anna, detail)["kreis"] == "failed"  # none of that queued anything
    assert "delivery retried" not in anna.get(f"{detail}?lang=en").get_data(as_text=True)
