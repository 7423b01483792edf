"""Web Push, the SMS service's heir: a browser subscribes to a feed (with its filters) through the API; each
new item reaches a local push service (RFC 8030) encrypted for that browser (RFC 8291, decrypted here with the
browser's keys) and signed with the server's VAPID key (RFC 8292, verified here); a 410 deletes the
subscription; unsubscribing needs the browser's auth secret."""

from __future__ import annotations

import pytest

from feedserver.config import from_mapping
from feedserver.config.webpush import new_private_key, public_key, vapid_key
from feedserver.errors import ConfigError
from feedserver.push import webpush_records
from tests.push_service import Browser, PushService, vapid_claims
from tests.push_support import feed_table, live_app, queue_empty, refresh, wait_for
from tests.test_html_valid import check

KEY_VARIABLE = "FEEDSERVER_TEST_VAPID_KEY"
API = "/api/v1/feeds/waste-test/webpush"


@pytest.fixture
def service():
    server = PushService()
    yield server
    server.stop()


@pytest.fixture
def vapid(monkeypatch) -> str:
    private = new_private_key()
    monkeypatch.setenv(KEY_VARIABLE, private)
    return public_key(vapid_key(private))


WEBPUSH = f"""
[activitypub]
retry_delay = 1
[webpush]
vapid_private_key = {{ env = "{KEY_VARIABLE}" }}
subject = "mailto:opendata@city.example"
"""


def subscribe(client, browser: Browser, **extra):
    return client.post(API, json={"subscription": browser.subscription(), **extra})


def stored(app) -> list:
    return webpush_records.for_feed(app.extensions["feedserver"].store.engine, "waste-test")


def test_a_new_item_reaches_the_browser_encrypted_for_it_and_signed_by_the_server(
    tmp_path, upstream, service, vapid
):
    with live_app(tmp_path, feed_table(upstream.url), WEBPUSH) as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))
        client, browser = app.test_client(), Browser(service.address("abc"))
        key = client.get("/api/v1/webpush").get_json()["data"]
        assert key == {"application_server_key": vapid, "service_worker": "/static/sw.js"}
        created = subscribe(client, browser)
        assert created.status_code == 201 and created.get_json()["data"]["language"] == "de"
        assert service.received.empty()  # subscribing sends nothing old

        upstream.set([5, 4, 1])
        refresh(app)
        path, headers, body = service.next()
        assert path == "/push/abc" and headers["Content-Encoding"] == "aes128gcm" and int(headers["Ttl"]) > 0
        claims = vapid_claims(headers, vapid)
        assert claims["sub"] == "mailto:opendata@city.example" and claims["aud"] == service.origin
        notification = browser.decrypt(body)
        assert notification["body"] == "Morgen: Biotonne" and notification["title"] == "Abfuhr Test"
        assert notification["url"].startswith(
            app.extensions["feedserver"].settings.server.base_url + "/feeds/"
        )
        assert b"Biotonne" not in body  # encrypted on the way
        wait_for(lambda: queue_empty(app))
        assert service.received.empty()  # once


def test_filters_choose_what_a_subscription_gets_and_a_410_deletes_it(tmp_path, upstream, service, vapid):
    with live_app(tmp_path, feed_table(upstream.url), WEBPUSH) as app:
        assert refresh(app).ok
        wait_for(lambda: queue_empty(app))
        client = app.test_client()
        residual, everything = Browser(service.address("residual")), Browser(service.address("all"))
        assert subscribe(client, residual, filters={"category": "residual"}).status_code == 201
        assert subscribe(client, everything).status_code == 201
        service.answers = [410]  # the one browser that gets the organic pickup has gone
        upstream.set([5, 4, 1])
        refresh(app)
        path, _, _ = service.next()
        assert path == "/push/all"
        wait_for(lambda: queue_empty(app))
        assert service.received.empty()
        assert [s.endpoint for s in stored(app)] == [residual.endpoint]


def test_unsubscribing_needs_the_browsers_auth_secret_and_deletes_it(tmp_path, upstream, service, vapid):
    with live_app(tmp_path, feed_table(upstream.url), WEBPUSH) as app:
        assert refresh(app).ok
        client, browser = app.test_client(), Browser(service.address("me"))
        assert subscribe(client, browser).status_code == 201
        assert subscribe(client, browser, filters={"category": "organic"}).status_code == 201  # the same one
        assert len(stored(app)) == 1 and stored(app)[0].filters == {"category": "organic"}
        forged = {"endpoint": browser.endpoint, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}
        assert client.delete(API, json=forged).status_code == 404
        proof = {"endpoint": browser.endpoint, "auth": browser.subscription()["keys"]["auth"]}
        assert client.delete(API, json=proof).status_code == 204
        assert stored(app) == []
        upstream.set([5, 4, 1])
        refresh(app)
        wait_for(lambda: queue_empty(app))
        assert service.received.empty()


