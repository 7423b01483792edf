"""Sources and kinds are plugins: found through entry points, the way a pip-installed adapter package is."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
import time_machine

from feedserver import registry
from feedserver.errors import ConfigError
from feedserver.i18n import catalog
from tests.conftest import refresh_feed

ROOT = Path(__file__).parent.parent


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """Install a plugin distribution as pip would: a *.dist-info with METADATA and entry_points.txt."""

    def install(name: str, groups: dict[str, dict[str, str]]) -> None:
        dist = tmp_path / "site" / f"{name}-1.0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines = []
        for group, entries in groups.items():
            lines += [f"[{group}]"] + [f"{key} = {value}" for key, value in entries.items()] + [""]
        (dist / "entry_points.txt").write_text("\n".join(lines))
        monkeypatch.syspath_prepend(str(tmp_path / "site"))
        registry.clear_caches()

    yield install
    registry.clear_caches()


def test_builtin_plugins_are_the_ones_pyproject_declares():
    """The built-in list in the registry and the entry points an install of this project exposes agree."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    for group, entries in registry.BUILTIN.items():
        assert declared.get(group, {}) == entries


def test_every_module_of_sources_is_registered():
    modules = {p.stem for p in (ROOT / "sources").glob("*.py") if not p.stem.startswith("_")}
    assert modules - {"__init__"} == set(registry.BUILTIN[registry.SOURCES])


def test_an_installed_source_is_found(install_plugin):
    install_plugin("feedserver-extra", {registry.SOURCES: {"extra_ics": "sources.ics"}})
    assert "extra_ics" in registry.source_kinds()
    assert registry.load_source("extra_ics").KIND == "waste"


def test_a_plugin_may_not_take_a_builtin_name(install_plugin):
    install_plugin("feedserver-evil", {registry.SOURCES: {"ics": "sources.csv"}})
    with pytest.raises(registry.PluginError, match="'ics' is claimed by sources.ics and by sources.csv"):
        registry.source_kinds()


def test_unknown_names_are_key_errors():
    for name in ("nope", "_cap_common", "../ics", ""):
        with pytest.raises(KeyError):
            registry.load_source(name)


NOISE = {
    "readings": [
        {"sensor": "s1", "place": "Marktplatz", "at": "2026-03-02T09:00:00+01:00", "db": 71.5},
        {"sensor": "s2", "place": "Schulstraße", "at": "2026-03-02T09:00:00+01:00", "db": 48},
    ]
}
NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


@pytest.fixture
def noise_app(install_plugin, make_app, httpserver):
    """A server whose config names a source and a kind that only the test suite defines."""
    install_plugin(
        "feedserver-noise",
        {
            registry.SOURCES: {"noise": "tests.noise_plugin"},
            registry.KINDS: {"noise": "tests.noise_plugin:NOISE"},
        },
    )
    httpserver.expect_request("/noise.json").respond_with_json(NOISE)
    table = f"""
[feeds.laerm]
source = "noise"
title = "Lärm in der Innenstadt"
every = "5m"
url = "{httpserver.url_for("/noise.json")}"
"""
    app = make_app(table)
    with time_machine.travel(NOW, tick=False):
        result = refresh_feed(app, "laerm")
    assert result.ok, result.error
    return app


def get(app, path: str):
    with time_machine.travel(NOW, tick=False):
        return app.test_client().get(path)


