"""A bad config names file, key and problem in one line, and nothing starts."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from feedserver.cli import main
from feedserver.config import BUNDLED_SAMPLES, listening_at, load
from feedserver.errors import ConfigError
from tests.conftest import write_config
from tests.services import feedserver_process

GOOD_FEED = """
[feeds.waste-a]
source = "ics"
title = "A"
url = "https://example.org/a.ics"
"""


@pytest.mark.parametrize(
    "feeds,extra,key,problem",
    [
        (
            GOOD_FEED.replace('title = "A"', 'title = "A"\ncolour = "red"'),
            "",
            "feeds.waste-a.colour",
            "unknown field",
        ),
        (
            GOOD_FEED.replace('source = "ics"', 'source = "nope"'),
            "",
            "feeds.waste-a.source",
            "unknown source kind",
        ),
        (GOOD_FEED.replace("waste-a", "Waste_A"), "", "feeds.Waste_A", "invalid feed id"),
        (GOOD_FEED + 'every = "soon"\n', "", "feeds.waste-a.every", "not an interval"),
        (GOOD_FEED + 'every = "5s"\n', "", "feeds.waste-a.every", "between"),
        (GOOD_FEED.replace('url = "https://example.org/a.ics"', ""), "", "feeds.waste-a.url", "missing"),
        (
            GOOD_FEED.replace("https://example.org/a.ics", "ftp://example.org/a.ics"),
            "",
            "feeds.waste-a.url",
            "must be a url",
        ),
        (GOOD_FEED + 'reminder = "25:00"\n', "", "feeds.waste-a.reminder", "time of day"),
        (GOOD_FEED + 'timezone = "Mars/Base"\n', "", "feeds.waste-a.timezone", "unknown time zone"),
        (
            GOOD_FEED + 'categories = { "Tonne" = "compost" }\n',
            "",
            "feeds.waste-a.categories.Tonne",
            "must be one of",
        ),
        (GOOD_FEED, "[cache]\ntype = 'Memcached'\n", "cache.type", "must be one of"),
        (GOOD_FEED, "[fetch]\nallow_networks = ['not-a-net']\n", "fetch.allow_networks", "not a network"),
        (GOOD_FEED, "[bogus]\nx = 1\n", "bogus", "unknown section"),
        (GOOD_FEED + "max_items = 0\n", "", "feeds.waste-a.max_items", "greater than or equal"),
        (GOOD_FEED + 'place = ""\n', "", "feeds.waste-a.place", "place name of 1 to 100"),
        (GOOD_FEED + 'place = "Erlen\\nsee"\n', "", "feeds.waste-a.place", "on one line"),
        (GOOD_FEED + "place = 3\n", "", "feeds.waste-a.place", "not a valid string"),
        (GOOD_FEED, '[desk]\nsession_idle = "9h"\n', "desk.session_idle", "longer than session_lifetime"),
        (GOOD_FEED, '[desk]\nsession_lifetime = "soon"\n', "desk.session_lifetime", "not an interval"),
        (GOOD_FEED, '[desk]\nlockout = "2h"\nlockout_max = "1h"\n', "desk.lockout", "lockout_max"),
        (GOOD_FEED, "[desk]\nlogin_failures = 0\n", "desk.login_failures", "greater than or equal"),
        (GOOD_FEED, "[desk]\nsessions = 3\n", "desk.sessions", "unknown field"),
        (
            GOOD_FEED,
            "[activitypub]\ninbox_rate_limit = 'lots'\n",
            "activitypub.inbox_rate_limit",
            "must be a rate",
        ),
        (
            GOOD_FEED,
            "[activitypub]\ninbox_queue_limit = 5\n",
            "activitypub.inbox_queue_limit",
            "greater than",
        ),
    ],
)
def test_bad_config_names_file_key_and_problem(tmp_path, feeds, extra, key, problem):
    # [fetch] is already in the template; a second [fetch] table would be a TOML error, so swap it in.
    path = write_config(tmp_path, feeds, extra)
    if extra.startswith("[fetch]"):
        text = path.read_text().replace('[fetch]\nallow_networks = ["127.0.0.0/8"]\ndeadline = 10\n', "")
        path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    error = caught.value
    assert error.file == str(path) and error.key == key
    assert problem in error.problem.lower(), error.problem
    assert "\n" not in str(error)


def test_desk_defaults_and_overrides(tmp_path):
    desk = load(write_config(tmp_path, GOOD_FEED)).desk
    assert (desk.session_idle, desk.session_lifetime) == (30 * 60, 8 * 3600)
    assert (desk.account.failures, desk.address.failures, desk.account.window) == (5, 20, 15 * 60)
    assert [desk.account.lock_seconds(n) for n in (1, 2, 3, 30)] == [60, 120, 240, 86400]
    extra = '[desk]\nsession_idle = "10m"\nsession_lifetime = "1h"\nlogin_failures = 3\nlockout = "5m"\n'
    desk = load(write_config(tmp_path, GOOD_FEED, extra)).desk
    assert (desk.session_idle, desk.session_lifetime, desk.account.failures) == (600, 3600, 3)
    assert desk.address.lock_seconds(2) == 600


def test_toml_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(path)


def test_secret_must_be_an_env_reference(tmp_path, monkeypatch):
    feeds = """
