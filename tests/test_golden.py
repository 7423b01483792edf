"""Golden files (issue 17): every feed, in every format and filter, byte for byte as today's code serves it.

A refactoring must leave every answer identical for the same data and clock. One server holds a feed of every
source kind (tests/golden_support.py), refreshed through the pipeline from recorded payloads with the clock
frozen; the module then asks it for every format, filter, API document, widget view and page, in one fixed
order, and compares each body with its file in tests/golden/ (<feed>/<what>[__<query>].<ext>).

    UPDATE_GOLDEN=1 pytest tests/test_golden.py     # rewrites tests/golden/ (and removes stale files)

Nothing in an answer varies between runs: ids come from the data, times from the frozen clock, database ids
from a fresh database, and requests are asked in one order. The one thing that could is the test upstream's
free port, so `127.0.0.1:<port>` is written as `127.0.0.1:UPSTREAM` (no answer names an upstream today; a
link to an upstream document or an error naming its URL would).
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import time_machine

from feedserver.renditions import formats_of
from tests.conftest import write_config
from tests.golden_support import CITY, FEEDS, Feed, feed_settings, refresh_all, serve_all

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
UPSTREAM = b"127.0.0.1:UPSTREAM"
WIDGET_OPTIONS = ("", "lang=en", "view=latest", "view=latest&lang=en", "mode=full&theme=dark&items=20")
SERVER = {
    "catalogue.html": "/",
    "catalogue__lang=en.html": "/?lang=en",
    "opml.xml": "/opml",
    "api-feeds.json": "/api/v1/feeds",
    "api-status.json": "/api/v1/status",
    "api-sources.json": "/api/v1/sources",
    "openapi.json": "/openapi.json",
}


@dataclass(frozen=True)
class Case:
    """One request: the golden file it is kept in, the instant it is asked at, and its path."""

    name: str
    at: datetime
    path: str
    next_page: bool = False  # keep the page its Link rel=next leads to instead


def suffixed(stem: str, query: str, extension: str) -> str:
    """stem__query.extension, the query made a portable file name ('&' as '+')."""
    query = re.sub(r"[^A-Za-z0-9=,.%+-]", "_", query.replace("&", "+"))
    return f"{stem}__{query}.{extension}" if query else f"{stem}.{extension}"


def feed_cases(feed: Feed, formats: list[str]) -> list[Case]:
    """Every format with every filter, the calendar's alarm, the page, the API, the widget views."""
    base, queries = f"/feeds/{feed.id}", ("", *feed.queries)
    asks = [(suffixed("feed", q, fmt), f"{base}.{fmt}?{q}") for fmt in formats for q in queries]
    if "ics" in formats:
        asks.append((suffixed("feed", "alarm=18:00", "ics"), f"{base}.ics?alarm=18:00"))
    asks += [(suffixed("page", q, "html"), f"{base}?{q}") for q in ("", "lang=en")]
    api = f"/api/v1/feeds/{feed.id}"
    asks.append(("api-feed.json", api))
    asks += [(suffixed("api-items", q, "json"), f"{api}/items?{q}") for q in (*queries, "limit=1")]
    widget = f"/widgets/{feed.id}"
    asks += [(suffixed("widget", q, "html"), f"{widget}?{q}") for q in (*WIDGET_OPTIONS, *feed.queries)]
    asks.append(("widget-crisis.json", f"{widget}/crisis.json"))
    for chart in feed.charts:
        stem = "chart__" + chart.replace("/", "-")
        asks += [(suffixed(stem, q, "svg"), f"{widget}/charts/{chart}.svg?{q}") for q in ("", "lang=en")]
    cases = [Case(f"{feed.id}/{name}", feed.at, path.removesuffix("?")) for name, path in asks]
    if feed.items:
        cases.append(Case(f"{feed.id}/api-items__limit=1__next.json", feed.at, f"{api}/items?limit=1", True))
    return cases


