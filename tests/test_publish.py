"""Static publishing: `feedserver publish DIR` and the automatic mode write every feed in every format
with .gz siblings and nginx-ready validators, atomically, only on change; nginx serves them byte-equal."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import icalendar
import jsonschema
import pytest
import requests
import time_machine
from click.testing import CliRunner
from werkzeug.serving import make_server

from bench import local_nginx
from feedserver.cli import main
from feedserver.export import publish_all
from feedserver.output import publish
from feedserver.push import outbox
from feedserver.scheduler import build_scheduler, publish_due
from tests.conftest import FIXTURES, refresh_feed, write_config
from tests.services import waste_calendar

SCHEMA = json.loads((FIXTURES / "schemas" / "jsonfeed-v1.1.json").read_text())
FORMATS = ("rss", "atom", "json", "ics")
FEED = """
[feeds.waste-static]
source = "ics"
title = "{title}"
every = "1h"
url = "{url}"
"""


class Calendar:
    """An upstream calendar whose content the test can change."""

    def __init__(self, httpserver):
        self.body = waste_calendar(30)
        self.failing = False
        httpserver.expect_request("/cal.ics").respond_with_handler(self.respond)
        self.url = httpserver.url_for("/cal.ics")

    def respond(self, _request):
        from werkzeug import Response

        if self.failing:
            return Response("upstream down", status=503)
        return Response(self.body, content_type="text/calendar; charset=utf-8")


@pytest.fixture
def calendar(httpserver) -> Calendar:
    return Calendar(httpserver)


@pytest.fixture
def build(make_app, calendar):
    """build(title=..., extra=...) -> a fresh app on the same SQLite database, the feed fetched."""

    def make(title: str = "Abfuhr statisch", extra: str = ""):
        app = make_app(FEED.format(title=title, url=calendar.url), extra)
        assert refresh_feed(app, "waste-static").ok
        return app

    return make


def app_response(app, fmt: str):
    return app.test_client().get(f"/feeds/waste-static.{fmt}")


def feed_file(directory: Path, fmt: str) -> Path:
    return directory / "feeds" / f"waste-static.{fmt}"


def check_feed(fmt: str, body: bytes) -> None:
    """The same checks tests/test_feeds.py runs on the app's own responses."""
    if fmt in ("rss", "atom"):
        parsed = feedparser.parse(body)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert parsed.version == ("atom10" if fmt == "atom" else "rss20")
        assert parsed.entries and all(e.id.startswith("urn:uuid:") and e.title for e in parsed.entries)
        assert "dl-de/by-2-0" in (parsed.feed.get("rights") or parsed.feed.get("copyright") or "")
    elif fmt == "json":
        document = json.loads(body)
        jsonschema.validate(document, SCHEMA)
        assert document["items"]
    else:
        events = icalendar.Calendar.from_ical(body).walk("VEVENT")
        assert events and all(e.get("UID") and e.get("DTSTART") for e in events)


def test_publish_writes_every_format_with_gz_sibling_and_the_apps_last_modified(build, tmp_path):
    app = build()
    public = tmp_path / "public"
    with app.app_context():
        report = publish_all(app.extensions["feedserver"], public)
    assert (report.feeds, report.written, report.unchanged) == (1, 8, 0)
    for fmt in FORMATS:
        response = app_response(app, fmt)
        path = feed_file(public, fmt)
        compressed = path.with_name(path.name + ".gz")
        assert path.read_bytes() == response.data
        assert gzip.decompress(compressed.read_bytes()) == response.data
        last_modified = parsedate_to_datetime(response.headers["Last-Modified"]).timestamp()
        assert path.stat().st_mtime == compressed.stat().st_mtime == last_modified
        assert path.stat().st_mode & 0o777 == 0o644
    with app.app_context():
        again = publish_all(app.extensions["feedserver"], public)
    assert (again.written, again.unchanged) == (0, 8)  # nothing rewritten when nothing changed