@pytest.mark.parametrize(
    "change, status, field",
    [
        ({"endpoint": "https://10.1.2.3/push/x"}, 400, "subscription.endpoint"),
        ({"endpoint": "file:///etc/passwd"}, 400, "subscription.endpoint"),
        ({"keys": {"p256dh": "B" * 87, "auth": "A" * 22}}, 400, "subscription.keys"),
        ({"keys": {"p256dh": "not-base64!" * 8, "auth": "A" * 22}}, 400, "subscription.keys"),
        ({"endpoint": None}, 400, "subscription"),
    ],
)
def test_a_bad_subscription_is_refused_with_a_problem_that_does_not_echo_it(
    tmp_path, upstream, service, vapid, change, status, field
):
    with live_app(tmp_path, feed_table(upstream.url), WEBPUSH, worker=False) as app:
        client = app.test_client()
        subscription = Browser(service.address("x")).subscription() | change
        response = client.post(API, json={"subscription": subscription})
        assert response.status_code == status and response.mimetype == "application/problem+json"
        assert response.get_json()["parameter"] == field and "passwd" not in response.get_data(as_text=True)
        assert stored(app) == []


def test_bad_filters_big_bodies_unknown_feeds_and_a_server_without_keys(tmp_path, upstream, service, vapid):
    with live_app(tmp_path, feed_table(upstream.url), WEBPUSH, worker=False) as app:
        assert refresh(app).ok
        client, browser = app.test_client(), Browser(service.address("x"))
        bad = subscribe(client, browser, filters={"category": "gold"})
        assert bad.status_code == 400 and "residual" in bad.get_json()["valid"]
        assert (
            client.post(API, data=b"{" + b" " * 5000 + b"}", content_type="application/json").status_code
            == 413
        )
        assert client.post(API, data=b"not json", content_type="application/json").status_code == 400
        assert (
            client.post(
                "/api/v1/feeds/nope/webpush", json={"subscription": browser.subscription()}
            ).status_code
            == 404
        )
    (tmp_path / "off").mkdir()
    with live_app(tmp_path / "off", feed_table(upstream.url), worker=False) as app:
        assert app.test_client().post(API, json={"subscription": browser.subscription()}).status_code == 404


def test_the_vapid_key_comes_only_from_the_environment_and_must_be_one(monkeypatch):
    table = {"vapid_private_key": {"env": KEY_VARIABLE}, "subject": "mailto:a@b.example"}
    monkeypatch.setenv(KEY_VARIABLE, "not a key")
    with pytest.raises(ConfigError, match=r"webpush\.vapid_private_key.*webpush-keys"):
        from_mapping({"webpush": table})
    with pytest.raises(ConfigError, match=r"webpush\.vapid_private_key.*env"):
        from_mapping({"webpush": table | {"vapid_private_key": new_private_key()}})
    monkeypatch.setenv(KEY_VARIABLE, new_private_key())
    with pytest.raises(ConfigError, match=r"webpush\.subject"):
        from_mapping({"webpush": table | {"subject": "me"}})
    assert from_mapping({"webpush": table}).webpush.enabled
    assert not from_mapping({}).webpush.enabled


def test_the_feed_page_offers_notifications_only_where_the_server_has_its_key(tmp_path, upstream, vapid):
    with live_app(tmp_path, feed_table(upstream.url), WEBPUSH, worker=False) as app:
        for lang in ("de", "en"):
            page = app.test_client().get(f"/feeds/waste-test?lang={lang}").get_data(as_text=True)
            assert (
                f'data-webpush-key="{vapid}"' in page
                and 'data-webpush-api="/api/v1/feeds/waste-test/webpush"' in page
            )
            assert "/static/notify.js" in page and 'class="notify-toggle" hidden' in page
        assert "Benachrichtigungen einschalten" in app.test_client().get(
            "/feeds/waste-test?lang=de"
        ).get_data(True)
        assert (
            "connect-src 'self'"
            in app.test_client().get("/feeds/waste-test").headers["Content-Security-Policy"]
        )
    (tmp_path / "off").mkdir()
    with live_app(tmp_path / "off", feed_table(upstream.url), worker=False) as app:
        page = app.test_client().get("/feeds/waste-test").get_data(as_text=True)
        assert "data-webpush-key" not in page and "notify.js" not in page


def test_the_page_with_notifications_is_valid_html(tmp_path, upstream, vapid):
    with live_app(tmp_path, feed_table(upstream.url), WEBPUSH, worker=False) as app:
        client = app.test_client()
        pages = {f"feed-{lang}": client.get(f"/feeds/waste-test?lang={lang}").data for lang in ("de", "en")}
    (tmp_path / "vnu").mkdir()
    assert check(pages, tmp_path / "vnu") == []
