"""Air quality shared by the air sources: pollutants, units, default thresholds, options and the items."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, validates_schema

from feedserver.errors import ParseError
from feedserver.fields import Interval
from feedserver.i18n import N_, day_text, known, say_all
from feedserver.items import READING, FeedInfo, Item, make_item

from .thresholds import Crossing, Thresholds, crossings, current_level

COMPONENTS = ("o3", "no2", "pm10", "pm2.5", "so2", "co")
ALIASES = {"pm25": "pm2.5", "pm2,5": "pm2.5", "pm2_5": "pm2.5"}
UNIT = "µg/m³"
WINDOW = timedelta(hours=48)  # readings kept for thresholds and the widget series
DEFAULT_STALE_AFTER = 3 * 3600
# threshold and daily items leave the 48-hour window but stay in the feeds' history this long
HISTORY_KEPT = timedelta(days=7)

# The source contract's constants, alike for every air source (each module re-exports them).
MASS_DELETION_GUARD = False  # readings are replaced by newer ones (see feedserver/guard.py)
KEEP_GONE = HISTORY_KEPT  # threshold items stay in the feed after leaving the 48-hour window
FILTERS = ("component", "station", "min_value", "near")
VOCABULARY = {"component": COMPONENTS}

# Ozone: information threshold 180 µg/m³, alert threshold 240 µg/m³, both 1-hour means
# (Directive 2008/50/EC Annex XII B; in German law 39. BImSchV § 9).
# NO2: alert threshold 400 µg/m³ (Annex XII A); it has no information threshold. The directive counts it when
# measured over three consecutive hours; a single hour is compared here, so the warning may come early.
DEFAULT_THRESHOLDS: dict[str, dict[str, float | None]] = {
    "o3": {"info": 180.0, "alert": 240.0},
    "no2": {"info": None, "alert": 400.0},
}

# ppb -> µg/m³ at the directive's reference conditions for gases (20 °C, 1013 hPa): µg/m³ = ppb × M / 24.04
MOLAR_VOLUME = 24.04  # litres per mole
MOLAR_MASS = {"o3": 48.00, "no2": 46.01, "so2": 64.07, "co": 28.01}
MASS_UNITS = {"µg/m³": 1.0, "ug/m3": 1.0, "µg/m3": 1.0, "mg/m³": 1000.0, "mg/m3": 1000.0}
MIXING_UNITS = {"ppb": 1.0, "ppm": 1000.0}

NAMES = {
    "o3": N_("Ozone"),
    "no2": N_("Nitrogen dioxide"),
    "pm10": N_("Particulate matter PM10"),
    "pm2.5": N_("Particulate matter PM2.5"),
    "so2": N_("Sulphur dioxide"),
    "co": N_("Carbon monoxide"),
}
PHRASES = {
    "at": N_("at station"),
    # TRANSLATORS: a clock time as the items' titles write it (German adds "Uhr")
    "clock": N_("{time}"),
    "info": N_("information threshold exceeded"),
    "alert": N_("alert threshold exceeded"),
    "all-clear": N_("all clear, back below {threshold}"),
    "none": N_("no recent readings"),
    "daily": N_("daily maximum"),
    "on": N_("on"),
    "summary": N_(
        "{name}: {amount} averaged from {start} to {end} on {day}, station {station} ({code}). "
        "Threshold: {threshold}."
    ),
    # TRANSLATORS: a CLDR date pattern (yyyy year, MM month, dd day), e.g. 2026-06-25
    "day": N_("yyyy-MM-dd"),
}


def normalize_component(name: str) -> str:
    """'O3' -> 'o3', 'pm25' -> 'pm2.5'; ValueError for pollutants the air sources do not know."""
    folded = name.strip().lower().replace("₂", "2").replace("₃", "3")
    folded = ALIASES.get(folded, folded)
    if folded not in COMPONENTS:
        raise ValueError(f"unknown component {name!r} (use one of {', '.join(COMPONENTS)})")
    return folded


def to_micrograms(value: float, unit: str, component: str) -> float:
    """A concentration in µg/m³, converted from mg/m³, ppm or ppb; ParseError for units it cannot convert."""
    key = unit.strip().replace("\u03bc", "\u00b5").lower()  # Greek mu and the micro sign both occur
    if key in MASS_UNITS:
        return value * MASS_UNITS[key]
    if key in MIXING_UNITS and component in MOLAR_MASS:
        return value * MIXING_UNITS[key] * MOLAR_MASS[component] / MOLAR_VOLUME
    raise ParseError(f"cannot convert {component} in {unit!r} to {UNIT}")


class ComponentList(fields.Field):
    """A list of pollutant codes, normalized ('pm25' -> 'pm2.5'), without duplicates."""

    def _deserialize(self, value, attr, data, **kwargs) -> list[str]:
        if isinstance(value, str) or not isinstance(value, list) or not value:
            raise ValidationError(f"must be a non-empty list of components ({', '.join(COMPONENTS)})")
        try:
            return normalize_components(value)
        except (ValueError, AttributeError) as exc:
            raise ValidationError(str(exc)) from exc


class ThresholdMap(fields.Field):
    """Component -> {info = number, alert = number}; a null value switches a default threshold off."""

    def _deserialize(self, value, attr, data, **kwargs) -> dict[str, dict[str, float | None]]:
        if not isinstance(value, dict):
            raise ValidationError("must be a table: component -> { info = 180, alert = 240 }")
        try:
            return {normalize_component(name): _threshold_pair(name, pair) for name, pair in value.items()}
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


def _threshold_pair(name: str, pair) -> dict[str, float | None]:
    if not isinstance(pair, dict) or not pair or set(pair) - {"info", "alert"}:
        raise ValueError(f"{name}: must be a table with the keys info and/or alert")
    for key, number in pair.items():
        if number is not None and (
            isinstance(number, bool) or not isinstance(number, int | float) or number < 0
        ):
            raise ValueError(f"{name}.{key}: must be a number >= 0 in {UNIT}")
    return {key: None if number is None else float(number) for key, number in pair.items()}


class AirOptions(Schema):
    """The options every air source shares."""

    components = ComponentList(load_default=lambda: ["o3"])
    thresholds = ThresholdMap(load_default=dict)
    stale_after = Interval(load_default=DEFAULT_STALE_AFTER)
    daily_summary = fields.Boolean(load_default=False)

    @validates_schema
    def _thresholds_in_order(self, data, **kwargs) -> None:
        try:
            thresholds_for(data.get("components", ["o3"]), data.get("thresholds"))
        except ValueError as exc:
            raise ValidationError(str(exc), "thresholds") from exc


def normalize_components(names: Iterable[str]) -> list[str]:
    """Normalized component codes in the given order, duplicates dropped."""
    return list(dict.fromkeys(normalize_component(name) for name in names))


def thresholds_for(
    components: Iterable[str], configured: Mapping[str, Mapping] | None
) -> dict[str, Thresholds]:
    """The thresholds per component: the defaults, overridden key by key by the configured ones."""
    result = {}
    for component in components:
        merged = dict(DEFAULT_THRESHOLDS.get(component, {}))
        merged.update((configured or {}).get(component, {}))
        try:
            result[component] = Thresholds(info=merged.get("info"), alert=merged.get("alert"))
        except ValueError as exc:
            raise ValueError(f"{component}: {exc}") from exc
    return result


@dataclass(frozen=True)
class Reading:
    """One averaged measurement: the hour from `start` to `end` (both aware, UTC) and its value in µg/m³."""

    start: datetime
    end: datetime
    value: float


@dataclass(frozen=True)
class Station:
    """Where the readings come from: its code (the item's area), its human name and, when known, its place."""

    code: str
    name: str
    lat: float | None = None  # WGS 84 degrees: the items carry them, so the feed has a map (.geojson)
    lon: float | None = None


def recent(readings: Iterable[Reading], fetched_at: datetime) -> list[Reading]:
    """Readings of the last 48 hours before the fetch, one per start time, sorted (upstreams do not sort)."""
    cutoff = fetched_at - WINDOW
    by_start = {r.start: r for r in readings if r.end > cutoff}
    return sorted(by_start.values(), key=lambda r: r.end)


class AirItems:
    """Turns the readings of one station into threshold, latest-reading and daily-maximum items."""

    def __init__(self, feed: FeedInfo, thresholds: Mapping[str, Thresholds], stale_after: int, daily: bool):
        self.feed = feed
        self.thresholds = thresholds
        self.stale_after = timedelta(seconds=stale_after)
        self.daily = daily
        self.zone = ZoneInfo(feed.timezone)
        self.lang = known(feed.language)
        self.words = say_all(self.lang, PHRASES)
        self.names = say_all(self.lang, NAMES)

    def build(
        self, station: Station, readings: Mapping[str, list[Reading]], fetched_at: datetime
    ) -> list[Item]:
        """All items for the station; `readings` holds every configured component, possibly with no data."""
        items: list[Item] = []
        for component, series in readings.items():
            series = recent(series, fetched_at)
            thresholds = self.thresholds.get(component, Thresholds())
            pairs = [(r.end, r.value) for r in series]
            by_end = {r.end: r for r in series}
            for event in crossings(pairs, thresholds):
                opening = event.at == series[0].end  # the state before the window is unknown here
                item = self._event_item(station, component, by_end[event.at], event)
                items.append(replace(item, data=item.data | {"opening": True}) if opening else item)
            items.append(self._latest_item(station, component, series, fetched_at))
            if self.daily:
                items.extend(self._daily_items(station, component, series))
        return items

    def _event_item(self, station: Station, component: str, reading: Reading, event: Crossing) -> Item:
        phrase = self.words[event.level.value].format(threshold=self._amount(event.threshold))
        return self._reading_item(
            station,
            component,
            reading,
            f"{station.code}|{component}|{event.level.value}|{_iso(reading.start)}",
            {"kind": "threshold", "threshold": event.threshold, "level": event.level.value},
            title=f"{self._headline(station, component, reading)}: {phrase}",
            summary=self._summary(station, component, reading, event.threshold),
        )

    def _latest_item(
        self, station: Station, component: str, series: list[Reading], fetched_at: datetime
    ) -> Item:
        key = f"{station.code}|{component}|latest"
        if not series:
            return make_item(
                self.feed.id,
                key,
                title=f"{self.names[component]} {self.words['at']} {station.name}: {self.words['none']}",
                published=fetched_at,
                category=component,
                area=station.code,
                data=self._data(station, component, None) | {"kind": READING, "series": [], "stale": True},
            )
        latest = series[-1]
        thresholds = self.thresholds.get(component, Thresholds())
        data = {
            "kind": READING,
            "series": [[_iso(r.end), r.value] for r in series],
            "stale": fetched_at - latest.end > self.stale_after,
            "level": current_level(latest.value, thresholds),
            "thresholds": {"info": thresholds.info, "alert": thresholds.alert},
        }
        return self._reading_item(
            station, component, latest, key, data, title=self._headline(station, component, latest)
        )

    def _reading_item(
        self, station: Station, component: str, reading: Reading, key: str, data: dict, **fields
    ) -> Item:
        """An item about one hourly reading: its hour, component and station, and `data` on top of theirs."""
        return make_item(
            self.feed.id,
            key,
            published=reading.end,
            starts=reading.start,
            ends=reading.end,
            category=component,
            area=station.code,
            data=self._data(station, component, reading.value) | data,
            **fields,
        )

    def _daily_items(self, station: Station, component: str, series: list[Reading]) -> list[Item]:
        days: dict = {}
        for reading in series:
            days.setdefault(reading.start.astimezone(self.zone).date(), []).append(reading)
        items = []
        for day, readings in sorted(days.items()):
            day_start = datetime.combine(day, datetime.min.time(), tzinfo=self.zone)
            day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=self.zone)
            if day_start < series[0].start or day_end > series[-1].end:
                continue  # a day cut off by the window or not over yet has no meaningful maximum
            peak = max(readings, key=lambda r: (r.value, -r.end.timestamp()))
            shown = self._day(day)
            items.append(
                make_item(
                    self.feed.id,
                    f"{station.code}|{component}|daily|{day.isoformat()}",
                    title=f"{self.names[component]} {self.words['daily']} {self._amount(peak.value)} "
                    f"{self.words['at']} {station.name} {self.words['on']} {shown} ({self._clock(peak.end)})",
                    published=day_end.astimezone(UTC),
                    starts=day,
                    category=component,
                    area=station.code,
                    data=self._data(station, component, peak.value)
                    | {"kind": "daily", "date": day.isoformat(), "hour": _iso(peak.end)},
                )
            )
        return items

    def _headline(self, station: Station, component: str, reading: Reading) -> str:
        return (
            f"{self.names[component]} {self._amount(reading.value)} {self.words['at']} {station.name} "
            f"({self._clock(reading.end)})"
        )

    def _summary(self, station: Station, component: str, reading: Reading, threshold: float) -> str:
        start, end = reading.start.astimezone(self.zone), reading.end.astimezone(self.zone)
        return self.words["summary"].format(
            name=self.names[component],
            amount=self._amount(reading.value),
            start=f"{start:%H:%M}",
            end=f"{end:%H:%M}",
            day=self._day(start.date()),
            station=station.name,
            code=station.code,
            threshold=self._amount(threshold),
        )

    def _day(self, day) -> str:
        return day_text(day, self.lang, PHRASES["day"])

    def _amount(self, value: float) -> str:
        text = f"{value:.1f}".removesuffix(".0")
        return f"{text.replace('.', ',') if self.feed.language == 'de' else text} {UNIT}"

    def _clock(self, moment: datetime) -> str:
        return self.words["clock"].format(time=f"{moment.astimezone(self.zone):%H:%M}")

    def _data(self, station: Station, component: str, value: float | None) -> dict:
        place = (
            {"lat": station.lat, "lon": station.lon}
            if station.lat is not None and station.lon is not None
            else {}
        )
        return {
            "station": station.code,
            "station_name": station.name,
            "component": component,
            "value": value,
            "unit": UNIT,
        } | place


class AirSource:
    """The part every air source shares: the options of AirOptions and the items built from its readings."""

    def __init__(
        self,
        feed: FeedInfo,
        components=("o3",),
        thresholds=None,
        stale_after: int = DEFAULT_STALE_AFTER,
        daily_summary: bool = False,
    ):
        self.feed = feed
        self.components = normalize_components(components)
        self.items = AirItems(feed, thresholds_for(self.components, thresholds), stale_after, daily_summary)

    def build(
        self, station: Station, measured: Iterable[tuple[str, Reading]], fetched_at: datetime
    ) -> list[Item]:
        """The station's items from (component, reading) pairs; components not configured are left out."""
        readings: dict[str, list[Reading]] = {component: [] for component in self.components}
        for component, reading in measured:
            if component in readings:
                readings[component].append(reading)
        return self.items.build(station, readings, fetched_at)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
