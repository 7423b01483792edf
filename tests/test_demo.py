"""The demo: the shipped config.toml shows current data of every kind, in any year, through the real adapters.

The demo upstream replays recorded payloads over HTTP on 127.0.0.1 with their times moved to now; the app
fetches them through the production client (SSRF guard, deadline, conditional GET) and pipeline. Time is
travelled with time_machine, which the upstream's thread sees too; a subprocess test runs `feedserver serve`
under libfaketime where it is installed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tomllib
import urllib.request
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from feedserver import demo
from feedserver.app import create_app
from feedserver.config import from_mapping, load
from feedserver.demo import calendars, cap, gtfs_rt, uba
from feedserver.demo.desk import ACCOUNTS
from feedserver.desk import records
from feedserver.desk.access import Access
from feedserver.errors import ConfigError, UpstreamError
from feedserver.fetch import Http
from feedserver.netguard import AddressPolicy
from feedserver.pipeline import refresh
from tests.services import wait_for

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "config.toml"
RECORDED = ROOT / "feedserver" / "data" / "demo"
DATES = [
    datetime(2027, 3, 15, 9, 41, tzinfo=UTC),  # a Monday morning in winter time
    datetime(2028, 7, 1, 22, 5, tzinfo=UTC),  # a Saturday night in summer time, leap year
    datetime(2030, 12, 31, 23, 30, tzinfo=UTC),  # the last half hour of a year
]
WASTE = ("waste-dornburg", "waste-erlensee", "waste-aichwald")


def shipped_settings(tmp_path: Path):
    """The shipped config.toml as it is, on a database in tmp_path."""
    return replace(load(SHIPPED), storage_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}")


@pytest.fixture
def demo_app(tmp_path):
    """Start the demo of the shipped config (upstream, app, desk) at the travelled time; stop it after."""
    runs = []

    def start(now: datetime):
        run = demo.start(shipped_settings(tmp_path))
        runs.append(run)
        app = create_app(run.settings)
        lines = demo.welcome(app, run, now)
        runtime = app.extensions["feedserver"]
        with app.app_context():
            results = [refresh(runtime, feed_id, respect_backoff=False) for feed_id in runtime.settings.feeds]
        assert [r.line() for r in results if not r.ok] == []
        return app, run, lines

    yield start
    for run in runs:
        run.stop()


def api(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_json()["data"]


def items(client, feed_id: str) -> list[dict]:
    return api(client, f"/api/v1/feeds/{feed_id}/items?limit=200")


@pytest.mark.parametrize("now", DATES, ids=lambda d: d.strftime("%Y-%m-%d"))
def test_every_kind_has_current_items_in_any_year(demo_app, now):
    with time_machine.travel(now, tick=False):
        app, run, lines = demo_app(now)
        client = app.test_client()
        feeds = app.extensions["feedserver"].settings.feeds
        assert all(  # the real adapters fetch over HTTP from the demo upstream, not from files
            value.startswith(run.upstream.base_url + "/")
            for feed in feeds.values()
            for name, value in feed.options.items()
            if name.endswith("url")
        )

        for feed_id in WASTE:  # upcoming pickups, weekdays as recorded (checked in the calendar test)
            pickups = api(client, f"/api/v1/feeds/{feed_id}")["next_pickups"]
            assert pickups, feed_id
            assert all(date.fromisoformat(p["date"]) >= now.date() - timedelta(days=1) for p in pickups)
            assert min(date.fromisoformat(p["date"]) for p in pickups) <= now.date() + timedelta(days=31)
            assert "BEGIN:VEVENT" in client.get(f"/feeds/{feed_id}.ics").get_data(as_text=True)

        readings = api(client, "/api/v1/feeds/luft-neukoelln")["readings"]
        assert {r["component"] for r in readings} == {"o3", "no2", "pm10"}
        for reading in readings + api(client, "/api/v1/feeds/ozon-revin")["readings"]:
            measured = datetime.fromisoformat(reading["measured_at"])
            assert now - timedelta(hours=2) < measured <= now and not reading["stale"]
        episode = [i for i in items(client, "ozon-revin") if i["data"].get("level") == "info"]
        assert episode and all(i["data"]["value"] > 180 for i in episode)
        assert all(now - timedelta(hours=49) <= datetime.fromisoformat(i["starts"]) < now for i in episode)

        delays = api(client, "/api/v1/feeds/bart")["delays"]
        assert len(delays) >= 10 and max(d["delay_minutes"] for d in delays) >= 30
        for delay in delays:  # departures around now, as when the trip updates were recorded
            scheduled = datetime.fromisoformat(delay["scheduled"])
            assert now - timedelta(hours=2) < scheduled < now + timedelta(hours=2)
        assert any(i["data"]["type"] == "alert" for i in items(client, "bart"))

        warnings = items(client, "warnungen-dwd") + items(client, "cap-examples")
        types = {i["data"]["msg_type"] for i in warnings}
        assert {"Alert", "Update", "Cancel"} <= types
        assert any(i["title"] == "All clear" for i in warnings)
        in_force = api(client, "/api/v1/feeds/warnungen-dwd")["alerts"]
        assert len(in_force) == 3 and "STARKREGEN" in {a["event"] for a in in_force}

        announcements = items(client, "presse")
        assert len(announcements) >= 4
        assert all(datetime.fromisoformat(i["published"]) <= now for i in announcements)


def test_demo_accounts_log_in_with_the_printed_passwords(demo_app):
    now = DATES[0]
    with time_machine.travel(now, tick=False):
        app, _, lines = demo_app(now)
        login = next(line for line in lines if "log in" in line)
        assert "/admin" in login and app.extensions["feedserver"].settings.server.secret_key
        access = Access(app.extensions["feedserver"])
        for name, role in ACCOUNTS:
            password = login.split(f"{role} {name} / ")[1].split(",")[0].split(" ")[0]
            assert access.login(name, password, "127.0.0.1", "pytest", now)
        assert client_status(app, "/admin/login") == 200


def client_status(app, path: str) -> int:
    return app.test_client().get(path).status_code


def test_every_demo_run_has_its_own_secret_and_passwords(tmp_path):
    first = demo.start(shipped_settings(tmp_path))
    second = demo.start(shipped_settings(tmp_path))
    try:
        assert load(SHIPPED).server.secret_key is None  # nothing shipped
        assert first.settings.server.secret_key != second.settings.server.secret_key
        assert len(first.settings.server.secret_key) >= 32
    finally:
        first.stop()
        second.stop()


def test_no_demo_accounts_without_demo(tmp_path):
    """A config without [demo] has no demo accounts, and disables the ones an earlier demo left behind."""
    raw = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    raw.pop("demo")
    raw["feeds"] = {"presse": raw["feeds"]["presse"]}
    raw["storage"] = {"url": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    plain = create_app(from_mapping(raw, str(SHIPPED)))
    engine = plain.extensions["feedserver"].store.engine
    with engine.connect() as connection:
        assert records.all_users(connection) == []
    assert client_status(plain, "/admin/login") == 503  # no secret key: no desk at all

    run = demo.start(shipped_settings(tmp_path))  # a demo on the same database makes the accounts
    try:
        demo.welcome(create_app(run.settings), run, datetime.now(UTC))
    finally:
        run.stop()
    assert sorted(demo.retire(plain, datetime.now(UTC))) == sorted(name for name, _ in ACCOUNTS)
    with engine.connect() as connection:
        assert not any(u.active for u in records.all_users(connection))
    assert demo.retire(plain, datetime.now(UTC)) == []


def test_demo_urls_need_the_demo_table(tmp_path):
    raw = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    raw.pop("demo")
    with pytest.raises(ConfigError) as failure:
        from_mapping(raw, "config.toml")
    assert str(failure.value).startswith("config.toml: feeds.waste-dornburg.url: demo: URLs need [demo]")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "localhost", "example.org"])
def test_the_demo_upstream_refuses_to_listen_beyond_loopback(host):
    with pytest.raises(demo.DemoError, match="loopback"):
        demo.DemoUpstream(host).start()
    raw = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    raw["demo"]["host"] = host
    with pytest.raises(ConfigError) as failure:
        from_mapping(raw, "config.toml")
    assert str(failure.value).startswith("config.toml: demo.host: must be a loopback")


def test_the_fetch_client_may_reach_the_demo_upstream_and_nothing_else_local(tmp_path):
    run = demo.start(shipped_settings(tmp_path))
    with socket.socket() as other:  # another service on the same loopback address
        other.bind(("127.0.0.1", 0))
        other.listen()
        other_port = other.getsockname()[1]
        try:
            http = Http(run.settings.fetch)
            assert http.get(run.upstream.base_url + "/waste/erlensee.ics").body.startswith(b"BEGIN:VCALENDAR")
            with pytest.raises(UpstreamError, match="not a public address"):
                http.get(f"http://127.0.0.1:{other_port}/")
            assert run.settings.fetch.allow_networks == ()
            policy = AddressPolicy.from_networks((), run.settings.fetch.allow_endpoints)
            loopback = ipaddress.ip_address("127.0.0.1")
            assert policy.permits(loopback, run.upstream.port)
            assert not policy.permits(loopback, other_port) and not policy.permits(loopback)
            assert policy.refusal(f"http://127.0.0.1:{other_port}/x") is not None
            assert policy.refusal(f"{run.upstream.base_url}/x") is None
        finally:
            run.stop()


# --- the replays, one by one ----------------------------------------------------------------------------
def test_calendar_replay_keeps_weekdays_and_fills_the_coming_year():
    recorded = (ROOT / "feedserver/data/samples/abfallplus_aichwald_test.ics").read_bytes()
    for today in (date(2027, 1, 1), date(2029, 6, 30)):
        replayed = calendars.replay_calendar(recorded, today)
        before = [calendars._day(m[3]) for m in map(calendars.DATED.match, recorded.splitlines()) if m]
        after = [calendars._day(m[3]) for m in map(calendars.DATED.match, replayed.splitlines()) if m]
        assert len(before) == len(after) and replayed.count(b"BEGIN:VEVENT") == 112
        assert [d.weekday() for d in before] == [d.weekday() for d in after]
        assert all(today - timedelta(weeks=4) <= d < today + timedelta(weeks=48) for d in after)
        short = (ROOT / "feedserver/data/samples/awb_limburg_weilburg_export.ics").read_bytes()
        assert calendars.repeat_period(short) == timedelta(weeks=28)  # 25 June to 31 December
        dornburg = calendars.replay_calendar(short, today)
        days = sorted(
            calendars._day(m[3])
            for m in map(calendars.DATED.match, dornburg.splitlines())
            if m and m[1] == b"DTSTART"
        )
        assert today - timedelta(weeks=4) <= days[0] and days[-1] < today + timedelta(weeks=24)
        assert max(b - a for a, b in zip(days, days[1:], strict=False)) <= timedelta(weeks=3)
        # the same pickups the next day: only those at the window's edges change
        next_day = calendars.replay_calendar(recorded, today + timedelta(days=1))
        later = [calendars._day(m[3]) for m in map(calendars.DATED.match, next_day.splitlines()) if m]
        assert {d for d in after if d >= today} <= set(later)


def test_uba_replay_is_the_last_48_complete_hours():
    recorded = json.loads((RECORDED / "uba/uba_v2_airquality_station145_2024-01-01.json").read_text())
    now = datetime(2029, 3, 31, 0, 20, tzinfo=UTC)  # 01:20 CET: the last complete hour ends at 01:00 CET
    hours = json.loads(uba.airquality(recorded, now))["data"]["145"]
    assert len(hours) == 48
    assert list(hours)[-1] == "2029-03-31 00:00:00"
    assert hours["2029-03-31 00:00:00"][0] == "2029-03-31 01:00:00"
    assert hours["2029-03-30 23:00:00"][0] == "2029-03-30 24:00:00"
    again = json.loads(uba.airquality(recorded, now + timedelta(hours=1)))["data"]["145"]
    assert again["2029-03-30 23:00:00"] == hours["2029-03-30 23:00:00"]  # an hour keeps its value


def test_ebas_ozone_week_crosses_the_information_threshold_on_six_days():
    values = uba.ebas_values((RECORDED / "uba/FR0009R_ozone_2003-08-05_to_11.nas").read_text())
    assert len(values) == 7 * 24 and values.count(None) == 1
    daily_max = [max(v for v in values[day * 24 : day * 24 + 24] if v is not None) for day in range(7)]
    assert daily_max == [214, 189, 212, 239, 176, 207, 212]


def test_gtfs_rt_replay_moves_every_timestamp_by_the_same_minutes():
    from google.transit import gtfs_realtime_pb2 as rt

    body = (RECORDED / "gtfs_rt/bart-trip-updates.pb").read_bytes()
    now = datetime(2028, 2, 29, 12, 34, 56, tzinfo=UTC)
    before, after = rt.FeedMessage(), rt.FeedMessage()
    before.ParseFromString(body)
    after.ParseFromString(gtfs_rt.replay_feed(body, now))
    assert after.header.timestamp == int(datetime(2028, 2, 29, 12, 34, tzinfo=UTC).timestamp())
    delta = after.header.timestamp - before.header.timestamp
    old = before.entity[0].trip_update.stop_time_update[0]
    new = after.entity[0].trip_update.stop_time_update[0]
    assert new.departure.time - old.departure.time == delta and new.departure.delay == old.departure.delay
    assert gtfs_rt.replay_feed(body, now + timedelta(seconds=3)) == gtfs_rt.replay_feed(body, now)


def test_cap_replay_sends_at_the_start_of_the_hour_with_distances_kept():
    body = (RECORDED / "cap/cap12_appendix_a2.xml").read_bytes()
    replayed = cap.replay_document(body, datetime(2030, 5, 1, 10, 59, tzinfo=UTC))
    assert cap.sent(replayed) == datetime(2030, 5, 1, 10, 0, tzinfo=UTC)
    assert b"<sent>2030-05-01T03:00:00-07:00</sent>" in replayed
    assert b"<expires>2030-05-01T04:03:00-07:00</expires>" in replayed  # 63 minutes after, as recorded


# --- the real command under libfaketime ---------------------------------------------------------------------
@pytest.mark.skipif(not shutil.which("faketime"), reason="libfaketime's `faketime` is not installed")
def test_feedserver_serve_under_faketime_2029_shows_current_feeds(tmp_path):
    config = tmp_path / "config.toml"
    text = SHIPPED.read_text(encoding="utf-8")
    config.write_text(text.replace('"sqlite:///var/feedserver.sqlite3"', f'"sqlite:///{tmp_path}/f.sqlite3"'))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = ["faketime", "2029-08-07 14:00:00", sys.executable, "-m", "feedserver", "--config", str(config)]
    # Only the wall clock is faked: timed waits (the scheduler's) need the real monotonic clock.
    environment = {**os.environ, "DONT_FAKE_MONOTONIC": "1"}
    log = tmp_path / "serve.log"
    with open(log, "wb") as output:  # its own process group: faketime runs the server as its child
        process = subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: b"demo: log in" in log.read_bytes(), 60, what="the demo's start-up lines")

        def every_feed_polled():
            feeds = json.load(urllib.request.urlopen(f"{base}/api/v1/status", timeout=5))["data"]
            return all(f["last_success"] for f in feeds)

        wait_for(every_feed_polled, 90, step=0.5, what="every feed's first poll")
        document = json.load(urllib.request.urlopen(f"{base}/api/v1/feeds/waste-erlensee", timeout=5))
        pickups = document["data"]["next_pickups"]
        assert pickups and all(p["date"] >= "2029-08-06" for p in pickups)
        delays = json.load(urllib.request.urlopen(f"{base}/api/v1/feeds/bart", timeout=5))["data"]["delays"]
        assert delays and all(d["scheduled"].startswith("2029-08-07") for d in delays)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert b"Traceback" not in log.read_bytes()