def test_a_change_replaces_the_files_atomically_and_leaves_no_temporary_files(build, calendar, tmp_path):
    app = build()
    public = tmp_path / "public"
    with app.app_context():
        publish_all(app.extensions["feedserver"], public)
    inodes = {fmt: feed_file(public, fmt).stat().st_ino for fmt in FORMATS}
    calendar.body = waste_calendar(31)  # other pickup days
    assert refresh_feed(app, "waste-static").changes.any
    with app.app_context():
        report = publish_all(app.extensions["feedserver"], public)
    assert report.written == 8
    for fmt in FORMATS:
        assert feed_file(public, fmt).stat().st_ino != inodes[fmt]  # a new file moved in, not rewritten
        assert feed_file(public, fmt).read_bytes() == app_response(app, fmt).data
    assert sorted(p.name for p in (public / "feeds").iterdir() if p.name.startswith(".")) == []


def test_new_bytes_without_a_newer_last_modified_move_the_mtime_so_nginx_etags_change(build, tmp_path):
    first = build(title="Abfuhr alt")
    public = tmp_path / "public"
    with first.app_context():
        publish_all(first.extensions["feedserver"], public)
    before = feed_file(public, "atom").stat().st_mtime
    renamed = build(title="Abfuhr neu")  # a config edit: same data, same Last-Modified, other bytes
    runtime = renamed.extensions["feedserver"]
    with renamed.app_context():
        publish(runtime, runtime.feed("waste-static"), datetime.now(UTC))  # re-render with the new title
        publish_all(runtime, public)
    assert b"Abfuhr neu" in feed_file(public, "atom").read_bytes()
    assert feed_file(public, "atom").stat().st_mtime == before + 1


def test_files_of_feeds_no_longer_configured_are_removed_and_other_files_kept(build, tmp_path):
    app = build()
    public = tmp_path / "public"
    (public / "feeds").mkdir(parents=True)
    for name in ("removed-feed.rss", "removed-feed.rss.gz", "README.txt", "removed-feed.txt"):
        (public / "feeds" / name).write_text("x")
    with app.app_context():
        report = publish_all(app.extensions["feedserver"], public)
    assert report.removed == 2
    assert sorted(p.name for p in (public / "feeds").iterdir() if "static" not in p.name) == [
        "README.txt",
        "removed-feed.txt",
    ]


def test_command_line_publish(build, tmp_path):
    app = build()
    public = tmp_path / "out"
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "config.toml"), "publish", str(public)])
    assert result.exit_code == 0, result.output
    assert "1 feed(s): 8 file(s) written, 0 unchanged, 0 removed" in result.output
    assert feed_file(public, "json").read_bytes() == app_response(app, "json").data


def test_automatic_mode_writes_the_files_when_the_pipeline_publishes(build, calendar, tmp_path):
    public = tmp_path / "auto"
    app = build(extra=f'[publish]\ndir = "{public}"\n')
    for fmt in FORMATS:
        assert feed_file(public, fmt).read_bytes() == app_response(app, fmt).data
    calendar.body = waste_calendar(32)
    assert refresh_feed(app, "waste-static").changes.any
    for fmt in FORMATS:
        assert feed_file(public, fmt).read_bytes() == app_response(app, fmt).data


def test_automatic_mode_follows_a_reminder_falling_due(build, calendar, tmp_path):
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date()
    calendar.body = calendar.body.replace(
        b"END:VCALENDAR",
        f"BEGIN:VEVENT\r\nUID:future\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{tomorrow:%Y%m%d}\r\n"
        "SUMMARY:Sperrmüll\r\nEND:VEVENT\r\nEND:VCALENDAR".encode(),
    )
    public = tmp_path / "auto"
    app = build(extra=f'[publish]\ndir = "{public}"\n')
    assert "Sperrm" not in feed_file(public, "json").read_text()  # its reminder is the evening before
    with time_machine.travel(datetime.now(UTC) + timedelta(days=2), tick=False):
        publish_due(app)  # the worker's one-minute job
    items = json.loads(feed_file(public, "json").read_text())["items"]
    assert items[0]["title"].startswith("Morgen: Sperrm")


