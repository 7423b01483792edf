"""The iCalendar renderer, checked by parsing its output with icalendar, ical and (when installed) ics."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from feedserver.fetch import Payload
from feedserver.items import Item, make_item
from feedserver.render.ical import FeedMeta, render_ical
from kinds.waste.vocabulary import WasteCategory
from sources.ics import Source

BERLIN = ZoneInfo("Europe/Berlin")
META = FeedMeta(
    id="abfall-aichwald",
    title="Abfuhrtermine Aichwald",
    description="Wann welche Tonne rausgestellt wird.",
    language="de",
    timezone="Europe/Berlin",
    base_url="http://127.0.0.1:8000",
    self_url="http://127.0.0.1:8000/feeds/abfall-aichwald.ics",
    home_url="http://127.0.0.1:8000/",
    licence="dl-de/by-2-0",
    licence_url="https://www.govdata.de/dl-de/by-2-0",
    attribution="Gemeinde Aichwald",
    updated=datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
    ttl_seconds=900,
)
PUBLISHED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def item(key: str, **fields) -> Item:
    """An item of the test feed with a fixed publication time unless given."""
    return make_item("test-feed", key, **{"title": key, "published": PUBLISHED, **fields})


def parse_both(body: bytes) -> tuple[icalendar.Calendar, object]:
    """The output as seen by icalendar and by the independent ical library."""
    return icalendar.Calendar.from_ical(body), IcsCalendarStream.calendar_from_ics(body.decode())


def only_event(body: bytes) -> tuple[icalendar.Event, object]:
    """The single VEVENT of a one-item render, from both parsers."""
    ours, theirs = parse_both(body)
    assert len(ours.events) == 1 and len(theirs.events) == 1
    return ours.events[0], theirs.events[0]


@pytest.fixture
def waste_items(feed_info, fixture_bytes) -> list[Item]:
    """Realistic items: the AbfallPlus Aichwald export parsed by the ICS source."""
    body = fixture_bytes("ics/abfallplus_aichwald_test.ics")
    payload = Payload(body=body, url="http://127.0.0.1/a.ics", fetched_at=datetime(2020, 1, 1, tzinfo=UTC))
    return Source(feed_info, url=payload.url).parse(payload)


def test_waste_calendar_parses_in_both_libraries(waste_items):
    body = render_ical(META, waste_items)
    ours, theirs = parse_both(body)
    assert len(ours.events) == len(theirs.events) == len(waste_items) > 10
    first_day = {str(e["SUMMARY"]) for e in ours.events if e.start == date(2020, 1, 4)}
    assert first_day == {"Gelbe/r Sack/Tonne", "Biotonne"}  # the first two VEVENTs of the raw export
    for event in theirs.events:
        assert event.dtend == event.dtstart + timedelta(days=1)
        assert event.location == "Aichwald Ahornweg"
        assert event.transparency == "TRANSPARENT"
    by_uid = {e.uid: e for e in theirs.events}
    for waste in waste_items:
        assert by_uid[f"{waste.id}@feedserver"].categories == [str(waste.category)]
        assert by_uid[f"{waste.id}@feedserver"].summary == waste.data["label"]


def test_same_data_renders_identical_bytes(waste_items, feed_info, fixture_bytes):
    shuffled = list(waste_items)
    random.Random(7).shuffle(shuffled)
    assert render_ical(META, waste_items) == render_ical(META, shuffled)
    body = fixture_bytes("ics/abfallplus_aichwald_test.ics")
    later = Payload(body=body, url="http://127.0.0.1/a.ics", fetched_at=datetime(2020, 1, 2, tzinfo=UTC))
    reparsed = Source(feed_info, url=later.url).parse(later)
    assert render_ical(META, reparsed, alarm=time(18)) == render_ical(META, waste_items, alarm=time(18))


def test_events_sorted_by_start_then_uid_and_undated_items_skipped():
    items = [
        item("late", starts=datetime(2026, 5, 2, 9, 0, tzinfo=BERLIN)),
        item("undated"),
        item("b", starts=date(2026, 5, 1), data={"uid": "b@upstream"}),
        item("a", starts=date(2026, 5, 1), data={"uid": "a@upstream"}),
        item("utc", starts=datetime(2026, 5, 1, 22, 30, tzinfo=UTC)),  # 00:30 on 2 May in Berlin
    ]
    ours, theirs = parse_both(render_ical(META, items))
    assert [str(e["SUMMARY"]) for e in ours.events] == ["a", "b", "utc", "late"]
    assert [e.summary for e in theirs.events] == ["a", "b", "utc", "late"]


@pytest.mark.parametrize(
    ("data", "uid", "sequence"),
    [
        ({}, None, 0),
        ({"sequence": 3}, None, 3),
        ({"sequence": "5", "uid": "70fb3078cce2327bf8c380ac8b069f3e"}, "70fb3078cce2327bf8c380ac8b069f3e", 5),
        ({"sequence": "not a number"}, None, 0),
        ({"sequence": -2}, None, 0),
    ],
)
def test_uid_and_sequence(data, uid, sequence):
    pickup = item("pickup", starts=date(2026, 7, 1), data=data)
    ours, theirs = only_event(render_ical(META, [pickup]))
    expected_uid = uid or f"{pickup.id}@feedserver"
    assert str(ours["UID"]) == theirs.uid == expected_uid
    assert ours["SEQUENCE"] == theirs.sequence == sequence


def test_event_fields():
    updated = datetime(2026, 6, 20, 9, 15, tzinfo=BERLIN)
    pickup = item(
        "paper",
        title="Morgen: Altpapier (Am Haspel)",
        summary="Altpapier: Abholung am Donnerstag, 02.07.2026.",
        starts=date(2026, 7, 2),
        updated=updated,
        category=WasteCategory.PAPER,
        url="https://example.org/abfall",
        area="Erlensee",
        data={"label": "Altpapier", "place": "Am Haspel"},
    )
    ours, theirs = only_event(render_ical(META, [pickup]))
    assert theirs.summary == "Altpapier"
    assert theirs.description == (
        "Altpapier: Abholung am Donnerstag, 02.07.2026.\n\n"
        "Quelle: Gemeinde Aichwald, Lizenz: dl-de/by-2-0 (https://www.govdata.de/dl-de/by-2-0)"
    )
    assert theirs.categories == ["paper"]
    assert theirs.location == "Am Haspel"  # the place wins over the area
    assert theirs.url == "https://example.org/abfall"
    assert theirs.dtstamp == datetime(2026, 6, 20, 7, 15, tzinfo=UTC)  # `updated`, in UTC
    assert ours["DTSTART"].params.get("VALUE") == "DATE"
    assert (ours.start, ours.end) == (date(2026, 7, 2), date(2026, 7, 3))
    assert theirs.status is None and not ours.walk("VALARM")


def test_optional_fields_left_out_and_cancelled_status():
    meeting = item("meeting", starts=datetime(2026, 7, 2, 18, 0, tzinfo=BERLIN), data={"cancelled": True})
    ours, theirs = only_event(render_ical(META, [meeting], alarm=time(18)))
    for name in ("URL", "LOCATION", "CATEGORIES", "TRANSP"):
        assert name not in ours
    assert theirs.dtstamp == PUBLISHED  # no `updated`: the publication time
    assert str(ours["STATUS"]) == "CANCELLED" and theirs.status == "CANCELLED"
    assert not theirs.alarm  # nobody needs a reminder for a cancelled event


@pytest.mark.parametrize(
    ("at", "trigger"),
    [(time(18, 0), "-PT6H"), (time(0, 0), "-P1D"), (time(7, 30), "-PT16H30M"), (time(23, 59), "-PT1M")],
)
def test_all_day_reminder_on_the_evening_before(at, trigger):
    pickup = item("residual", title="Morgen: Restmüll", starts=date(2026, 3, 29), data={"label": "Restmüll"})
    body = render_ical(META, [pickup], alarm=at)
    ours, theirs = only_event(body)
    assert f"TRIGGER:{trigger}\r\n".encode() in body
    (alarm,) = theirs.alarm
    assert (alarm.action, alarm.description) == ("DISPLAY", "Morgen: Restmüll")
    expected = datetime.combine(date(2026, 3, 28), at)
    assert datetime.combine(date(2026, 3, 29), time()) + alarm.trigger == expected
    (fired,) = ours.alarms.times
    assert fired.trigger == (expected.date() if at == time() else expected)  # the library keeps P1D a date


def fire_time(start: datetime, trigger: timedelta) -> datetime:
    """When an RFC 5545 relative trigger fires: days count on the local clock, the rest in real time."""
    before, local = -trigger, start.astimezone(BERLIN)
    anchor = datetime.combine(local.date() - timedelta(days=before.days), local.timetz())
    return anchor.astimezone(UTC) - timedelta(seconds=before.seconds)


@pytest.mark.parametrize(
    ("start", "trigger"),
    [
        (datetime(2026, 6, 10, 10, 0), "-PT16H"),
        (datetime(2026, 6, 10, 20, 0), "-P1DT2H"),
        # clocks went forward in between: 13 h on the wall, 12 h real
        (datetime(2026, 3, 29, 7, 0), "-PT12H"),
        # the day part is nominal, so the jump is absorbed
        (datetime(2026, 3, 29, 20, 0), "-P1DT2H"),
        # clocks went back: 13 h on the wall, 14 h real
        (datetime(2026, 10, 25, 7, 0), "-PT14H"),
        # 24.5 h real but 23.5 h on the wall: no single duration fits, so an absolute trigger
        (datetime(2026, 10, 25, 17, 30), ";VALUE=DATE-TIME:20261024T160000Z"),
    ],
)
def test_timed_reminder_at_local_time_the_day_before_across_dst(start, trigger):
    local_start = start.replace(tzinfo=BERLIN)
    body = render_ical(META, [item("meeting", title="Sitzung", starts=local_start)], alarm=time(18))
    _, theirs = only_event(body)
    assert f"TRIGGER{trigger if trigger.startswith(';') else ':' + trigger}\r\n".encode() in body
    (alarm,) = theirs.alarm
    expected = datetime.combine(start.date() - timedelta(days=1), time(18), tzinfo=BERLIN)
    if isinstance(alarm.trigger, datetime):
        assert alarm.trigger == expected
    else:
        assert alarm.trigger < timedelta(0)
        assert fire_time(theirs.dtstart, alarm.trigger) == expected


@pytest.mark.parametrize(
    ("starts", "ends", "local_start", "local_end"),
    [
        (datetime(2026, 1, 15, 18, 0, tzinfo=UTC), None, "20260115T190000", "20260115T200000"),
        (datetime(2026, 7, 15, 18, 0, tzinfo=UTC), None, "20260715T200000", "20260715T210000"),
        # one real hour across the spring jump: 01:30 CET to 03:30 CEST
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), None, "20260329T013000", "20260329T033000"),
        # five real hours, four on the wall: clocks went back
        (
            datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 3, 0, tzinfo=UTC),
            "20261025T000000",
            "20261025T040000",
        ),
    ],
)
def test_timed_events_in_feed_zone(starts, ends, local_start, local_end):
    body = render_ical(META, [item("event", starts=starts, ends=ends)])
    ours, theirs = only_event(body)
    assert ours["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert f"DTSTART;TZID=Europe/Berlin:{local_start}\r\n".encode() in body
    assert f"DTEND;TZID=Europe/Berlin:{local_end}\r\n".encode() in body
    for parsed_start, parsed_end in ((ours.start, ours.end), (theirs.dtstart, theirs.dtend)):
        assert parsed_start == starts
        assert parsed_end == (ends or starts + timedelta(hours=1))


def test_vtimezone_covers_only_the_years_spanned():
    new_years_eve = item("a", starts=datetime(2026, 12, 31, 20, 0, tzinfo=BERLIN))
    items = [new_years_eve, item("b", starts=date(2027, 4, 2))]
    ours, theirs = parse_both(render_ical(META, items))
    (zone,) = ours.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Berlin"
    onsets = [sub.DTSTART for sub in zone.walk("DAYLIGHT")]
    onsets += [moment for sub in zone.walk("DAYLIGHT") for moment, _ in sub.rdates]
    assert sorted(onset.date() for onset in onsets) == [date(2026, 3, 29), date(2027, 3, 28)]
    assert [tz.tz_id for tz in theirs.timezones] == ["Europe/Berlin"]
    assert str(ours["X-WR-TIMEZONE"]) == "Europe/Berlin"


@pytest.mark.parametrize(("ttl_seconds", "interval"), [(900, "PT1H"), (3600, "PT1H"), (86400, "P1D")])
def test_calendar_properties(ttl_seconds, interval):
    meta = FeedMeta(**{**vars(META), "ttl_seconds": ttl_seconds})
    body = render_ical(meta, [])
    ours, theirs = parse_both(body)
    assert theirs.prodid == "-//feedserver//abfall-aichwald//DE"
    assert (theirs.version, theirs.calscale, theirs.method) == ("2.0", "GREGORIAN", "PUBLISH")
    assert str(ours["NAME"]) == str(ours["X-WR-CALNAME"]) == "Abfuhrtermine Aichwald"
    assert str(ours["DESCRIPTION"]).startswith(f"{META.description}\n\nQuelle: Gemeinde Aichwald")
    assert ours["X-WR-CALDESC"].to_ical() == ours["DESCRIPTION"].to_ical()  # escaped the same way
    assert f"REFRESH-INTERVAL;VALUE=DURATION:{interval}\r\n".encode() in body
    assert f"X-PUBLISHED-TTL:{interval}\r\n".encode() in body
    assert ours.refresh_interval == timedelta(seconds=max(ttl_seconds, 3600))
    assert ours.source == "http://127.0.0.1:8000/feeds/abfall-aichwald.ics"
    assert ours.walk("VTIMEZONE")  # even an empty feed names its zone


def test_hostile_and_long_text_is_escaped_and_folded():
    hostile = "Rest,müll;\\ Tonne\r\nzweite Zeile\x07 Ende"
    long_text = "Bitte stellen Sie die Gefäße bis 6:00 Uhr bereit; Übergrößen, Säcke und Äste " * 6
    event_item = item(
        "hostile",
        title=hostile,
        summary=long_text,
        starts=date(2026, 7, 2),
        url="https://example.org/a\r\nX-INJECTED:1",
        data={"label": hostile, "place": "Straße am Übergang, Nr. 5"},
    )
    body = render_ical(META, [event_item], alarm=time(18))
    lines = body.split(b"\r\n")
    assert body.endswith(b"\r\n") and lines[-1] == b""
    assert body.count(b"\n") == body.count(b"\r\n") and b"\r\n\r\n" not in body
    assert max(len(line) for line in lines) <= 75
    assert all(0x20 <= byte or byte in b"\r\n\t" for byte in body)
    assert b"SUMMARY:Rest\\,m\xc3\xbcll\\;\\\\ Tonne\\nzweite Zeile Ende\r\n" in body
    ours, theirs = only_event(body)
    assert theirs.summary == str(ours["SUMMARY"]) == "Rest,müll;\\ Tonne\nzweite Zeile Ende"
    assert theirs.description.startswith(long_text.strip())
    assert theirs.location == "Straße am Übergang, Nr. 5"
    assert "X-INJECTED" not in ours and "\n" not in str(ours["URL"])
    assert theirs.alarm[0].description == "Rest,müll;\\ Tonne\nzweite Zeile Ende"


def test_third_parser_reads_the_output(waste_items):
    ics = pytest.importorskip("ics")
    calendar = ics.Calendar(render_ical(META, waste_items, alarm=time(18)).decode())
    assert len(calendar.events) == len(waste_items)
    assert {e.uid for e in calendar.events} == {f"{w.id}@feedserver" for w in waste_items}
    first = min(calendar.events, key=lambda e: (e.begin, e.name))
    assert (first.name, first.all_day, first.begin.date()) == ("Biotonne", True, date(2020, 1, 4))
    assert first.alarms[0].trigger == timedelta(hours=-6)


@pytest.mark.parametrize(
    ("language", "prodid", "credit"),
    [
        ("de", "-//feedserver//abfall-aichwald//DE", "Quelle: Gemeinde Aichwald, Lizenz: dl-de/by-2-0"),
        ("en", "-//feedserver//abfall-aichwald//EN", "Source: Gemeinde Aichwald, Licence: dl-de/by-2-0"),
    ],
)
def test_language_of_prodid_and_credit_line(language, prodid, credit):
    meta = FeedMeta(**{**vars(META), "language": language, "licence_url": None})
    ours, theirs = only_event(render_ical(meta, [item("pickup", summary="Text", starts=date(2026, 7, 2))]))
    assert theirs.description == f"Text\n\n{credit}"
    assert str(icalendar.Calendar.from_ical(render_ical(meta, []))["PRODID"]) == prodid


@pytest.mark.parametrize(
    ("ends", "dtend"),
    [(None, date(2026, 7, 3)), (date(2026, 7, 2), date(2026, 7, 3)), (date(2026, 7, 4), date(2026, 7, 5))],
)
def test_all_day_end_is_the_day_after_the_last_day(ends, dtend):
    closure = item("closure", starts=date(2026, 7, 2), ends=ends)
    ours, theirs = only_event(render_ical(META, [closure]))
    assert ours.end == theirs.dtend == dtend
