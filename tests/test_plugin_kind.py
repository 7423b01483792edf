"""Sources and kinds are plugins: found through entry points, the way a pip-installed adapter package is."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from feedserver import registry

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