def test_serving_a_feed_whose_reminder_fell_due_writes_nothing(build, calendar):
    """A request renders the due view for its own answer; only the publish-due job saves and publishes it."""
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date()
    calendar.body = calendar.body.replace(
        b"END:VCALENDAR",
        f"BEGIN:VEVENT\r\nUID:future\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{tomorrow:%Y%m%d}\r\n"
        "SUMMARY:Sperrmüll\r\nEND:VEVENT\r\nEND:VCALENDAR".encode(),
    )
    app = build()
    store = app.extensions["feedserver"].store
    stored = store.rendition("waste-static", "json").etag
    queued = outbox.pending(store.engine)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=2), tick=False):
        answer = app_response(app, "json")
        assert json.loads(answer.data)["items"][0]["title"].startswith("Morgen: Sperrm")
        assert store.rendition("waste-static", "json").etag == stored  # nothing saved by the request
        assert outbox.pending(store.engine) == queued  # and nothing pushed
        publish_due(app)
        assert store.rendition("waste-static", "json").etag == answer.headers["ETag"]
        assert outbox.pending(store.engine) == queued + 1  # the change event for subscribers


def test_the_publish_due_job_runs_with_or_without_static_files(build):
    job = build_scheduler(build()).get_job("publish-due")
    assert job is not None and job.max_instances == 1 and job.coalesce


def test_stale_feeds_are_left_to_the_app_which_marks_them(build, calendar, tmp_path):
    """A file cannot say `Feedserver-Status: stale`: while the upstream fails the feed has no files (nginx
    passes its URLs to the app), and the first good poll brings them back."""
    public = tmp_path / "auto"
    app = build(extra=f'[publish]\ndir = "{public}"\n')
    assert all(feed_file(public, fmt).is_file() for fmt in FORMATS)
    calendar.failing = True
    assert not refresh_feed(app, "waste-static").ok
    assert sorted((public / "feeds").iterdir()) == []
    assert app_response(app, "atom").headers["Feedserver-Status"].startswith("stale")
    with app.app_context():
        report = publish_all(app.extensions["feedserver"], public)  # the command agrees
    assert (
        report.stale == ["waste-static"] and report.written == 0 and "stale, left to the app" in report.line()
    )
    calendar.failing = False
    assert refresh_feed(app, "waste-static").ok
    for fmt in FORMATS:
        assert feed_file(public, fmt).read_bytes() == app_response(app, fmt).data
        assert "Feedserver-Status" not in app_response(app, fmt).headers


# --- a real nginx with deploy/nginx.conf ---
@pytest.fixture(scope="session")
def nginx_installed() -> str:
    """nginx, installed with apt-get when missing and allowed (root or CI); else the tests are skipped."""
    if local_nginx.nginx_binary() is None and (os.geteuid() == 0 or os.environ.get("CI") == "true"):
        if shutil.which("apt-get"):
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            install = ["apt-get", "install", "-y", "-q", "nginx-light"]
            if subprocess.run(install, env=env, capture_output=True, timeout=300).returncode != 0:
                subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=300)
                subprocess.run(install, env=env, capture_output=True, timeout=300)
    binary = local_nginx.nginx_binary()
    if binary is None:
        reason = "nginx is not installed (apt-get install -y nginx-light)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return binary


@pytest.fixture
def served(build, tmp_path, nginx_installed):
    """(app, nginx base URL): the app behind a real nginx that serves its published files."""
    app = build(extra="")
    public = tmp_path / "public"
    with app.app_context():
        publish_all(app.extensions["feedserver"], public)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = _free_port()
    nginx = local_nginx.start(tmp_path / "nginx", public, port, server.server_port)
    yield app, f"http://127.0.0.1:{port}"
    local_nginx.stop(nginx)
    server.shutdown()


