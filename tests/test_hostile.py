"""Hostile content: markup, script links, XXE, entity bombs, huge fields, control characters, RRULE bombs.

Upstream payloads are served from 127.0.0.1 and go the whole way (fetch, parse, normalize, store, render);
every output still passes the feed validators and contains nothing a reader or browser could run.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import feedparser
import icalendar
import jsonschema
import pytest
import time_machine
from ical.calendar_stream import IcsCalendarStream

from feedserver.items import make_item
from feedserver.pipeline import MAX_ITEMS_PER_FETCH, MAX_SUMMARY, MAX_TITLE, normalize
from feedserver.sanitize import plain_text
from tests.conftest import FIXTURES, refresh_feed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SCHEMA = json.loads((FIXTURES / "schemas" / "jsonfeed-v1.1.json").read_text())
OWN_SCRIPT = b'<script src="/static/copy.js" defer></script>'
ACTIVE = re.compile(rb"<\s*script|javascript:|vbscript:|data:text/html|\bon[a-z]+\s*=", re.IGNORECASE)
HUGE = "Sehr lang " * 20_000  # 200 000 characters
CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"


def vevent(uid: str, day: str, summary: str, extra: str = "") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART;VALUE=DATE:{day}\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\n"
    )


def calendar(*events: str) -> bytes:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\n"
    return (head + "".join(events) + "END:VCALENDAR\r\n").encode()


HOSTILE_CALENDAR = calendar(
    vevent(
        "a@x",
        "20261123",
        "<script>alert(1)</script>Restabfall",
        "LOCATION:<b onmouseover=alert(1)>Hof</b>\r\n",
    ),
    vevent(
        "b@x",
        "20261124",
        "Bioabfall",
        'DESCRIPTION:<p onclick="alert(1)">Bitte <b>rausstellen</b></p><img src=x onerror=alert(1)>'
        '<a href="javascript:alert(1)">Details</a><iframe src="javascript:alert(2)"></iframe>'
        "<style>body{display:none}</style>&lt;script&gt;alert(3)&lt;/script&gt;\r\n",
    ),
    vevent("c@x", "20261125", "Papier\x07\x0b\x1b[31m", "DESCRIPTION:Kontroll\x01zeichen\x08\r\n"),
    vevent("d@x", "20261126", "Gelber Sack " + "G" * 5000, f"DESCRIPTION:{HUGE}\r\n"),
    vevent("e@x", "20261127", "Glas <svg/onload=alert(1)>", "DESCRIPTION:<![CDATA[<script>x</script>]]>\r\n"),
)
RRULE_BOMBS = calendar(
    vevent("ok@x", "20261130", "Restabfall", "RRULE:FREQ=WEEKLY;INTERVAL=2\r\n"),
    vevent("sec@x", "20261123", "Sekunden", "RRULE:FREQ=SECONDLY\r\n"),
    vevent(
        "grid@x",
        "20261123",
        "Raster",
        "RRULE:FREQ=DAILY;BYHOUR="
        + ",".join(map(str, range(24)))
        + ";BYMINUTE="
        + ",".join(map(str, range(60)))
        + ";BYSECOND="
        + ",".join(map(str, range(60)))
        + "\r\n",
    ),
    vevent("ancient@x", "00010101", "Uralt", "RRULE:FREQ=DAILY\r\n"),
    vevent("count@x", "20261123", "Endlos", "RRULE:FREQ=DAILY;COUNT=1000000000\r\n"),
    vevent("many@x", "20261123", "Viele", "RRULE:FREQ=MONTHLY;BYMONTHDAY=" + ",".join(["1"] * 3000) + "\r\n"),
)
NESTED = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "BEGIN:VEVENT\r\n" * 5000 + "END:VEVENT\r\n" * 5000
).encode() + (b"END:VCALENDAR\r\n")

WASTE_FEED = '[feeds.waste-test]\nsource = "ics"\ntitle = "Abfuhr"\nurl = "{url}"\n'
ALERT_FEED = '[feeds.alerts-test]\nsource = "cap"\ntitle = "Warnungen"\nurl = "{url}"\n'


def assert_inert_and_valid(app, feed_id: str, formats: tuple[str, ...]) -> dict[str, bytes]:
    """Every format validates and carries nothing active; the human page neither."""
    client = app.test_client()
    bodies = {fmt: client.get(f"/feeds/{feed_id}.{fmt}").data for fmt in formats}
    for fmt in ("rss", "atom"):
        parsed = feedparser.parse(bodies[fmt])
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        for entry in parsed.entries:
            text = f"{entry.title} {entry.get('summary', '')} {entry.link}".encode()
            assert not ACTIVE.search(text), text[:300]
    jsonschema.validate(json.loads(bodies["json"]), SCHEMA)
    if "ics" in bodies:
        icalendar.Calendar.from_ical(bodies["ics"])
        IcsCalendarStream.calendar_from_ics(bodies["ics"].decode())
    # the page's one script is its own copy buttons' (static/copy.js): anything else is active content
    bodies["page"] = client.get(f"/feeds/{feed_id}").data.replace(OWN_SCRIPT, b"", 1)
    for fmt, body in bodies.items():
        assert not ACTIVE.search(body), (fmt, ACTIVE.search(body))
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", body), fmt
    return bodies


def test_hostile_calendar_becomes_plain_inert_text_in_every_format(make_app, httpserver):
    httpserver.expect_request("/evil.ics").respond_with_data(HOSTILE_CALENDAR, content_type="text/calendar")
    with time_machine.travel(NOW, tick=False):
        app = make_app(WASTE_FEED.format(url=httpserver.url_for("/evil.ics")))
        assert refresh_feed(app, "waste-test").ok
        bodies = assert_inert_and_valid(app, "waste-test", ("rss", "atom", "json", "ics"))
        stored = app.extensions["feedserver"].store.current_items("waste-test")
    items = {i.data["label"].split()[0]: i for i in stored}
    assert items["Restabfall"].data["label"] == "Restabfall" and items["Restabfall"].data["place"] == "Hof"
    bio = items["Bioabfall"]
    assert "Bitte rausstellen" in bio.summary and "Details" in bio.summary  # the text survives
    assert "alert" not in bio.summary and "display:none" not in bio.summary
    assert items["Papier[31m"].summary.endswith(". Kontrollzeichen")  # control characters gone, text kept
    long = items["Gelber"]
    assert len(long.title) <= MAX_TITLE and len(long.summary) <= MAX_SUMMARY
    calendar_out = icalendar.Calendar.from_ical(bodies["ics"])
    summaries = [str(e["SUMMARY"]) for e in calendar_out.walk("VEVENT")]
    assert "Restabfall" in summaries and all("<" not in s for s in summaries)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("Plain text: Ozon < 120 µg/m³ & mehr", "Plain text: Ozon < 120 µg/m³ & mehr"),
        ("Tom &amp; Jerry", "Tom &amp; Jerry"),  # plain text is not unescaped: renderers escape it as is
        ("<p>Eins</p><p>Zwei &amp; drei</p>", "Eins\nZwei & drei\n"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<script>alert(1)</script>ok", "ok"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;<b>ok</b>", "ok"),  # escaped markup inside markup
        ("<a href='javascript:alert(1)' onclick=x>Link</a>", "Link"),
        ("Wert<Grenzwert", "Wert\u2039Grenzwert"),  # a lone tag start is neutralised, the text kept
        ("<!-- <script>x</script> -->Rest", "Rest"),
        ("Glas <svg/onload=alert(1)>", "Glas "),
    ],
)
def test_plain_text_keeps_text_and_drops_everything_active(value, expected):
    assert plain_text(value) == expected


def test_normalize_bounds_items_and_links():
    items = [
        make_item("f", f"k{n}", title=f"T{n}", published=NOW, url="javascript:alert(1)" if n % 2 else None)
        for n in range(MAX_ITEMS_PER_FETCH + 500)
    ]
    clean = normalize(items)
    assert len(clean) == MAX_ITEMS_PER_FETCH and all(i.url is None for i in clean)
    [quoted] = normalize(
        [make_item("f", "q", title="Q", published=NOW, url='https://x.example/a"><script>alert(1)</script>')]
    )
    assert quoted.url == "https://x.example/a%22%3E%3Cscript%3Ealert(1)%3C/script%3E"


def test_rrule_bombs_are_bounded_and_the_sane_series_survives(make_app, httpserver):
    httpserver.expect_request("/bombs.ics").respond_with_data(RRULE_BOMBS, content_type="text/calendar")
    with time_machine.travel(NOW, tick=True):
        app = make_app(WASTE_FEED.format(url=httpserver.url_for("/bombs.ics")))
        started = time.monotonic()
        result = refresh_feed(app, "waste-test")
        took = time.monotonic() - started
        items = app.extensions["feedserver"].store.current_items("waste-test")
        assert_inert_and_valid(app, "waste-test", ("rss", "atom", "json", "ics"))
    assert result.ok and took < 10, (result.line(), took)
    labels = {i.data["label"] for i in items}
    assert "Restabfall" in labels and not labels & {"Sekunden", "Raster", "Uralt"}
    assert sum(i.data["label"] == "Endlos" for i in items) <= 400  # only the expansion window, not 10^9


def test_nested_components_do_not_take_the_process_down(make_app, httpserver):
    httpserver.expect_request("/nested.ics").respond_with_data(NESTED, content_type="text/calendar")
    with time_machine.travel(NOW, tick=True):
        app = make_app(WASTE_FEED.format(url=httpserver.url_for("/nested.ics")))
        started = time.monotonic()
        result = refresh_feed(app, "waste-test")
        assert time.monotonic() - started < 10
        assert app.test_client().get("/healthz").status_code == 200
    assert result.ok or result.error  # refused or parsed, never a crash or a hang


def cap_alert(headline: str, description: str, web: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{CAP12}"><identifier>hostile-1</identifier><sender>test@city.example</sender>
<sent>2026-11-21T10:00:00+01:00</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><language>de-DE</language><category>Safety</category><event>Test</event><urgency>Immediate</urgency>
<severity>Severe</severity><certainty>Observed</certainty><expires>2026-11-28T10:00:00+01:00</expires>
<headline>{headline}</headline><description>{description}</description><web>{web}</web>
<area><areaDesc>&lt;b onmouseover="alert(1)"&gt;Innenstadt&lt;/b&gt;</areaDesc></area></info>
</alert>""".encode()