def test_a_plugin_kind_is_found_with_its_source(noise_app):
    assert "noise" in registry.kind_names() and "noise" in registry.source_kinds()
    assert registry.load_kind("noise").filters.keys() == {"min_db"}


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_a_plugin_kind_gets_feeds(noise_app, fmt):
    response = get(noise_app, f"/feeds/laerm.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        titles = [item["title"] for item in response.get_json()["items"]]
    else:
        parsed = feedparser.parse(response.data)
        assert not parsed.bozo, parsed.bozo_exception
        titles = [entry.title for entry in parsed.entries]
    assert sorted(titles) == ["Marktplatz: 71.5 dB(A)", "Schulstraße: 48 dB(A)"]


def test_a_plugin_kind_is_no_calendar_and_its_filter_works(noise_app):
    assert get(noise_app, "/feeds/laerm.ics").status_code == 404
    loud = get(noise_app, "/feeds/laerm.json?min_db=60").get_json()["items"]
    assert [item["title"] for item in loud] == ["Marktplatz: 71.5 dB(A)"]


def test_a_plugin_kind_gets_api_items(noise_app):
    response = get(noise_app, "/api/v1/feeds/laerm/items")
    assert response.status_code == 200
    items = response.get_json()["data"]
    assert {item["area"] for item in items} == {"Marktplatz", "Schulstraße"}
    assert get(noise_app, "/api/v1/feeds/laerm").get_json()["data"]["kind"] == "noise"


def test_a_plugin_kind_gets_a_widget(noise_app):
    response = get(noise_app, "/widgets/laerm?lang=de&view=latest")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Neueste Meldungen" in page and "Marktplatz: 71.5 dB(A)" in page


def test_a_plugin_kind_brings_its_own_widget_view_words_and_script(noise_app):
    page = get(noise_app, "/widgets/laerm?lang=de").get_data(as_text=True)
    assert 'class="fsw fsw-compact fsw-noise"' in page
    assert '<p class="fsw-noise">Am lautesten: <strong>MARKTPLATZ</strong></p>' in page
    assert "Loudest: <strong>MARKTPLATZ" in get(noise_app, "/widgets/laerm?lang=en").get_data(as_text=True)
    script = get(noise_app, "/widget.js").get_data(as_text=True)
    assert "VIEW.noise = " in script and '"noise":{"view":"noise","fields":["loudest"]}' in script
    assert '"loudest":"Am lautesten"' in script
    builder = get(noise_app, "/?w_feed=laerm").get_data(as_text=True)
    assert 'height="200"' in builder


def test_a_plugin_kind_adds_its_fields_to_the_api_and_its_document(noise_app):
    assert get(noise_app, "/api/v1/feeds/laerm").get_json()["data"]["loudest"] == "Marktplatz"
    detail = get(noise_app, "/openapi.json").get_json()["components"]["schemas"]["FeedDetail"]
    assert detail["properties"]["loudest"]["description"] == "Noise feeds: the loudest."
    assert list(detail["properties"])[-6:] == [
        "next_pickups",
        "readings",
        "delays",
        "alerts",
        "requests",
        "loudest",
    ]


def test_a_source_of_an_unknown_kind_is_a_config_error(install_plugin, make_app):
    install_plugin("feedserver-orphan", {registry.SOURCES: {"orphan": "tests.noise_plugin"}})
    # The source says KIND = "noise", but no kind plugin of that name is installed.
    with pytest.raises(ConfigError, match="kind 'noise', which no installed plugin provides"):
        make_app('[feeds.x]\nsource = "orphan"\ntitle = "X"\nurl = "http://127.0.0.1:1/x.json"\n')


def test_a_plugin_kinds_words_come_from_its_own_catalog(noise_app):
    """Its msgids are English; German comes from the catalog it ships (tests/noise_plugin_translations), which
    the server's own catalog does not contain."""
    assert catalog("de").gettext("Loudest") == "Loudest"  # not the server's word
    german, english = (get(noise_app, f"/?lang={lang}").get_data(as_text=True) for lang in ("de", "en"))
    assert '<h3 id="topic-noise">Lärm</h3>' in german and '<h3 id="topic-noise">Noise</h3>' in english
    script = get(noise_app, "/widget.js").get_data(as_text=True)
    assert '"noise":"Lärm jetzt"' in script and '"noise":"Noise now"' in script
    assert "Überall ruhig." in script and "Quiet everywhere." in script