@pytest.mark.parametrize("fmt", FORMATS)
def test_nginx_serves_the_published_feeds_byte_equal_and_valid(served, fmt):
    app, base = served
    own = app_response(app, fmt)
    static = requests.get(f"{base}/feeds/waste-static.{fmt}", headers={"Accept-Encoding": "identity"})
    assert static.status_code == 200
    assert static.content == own.data
    check_feed(fmt, static.content)
    check_feed(fmt, own.data)
    assert static.headers["Content-Type"] == own.headers["Content-Type"]
    assert static.headers["Last-Modified"] == own.headers["Last-Modified"]
    for header in ("X-Content-Type-Options", "Content-Security-Policy", "Access-Control-Allow-Origin"):
        assert static.headers[header] == own.headers[header]
    # nginx's ETag is its own "<mtime>-<size>" (README: the formats differ), Last-Modified is the app's.
    assert static.headers["ETag"] != own.headers["ETag"]
    compressed = requests.get(
        f"{base}/feeds/waste-static.{fmt}", headers={"Accept-Encoding": "gzip"}, stream=True
    )
    assert compressed.headers["Content-Encoding"] == "gzip"  # the .gz sibling, via gzip_static
    assert gzip.decompress(compressed.raw.read()) == own.data
    for conditional in (
        {"If-None-Match": static.headers["ETag"]},
        {"If-Modified-Since": own.headers["Last-Modified"]},
    ):
        conditional["Accept-Encoding"] = (
            "identity"  # the .gz file is another representation, with its own tag
        )
        assert requests.get(f"{base}/feeds/waste-static.{fmt}", headers=conditional).status_code == 304
    gz_tag = compressed.headers["ETag"]
    assert (
        requests.get(f"{base}/feeds/waste-static.{fmt}", headers={"If-None-Match": gz_tag}).status_code == 304
    )


def test_nginx_hands_filters_pages_and_unknown_feeds_to_the_app(served):
    app, base = served
    filtered = requests.get(f"{base}/feeds/waste-static.json?category=organic")
    assert filtered.status_code == 200
    assert (
        filtered.headers["ETag"]
        == app.test_client().get("/feeds/waste-static.json?category=organic").headers["ETag"]
    )
    assert {t for i in filtered.json()["items"] for t in i["tags"]} == {"organic"}
    assert requests.get(f"{base}/feeds/waste-static").headers["Content-Type"].startswith("text/html")
    missing = requests.get(f"{base}/feeds/nope.rss")
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"


def test_through_nginx_a_stale_feed_is_answered_by_the_app_with_its_mark(
    build, calendar, tmp_path, nginx_installed
):
    public = tmp_path / "auto"
    app = build(extra=f'[publish]\ndir = "{public}"\n')
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = _free_port()
    nginx = local_nginx.start(tmp_path / "nginx", public, port, server.server_port)
    url = f"http://127.0.0.1:{port}/feeds/waste-static.atom"
    try:
        fresh = requests.get(url, headers={"Accept-Encoding": "identity"})
        assert fresh.headers["ETag"] != app_response(app, "atom").headers["ETag"]  # nginx's own: the file
        calendar.failing = True
        assert not refresh_feed(app, "waste-static").ok
        stale = requests.get(url)
        assert stale.status_code == 200 and stale.content == fresh.content
        assert stale.headers["Feedserver-Status"].startswith("stale")
        assert stale.headers["ETag"] == app_response(app, "atom").headers["ETag"]  # the app answered
    finally:
        local_nginx.stop(nginx)
        server.shutdown()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_example_config_is_valid_nginx(tmp_path, nginx_installed):
    work = tmp_path / "check"
    work.mkdir()
    (work / "feedserver.conf").write_text(local_nginx.site_config(tmp_path, 8080, 8000))
    (work / "nginx.conf").write_text(local_nginx.MAIN.format(work=work, workers=1, user=""))
    result = subprocess.run(
        [nginx_installed, "-t", "-p", str(work), "-c", str(work / "nginx.conf"), "-e", str(work / "e.log")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_publish_dir_relative_to_the_config_file(tmp_path):
    from feedserver.config import load

    config = write_config(tmp_path, "", '[publish]\ndir = "public"\n')
    assert load(config).publish.dir == str((tmp_path / "public").resolve())
    assert load(write_config(tmp_path, "")).publish.dir is None


def test_unwritable_publish_dir_does_not_fail_the_refresh(build, tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    app = build(extra=f'[publish]\ndir = "{blocker}"\n')  # refresh inside build() must still succeed
    assert app_response(app, "atom").status_code == 200