[feeds.air]
source = "openaq"
title = "Air"
location_id = 2178
api_key = "literal-key"
"""
    with pytest.raises(ConfigError) as caught:
        load(write_config(tmp_path, feeds))
    assert caught.value.key == "feeds.air.api_key" and "env" in caught.value.problem
    monkeypatch.setenv("OPENAQ_KEY", "s3cret")
    settings = load(write_config(tmp_path, feeds.replace('"literal-key"', '{ env = "OPENAQ_KEY" }')))
    assert settings.feeds["air"].options["api_key"] == "s3cret"


@pytest.mark.parametrize("command", [["check"], ["serve", "--port", "0"], ["fetch"], ["worker"]])
def test_cli_refuses_bad_config_with_exit_2_and_one_line(tmp_path, command):
    path = write_config(tmp_path, GOOD_FEED + 'every = "never"\n')
    result = CliRunner().invoke(main, ["--config", str(path), *command])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [
        f"error: {path}: feeds.waste-a.every: not an interval: 'never' (use e.g. 90s, 30m, 6h, 1d)"
    ]


def test_cli_check_accepts_good_config(tmp_path):
    result = CliRunner().invoke(main, ["--config", str(write_config(tmp_path, GOOD_FEED)), "check"])
    assert result.exit_code == 0 and "ok, 1 feed(s)" in result.output


def test_cli_fetch_prints_one_line_per_feed_and_exits_1_on_failure(tmp_path, httpserver, fixture_bytes):
    httpserver.expect_request("/good.ics").respond_with_data(
        fixture_bytes("ics/erlensee_am_haspel_mh-online.ics"), content_type="text/calendar"
    )
    httpserver.expect_request("/bad.ics").respond_with_data("nope", status=404)
    feeds = GOOD_FEED.replace(
        "https://example.org/a.ics", httpserver.url_for("/good.ics")
    ) + GOOD_FEED.replace("waste-a", "waste-b").replace(
        "https://example.org/a.ics", httpserver.url_for("/bad.ics")
    )
    result = CliRunner().invoke(main, ["--config", str(write_config(tmp_path, feeds)), "fetch"])
    assert result.exit_code == 1
    assert "waste-a: ok, 133 new, 0 changed, 0 gone" in result.output
    assert "waste-b: FAILED: UpstreamError: HTTP 404" in result.output


def test_cli_sources_lists_kinds_and_options():
    result = CliRunner().invoke(main, ["sources"])
    assert result.exit_code == 0
    assert "ics  (waste) iCalendar waste calendar" in result.output and "reminder" in result.output


def test_check_reports_a_misspelt_file_path_with_its_key(tmp_path):
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "abfall.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    feeds = GOOD_FEED.replace('"https://example.org/a.ics"', '"file:samples/abfal.ics"')
    path = write_config(tmp_path, feeds, '[fetch]\nallow_files = ["samples"]\n')
    path.write_text(
        path.read_text().replace('[fetch]\nallow_networks = ["127.0.0.0/8"]\ndeadline = 10\n', "")
    )
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 2
    assert f"{path}: feeds.waste-a.url: file not found: {tmp_path / 'samples' / 'abfal.ics'}" in result.output
    path.write_text(path.read_text().replace("abfal.ics", "abfall.ics"))
    assert CliRunner().invoke(main, ["--config", str(path), "check"]).exit_code == 0


def test_a_file_outside_the_allowed_directories_is_refused_at_load(tmp_path):
    feeds = GOOD_FEED.replace('"https://example.org/a.ics"', '"file:///etc/hostname"')
    with pytest.raises(ConfigError) as caught:
        load(write_config(tmp_path, feeds))
    assert caught.value.key == "feeds.waste-a.url" and "allow_files" in caught.value.problem


def test_base_url_follows_the_listening_port_unless_the_config_names_one(tmp_path):
    path = write_config(tmp_path, GOOD_FEED)
    named = load(path)
    assert listening_at(named, "127.0.0.1", 8080).server.base_url == "http://127.0.0.1:8000"
    path.write_text(path.read_text().replace('base_url = "http://127.0.0.1:8000"\n', ""))
    unnamed = load(path)
    assert listening_at(unnamed, "127.0.0.1", 8080).server.base_url == "http://127.0.0.1:8080"
    assert listening_at(unnamed, "0.0.0.0", 8081).server.base_url == "http://127.0.0.1:8081"
    assert listening_at(unnamed, "::1", 8082).server.base_url == "http://[::1]:8082"


def test_serve_on_a_busy_port_says_so_in_one_line_and_exits_1(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = feedserver_process(write_config(tmp_path, GOOD_FEED), "serve", "--port", str(port))
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    errors = [line for line in output.decode().splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use; choose another --port"
    ]
    assert "Traceback" not in output.decode()


def test_the_bundled_samples_are_where_the_default_allow_files_points():
    assert (BUNDLED_SAMPLES / "abfallplus_aichwald_test.ics").is_file()


def test_place_is_a_common_key_and_still_reaches_a_source_that_takes_one(tmp_path):
    abfallnavi = '[feeds.waste-b]\nsource = "abfallnavi"\ntitle = "B"\nservice = "aachen"\nplace = "Aachen"\n'
    abfallnavi += 'street = "Abteiplatz"\nhouse_number = "7"\n'
    settings = load(write_config(tmp_path, GOOD_FEED + 'place = " Erlensee "\n' + abfallnavi))
    assert settings.feeds["waste-a"].place == "Erlensee" and "place" not in settings.feeds["waste-a"].options
    aachen = settings.feeds["waste-b"]
    assert aachen.place == "Aachen" and aachen.options["place"] == "Aachen"
