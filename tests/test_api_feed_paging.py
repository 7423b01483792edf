"""/api/v1/feeds a page at a time: in the order of feed ids, `links.next` and `Link` until the last page,
ETags and 304s per page, and 400 problems for a bad limit or cursor (issue 21)."""

from __future__ import annotations

import pytest

from tests.push_support import feed_table

IDS = ["abfall-a", "abfall-b", "abfall-c", "abfall-d", "abfall-e"]


@pytest.fixture
def client(make_app):
    feeds = "".join(feed_table(f"https://example.org/{feed_id}.ics", feed_id) for feed_id in reversed(IDS))
    return make_app(feeds).test_client()


def test_every_feed_once_in_the_order_of_ids(client):
    seen, url, pages = [], "/api/v1/feeds?limit=2", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        document = response.get_json()
        seen += [feed["id"] for feed in document["data"]]
        url = document["links"]["next"]
        assert (response.headers.get("Link") is None) == (url is None)
        pages += 1
    assert seen == IDS and pages == 3


def test_pages_have_etags_and_revalidate(client):
    first = client.get("/api/v1/feeds?limit=2")
    again = client.get("/api/v1/feeds?limit=2", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    second = client.get(first.get_json()["links"]["next"])
    assert second.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize(
    "query, parameter",
    [("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit"), ("cursor=Not%20an%20id", "cursor")],
)
def test_bad_paging_is_a_400_naming_the_parameter(client, query, parameter):
    response = client.get(f"/api/v1/feeds?{query}")
    assert response.status_code == 400 and response.get_json()["parameter"] == parameter
    assert "Not an id" not in response.get_data(as_text=True)


def test_a_cursor_past_the_last_id_is_an_empty_last_page(client):
    document = client.get("/api/v1/feeds?cursor=zzz").get_json()
    assert document["data"] == [] and document["links"]["next"] is None
    assert [f["id"] for f in client.get("/api/v1/feeds?cursor=abfall-c").get_json()["data"]] == IDS[3:]