XXE = f"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="{CAP12}"><identifier>&xxe;</identifier></alert>""".encode()
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10)
    )
    + f']>\n<alert xmlns="{CAP12}"><identifier>&lol9;</identifier></alert>'
).encode()


@pytest.fixture
def alert_app(make_app, httpserver):
    """A CAP feed fetched once from a hostile but well-formed alert; then /cap.xml serves what a test sets."""
    documents = {
        "body": cap_alert(
            "&lt;img src=x onerror=alert(1)&gt;Sturmwarnung",
            "&lt;script&gt;alert(document.cookie)&lt;/script&gt;Bleiben Sie drinnen.&lt;br&gt;"
            '&lt;a href="javascript:alert(1)"&gt;mehr&lt;/a&gt;',
            "javascript:alert(1)",
        )
    }
    httpserver.expect_request("/cap.xml").respond_with_handler(
        lambda request: __import__("werkzeug").Response(documents["body"], content_type="application/cap+xml")
    )
    with time_machine.travel(NOW, tick=True):
        app = make_app(ALERT_FEED.format(url=httpserver.url_for("/cap.xml")))
        assert refresh_feed(app, "alerts-test").ok
        yield app, documents


def test_hostile_alert_is_plain_inert_text(alert_app):
    app, _ = alert_app
    with time_machine.travel(NOW, tick=True):
        bodies = assert_inert_and_valid(app, "alerts-test", ("rss", "atom", "json"))
    [item] = json.loads(bodies["json"])["items"]
    assert item["title"] == "Sturmwarnung" and "Bleiben Sie drinnen." in item["content_text"]
    assert item["url"].startswith("http://127.0.0.1:8000/feeds/alerts-test#item-")  # javascript: web dropped
    assert item["_feedserver"]["area"] == "Innenstadt"


