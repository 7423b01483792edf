"""A crisis notice tops a feed's API items as it tops its feeds and widgets: apps built on the API see it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.desk_support import (
    API,
    NOW,
    approve,
    bearer,
    desk_app,
    edit,
    new_announcement,
    publish,
    serve_calendar,
)

ITEMS = "/api/v1/feeds/{}/items"


@pytest.fixture
def app(make_app, httpserver, fixture_bytes, frozen):
    return desk_app(make_app, "waste-test", "presse", waste_url=serve_calendar(httpserver, fixture_bytes))


def crisis(**fields) -> dict:
    return {"title": "Sturmwarnung", "crisis": True, "targets": ["waste-test"]} | fields


def test_the_first_page_starts_with_the_crisis_whatever_the_filters_and_the_etag_changes(client, tokens):
    before = client.get(ITEMS.format("waste-test"))
    publish(client, tokens, **crisis())
    after = client.get(ITEMS.format("waste-test"), headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    first = after.get_json()["data"][0]
    assert (first["title"], first["crisis"]) == ("Sturmwarnung", True)
    assert [i for i in after.get_json()["data"][1:] if i.get("crisis")] == []
    assert after.get_json()["data"][1:] == before.get_json()["data"]
    filtered = client.get(ITEMS.format("waste-test") + "?category=residual&limit=1").get_json()
    assert [i["title"] for i in filtered["data"]][0] == "Sturmwarnung" and len(filtered["data"]) == 2


def test_later_pages_and_clients_polling_since_after_it_do_not_repeat_it(client, tokens):
    publish(client, tokens, **crisis())
    first = client.get(ITEMS.format("waste-test") + "?limit=1").get_json()
    second = client.get(first["links"]["next"]).get_json()
    assert first["data"][0]["crisis"] and not any(i.get("crisis") for i in second["data"])
    later = (NOW + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    polled = client.get(ITEMS.format("waste-test") + f"?since={later}").get_json()
    assert not any(i.get("crisis") for i in polled["data"])


def test_its_home_feed_shows_it_once_and_a_correction_and_a_withdrawal_reach_the_api(client, tokens):
    announcement = new_announcement(client, tokens["paul"], **crisis(targets=["waste-test", "presse"]))
    assert approve(client, tokens["anna"], announcement, 1).status_code == 200
    home = client.get(ITEMS.format("presse")).get_json()["data"]
    assert [(i["title"], i.get("crisis")) for i in home] == [("Sturmwarnung", True)]
    version = edit(client, tokens["paul"], announcement, title="Sturmwarnung aufgehoben")
    assert approve(client, tokens["bernd"], announcement, version).status_code == 200
    assert client.get(ITEMS.format("waste-test")).get_json()["data"][0]["title"] == "Sturmwarnung aufgehoben"
    withdrawn = client.post(f"{API}/announcements/{announcement}/withdraw", headers=bearer(tokens["paul"]))
    assert withdrawn.status_code == 200
    assert not any(i.get("crisis") for i in client.get(ITEMS.format("waste-test")).get_json()["data"])


def test_a_crisis_scheduled_for_later_appears_when_its_time_comes(client, tokens, frozen):
    publish(client, tokens, **crisis(publish_at=(NOW + timedelta(hours=2)).isoformat()))
    assert not any(i.get("crisis") for i in client.get(ITEMS.format("waste-test")).get_json()["data"])
    frozen.move_to(NOW + timedelta(hours=2, seconds=1))
    assert client.get(ITEMS.format("waste-test")).get_json()["data"][0]["title"] == "Sturmwarnung"
