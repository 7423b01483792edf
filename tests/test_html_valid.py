"""The Nu HTML checker (the W3C's vnu.jar) reports no error on any page, widget view or desk page.

The pages are the golden set's (every feed of every kind with data, and an empty one; tests/test_golden.py)
plus the ones it does not keep: the embed builder with a choice made, usage statistics, the API docs, HTML
error pages and every desk page (tests/test_translations.py), each in German and English. vnu.jar comes from
npm (`make vnu`, run by `make test`) and needs java; without them the test is skipped, except under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import time_machine

from tests.golden_support import CITY
from tests.test_feed_stylesheet import FEEDS as STYLED_FEEDS
from tests.test_feed_stylesheet import transform
from tests.test_golden import answers, golden_server  # noqa: F401 - the golden set's server and answers
from tests.test_translations import app, desk, desk_pages  # noqa: F401 - the desk's fixtures and its pages

VNU_JAR = Path(__file__).parent.parent / ".cache/vnu/node_modules/vnu-jar/build/dist/vnu.jar"
LANGUAGES = ("de", "en")
EXTRA_PUBLIC = (
    "/?w_feed=waste-ics&w_view=auto&w_mode=full&w_theme=dark&w_items=5&w_filters=category%3Dresidual",
    "/?w_feed=air-uba&w_view=air",
    "/?w_feed=nowhere",
    "/?place=Aachen",
    "/?place=Atlantis",
    "/stats",
    "/api/docs",
)
NOT_FOUND = ("/feeds/nowhere", "/widgets/nowhere", "/nowhere")


def vnu_jar() -> Path:
    """The checker's jar, or a skip (a failure under CI=true) naming what is missing."""
    jar = Path(os.environ.get("VNU_JAR", VNU_JAR))
    missing = [what for what, ok in (("java", shutil.which("java")), (str(jar), jar.is_file())) if not ok]
    if missing:
        message = f"the Nu HTML checker needs {' and '.join(missing)} (`make vnu`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return jar


def check(pages: dict[str, bytes], directory: Path) -> list[str]:
    """vnu's errors as 'page: line N: message'; the pages are written as files and checked in one run."""
    jar, names = vnu_jar(), {}
    for number, (name, body) in enumerate(sorted(pages.items())):
        path = directory / f"page{number:04d}.html"
        path.write_bytes(body)
        names[path.name] = name
    paths = [str(directory / f"page{number:04d}.html") for number in range(len(pages))]
    done = subprocess.run(
        ["java", "-jar", str(jar), "--errors-only", "--format", "json", *paths],
        capture_output=True,
        text=True,
        timeout=600,
    )
    messages = json.loads(done.stderr)["messages"]
    pages_of = [names.get(m.get("url", "").rsplit("/", 1)[-1]) for m in messages]
    assert done.returncode in (0, 1) and None not in pages_of, done.stderr[:2000]  # vnu itself failed
    return [
        f"{page}: line {m.get('lastLine')}: {m.get('message')}"
        for page, m in zip(pages_of, messages, strict=True)
    ]


def public_pages(answers) -> dict[str, bytes]:  # noqa: F811 - the fixture's value
    """The golden set's pages and widget views (HTML only)."""
    return {
        name: body for name, (status, body) in answers.items() if name.endswith(".html") and status == 200
    }


def test_the_golden_sets_pages_and_widget_views_are_valid_html(answers, tmp_path):  # noqa: F811
    pages = public_pages(answers)
    assert len(pages) > 100 and any(name.startswith("bauamt/") for name in pages), (
        "every kind, one empty feed"
    )
    errors = check(pages, tmp_path)
    assert not errors, "\n".join(errors)


def test_the_builder_statistics_docs_and_error_pages_are_valid_html(golden_server, tmp_path):  # noqa: F811
    client, _ = golden_server
    pages = {}
    with time_machine.travel(CITY, tick=False):
        for lang, path in ((lang, path) for lang in LANGUAGES for path in EXTRA_PUBLIC + NOT_FOUND):
            separator = "&" if "?" in path else "?"
            response = client.get(f"{path}{separator}lang={lang}", headers={"Accept": "text/html"})
            assert response.status_code == (404 if path in NOT_FOUND else 200), (path, response.status_code)
            assert response.mimetype == "text/html", path
            pages[f"{path} {lang}"] = response.data
    errors = check(pages, tmp_path)
    assert not errors, "\n".join(errors)


def test_feeds_shown_through_feed_xsl_are_valid_html(tmp_path):
    from lxml import html

    pages = {
        f"{path.parent.name}/{path.name}": b"<!DOCTYPE html>\n" + html.tostring(transform(path.read_bytes()))
        for path in STYLED_FEEDS
    }
    assert len(pages) >= 20
    errors = check(pages, tmp_path)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_desk_page_is_valid_html(app, desk, lang, tmp_path):  # noqa: F811
    pages = {name: response.data for name, response in desk_pages(app, desk, lang).items()}
    errors = check(pages, tmp_path)
    assert not errors, "\n".join(errors)