@pytest.mark.parametrize("name", ["xxe", "billion-laughs", "external-dtd"])
def test_entity_tricks_are_refused_and_the_last_good_alert_stays(alert_app, httpserver, name):
    app, documents = alert_app
    external = f'<?xml version="1.0"?><!DOCTYPE alert SYSTEM "{httpserver.url_for("/evil.dtd")}"><alert/>'
    documents["body"] = {"xxe": XXE, "billion-laughs": LAUGHS, "external-dtd": external.encode()}[name]
    with time_machine.travel(NOW + timedelta(minutes=1), tick=True):
        started = time.monotonic()
        result = refresh_feed(app, "alerts-test")
        assert time.monotonic() - started < 2
        bodies = assert_inert_and_valid(app, "alerts-test", ("rss", "atom", "json"))
    assert not result.ok and "document type declaration" in result.error
    assert [i["title"] for i in json.loads(bodies["json"])["items"]] == ["Sturmwarnung"]
    assert all(b"root:" not in body and b"lollol" not in body for body in bodies.values())
    assert all(request.path != "/evil.dtd" for request, _ in httpserver.log)  # never fetched


def test_json_recursion_bomb_is_a_recorded_failure(make_app, httpserver):
    bomb = b"[" * 200_000 + b"]" * 200_000
    httpserver.expect_request("/api/dashboard/081160000000.json").respond_with_data(
        bomb, content_type="application/json"
    )
    feeds = (
        '[feeds.nina-test]\nsource = "nina"\ntitle = "NINA"\nregion = "081160000000"\n'
        f'base_url = "{httpserver.url_for("/api")}"\n'
    )
    with time_machine.travel(NOW, tick=True):
        app = make_app(feeds)
        result = refresh_feed(app, "nina-test")
        assert app.test_client().get("/healthz").status_code == 200
    assert not result.ok and "Recursion" in result.error
    assert app.extensions["feedserver"].store.feed_state("nina-test").stale_since is not None


def test_upstream_errors_and_status_never_echo_secrets_or_markup(make_app, httpserver):
    httpserver.expect_request("/evil.ics").respond_with_data("<script>alert(1)</script>", status=500)
    url = httpserver.url_for("/evil.ics") + "?api_key=s3cret"
    with time_machine.travel(NOW, tick=True):
        app = make_app(WASTE_FEED.format(url=url))
        result = refresh_feed(app, "waste-test")
        status = app.test_client().get("/api/v1/status").data
    assert not result.ok and "s3cret" not in result.error and "<script" not in result.error
    assert b"s3cret" not in status and b"<script" not in status