def all_cases() -> list[Case]:
    """The cases of every feed, then the server-wide documents (at the city's instant)."""
    settings = feed_settings()
    cases = [case for feed in FEEDS for case in feed_cases(feed, formats_of(settings[feed.id]))]
    cases += [Case(f"_server/{name}", CITY, path) for name, path in SERVER.items()]
    assert {feed.id for feed in FEEDS} == set(settings), "every configured feed has its golden files"
    assert len({case.name for case in cases}) == len(cases), "golden file names are unique"
    return cases


CASES = all_cases()


def ask(client, case: Case, port: int) -> tuple[int, bytes]:
    """Status and body of one request at its instant, the test upstream's address written as a token."""
    with time_machine.travel(case.at, tick=False):
        response = client.get(case.path)
        if case.next_page and response.status_code == 200:
            link = response.headers["Link"].split(";")[0].strip("<>")
            response = client.get(link.removeprefix("http://127.0.0.1:8000"))
    return response.status_code, response.data.replace(f"127.0.0.1:{port}".encode(), UPSTREAM)


@pytest.fixture(scope="module")
def golden_server(tmp_path_factory, make_httpserver):
    """A test client of the golden set's server, every feed refreshed, and the port its upstream had."""
    from feedserver.app import create_app

    make_httpserver.clear()
    feeds = serve_all(make_httpserver)
    no_limit = "[api]\nrate_limit_enabled = false\n"  # hundreds of API requests from one address
    app = create_app(write_config(tmp_path_factory.mktemp("golden"), feeds, no_limit))
    app.config["TESTING"] = True
    refresh_all(app)
    make_httpserver.clear()
    return app.test_client(), make_httpserver.port


@pytest.fixture(scope="module")
def answers(golden_server) -> dict[str, tuple[int, bytes]]:
    """The whole server's answers, asked once in CASES order (so no test's order can change a byte)."""
    client, port = golden_server
    return {case.name: ask(client, case, port) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_answer_is_byte_identical_to_its_golden_file(answers, case):
    status, body = answers[case.name]
    assert status == 200, f"{case.path}: HTTP {status}: {body[:300]!r}"
    path = GOLDEN / case.name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        return
    assert path.exists(), f"{case.name} is missing: UPDATE_GOLDEN=1 pytest tests/test_golden.py writes it"
    expected = path.read_bytes()
    if body != expected:
        pytest.fail(f"{case.path} differs from tests/golden/{case.name}:\n{first_difference(expected, body)}")


def test_every_golden_file_belongs_to_a_request():
    stored = {path.relative_to(GOLDEN).as_posix() for path in GOLDEN.rglob("*") if path.is_file()}
    stale = sorted(stored - {case.name for case in CASES})
    if UPDATE:
        for name in stale:
            (GOLDEN / name).unlink()
        return
    assert not stale, f"golden files no request makes (UPDATE_GOLDEN=1 removes them): {stale[:10]}"


def first_difference(expected: bytes, actual: bytes, context: int = 3, limit: int = 30) -> str:
    """A short unified diff of the first differing hunk (JSON indented, XML split at tags, to read)."""
    old, new = readable(expected), readable(actual)
    hunk: list[str] = []
    for line in difflib.unified_diff(old, new, "golden", "served", n=context, lineterm=""):
        if line.startswith("@@") and any(h.startswith("@@") for h in hunk):
            break
        hunk.append(line)
    if not hunk:  # the same once made readable (whitespace, escapes): say where the bytes part
        at = next((i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b), len(actual))
        start = max(at - 40, 0)
        return f"first differing byte {at}: {expected[start : at + 40]!r} -> {actual[start : at + 40]!r}"
    return "\n".join(hunk[:limit])


def readable(body: bytes) -> list[str]:
    """The body as lines a diff can show: indented JSON, else the text with long lines split at tags."""
    text = body.decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(text), indent=1, ensure_ascii=False).splitlines()
    except ValueError:
        return [part for line in text.splitlines() for part in re.split(r"(?<=>)(?=<)", line)]
