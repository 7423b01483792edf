"""The upstream client: limits, conditional GET, Retry-After, redirects, refused addresses and file roots."""

from __future__ import annotations

import gzip
import socket
import threading
import time

import pytest
from werkzeug import Response

from feedserver.errors import NotModified, UpstreamError
from feedserver.fetch import FetchSettings, Http, retry_after_seconds


def test_user_agent_names_server_and_conditional_get_round_trip(httpserver, http):
    seen = []

    def handler(request):
        seen.append(request.headers.get("User-Agent"))
        if request.headers.get("If-None-Match") == '"abc"':
            return Response(status=304)
        return Response(
            "BEGIN:VCALENDAR", headers={"ETag": '"abc"', "Last-Modified": "Sat, 21 Nov 2026 10:00:00 GMT"}
        )

    httpserver.expect_request("/cal").respond_with_handler(handler)
    url = httpserver.url_for("/cal")
    assert http.get(url, conditional=True).body == b"BEGIN:VCALENDAR"
    assert http.validators[url] == {"etag": '"abc"', "last_modified": "Sat, 21 Nov 2026 10:00:00 GMT"}
    with pytest.raises(NotModified):
        Http(http.settings, http.validators).get(url, conditional=True)
    assert seen == ["feedserver-tests", "feedserver-tests"]


def test_byte_cap_counts_decompressed_bytes(httpserver):
    bomb = gzip.compress(b"\0" * 5_000_000)  # ~5 KB on the wire
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    small = Http(FetchSettings(allow_networks=("127.0.0.0/8",), max_bytes=1_000_000))
    with pytest.raises(UpstreamError, match="larger than 1000000 bytes"):
        small.get(httpserver.url_for("/bomb"))


def test_total_deadline_cuts_off_a_dripping_server():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def drip():
        connection, _ = listener.accept()
        connection.recv(4096)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        try:
            for _ in range(100):
                connection.sendall(b"x")
                time.sleep(0.2)  # each byte well within the read timeout
        except OSError:
            pass
        connection.close()

    threading.Thread(target=drip, daemon=True).start()
    client = Http(FetchSettings(allow_networks=("127.0.0.0/8",), read_timeout=5, deadline=1.5))
    started = time.monotonic()
    with pytest.raises(UpstreamError, match="no complete response within 1.5 s"):
        client.get(f"http://127.0.0.1:{port}/slow")
    assert time.monotonic() - started < 4
    listener.close()


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_reported(httpserver, http, status):
    httpserver.expect_request("/busy").respond_with_data(
        "busy", status=status, headers={"Retry-After": "120"}
    )
    with pytest.raises(UpstreamError) as caught:
        http.get(httpserver.url_for("/busy"))
    assert caught.value.status == status and caught.value.retry_after == 120


def test_retry_after_http_date():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60
    assert retry_after_seconds("soon") is None


def test_redirects_are_limited(httpserver):
    for n in range(5):
        httpserver.expect_request(f"/r{n}").respond_with_data(
            "", status=302, headers={"Location": f"/r{n + 1}"}
        )
    client = Http(FetchSettings(allow_networks=("127.0.0.0/8",), max_redirects=3))
    with pytest.raises(UpstreamError, match="more than 3 redirects"):
        client.get(httpserver.url_for("/r0"))


def test_redirect_hops_are_checked_again(httpserver, http):
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": "http://10.0.0.1/x"}
    )
    with pytest.raises(UpstreamError, match="not a public address"):
        http.get(httpserver.url_for("/go"))


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]", "192.168.0.10"])
def test_private_and_metadata_addresses_are_refused_by_default(host):
    with pytest.raises(UpstreamError, match="not a public address"):
        Http(FetchSettings()).get(f"http://{host}/feed")


def test_unexpected_content_type_is_an_error(httpserver, http):
    httpserver.expect_request("/page").respond_with_data("<html></html>", content_type="text/html")
    with pytest.raises(UpstreamError, match="unexpected content type 'text/html'"):
        http.get(httpserver.url_for("/page"), expect=("text/calendar",))


def test_file_urls_only_inside_allowed_directories(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "a.ics").write_text("BEGIN:VCALENDAR")
    (tmp_path / "secret.txt").write_text("nope")
    client = Http(FetchSettings(allow_files=(str(allowed),)))
    assert client.get((allowed / "a.ics").as_uri()).body == b"BEGIN:VCALENDAR"
    with pytest.raises(UpstreamError, match="outside the directories"):
        client.get((tmp_path / "secret.txt").as_uri())
    with pytest.raises(UpstreamError, match="outside the directories"):
        client.get((allowed / ".." / "secret.txt").as_uri())


def test_errors_never_leak_query_strings(httpserver, http):
    httpserver.expect_request("/api").respond_with_data("no", status=401)
    with pytest.raises(UpstreamError) as caught:
        http.get(httpserver.url_for("/api") + "?api_key=s3cret")
    assert "s3cret" not in str(caught.value)
