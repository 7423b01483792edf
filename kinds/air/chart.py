"""The air widget's 48-hour chart: geometry for templates/widgets/chart.svg, computed on the server."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from feedserver.display import clock_text, number_text
from feedserver.i18n import N_, say, say_all

from .vocabulary import NAMES, UNIT, WINDOW

WIDTH, HEIGHT = 320, 130
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 24  # room for the value and time labels
LABEL_ROOM = 12  # a threshold label this close to the top hides the top value label
NOT_IN_ID = re.compile(r"[^a-zA-Z0-9_-]")


# The air view's words (kinds/air/__init__.py hands them to the widget as Kind.widget_texts).
TEXTS = {
    "air": N_("Current air quality"),
    "no_readings": N_("No recent readings."),
    "level_none": N_("below the thresholds"),
    "level_info": N_("information threshold exceeded"),
    "level_alert": N_("alert threshold exceeded"),
    "level_unknown": N_("no threshold set"),
    "stale": N_("out of date"),
    "measured": N_("measured"),
    "chart": N_("The last 48 hours"),
    "chart_desc": N_(
        "{name} at {station}: {count} hourly values, lowest {low}, highest {high}, latest {last} {unit} at "
        "{time}."
    ),
    "table": N_("Readings as a table"),
    "hour": N_("Hour ending"),
    "value": N_("Value"),
}


def pollutant(component: str, lang: str) -> str:
    """A pollutant's name (Ozon, Nitrogen dioxide ...)."""
    name = NAMES.get(component)
    return say(lang, name) if name else component.upper()


@dataclass(frozen=True)
class Threshold:
    """A dashed threshold line with its label."""

    level: str  # info or alert
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    """Everything chart.svg draws, in viewBox units, plus its title and description."""

    id: str
    title: str
    desc: str
    points: str
    last_x: float
    last_y: float
    thresholds: list[Threshold]
    top_label: str
    start_label: str
    end_label: str
    rows: list[tuple[datetime, str, str]]  # (hour end, clock text, value text) for the text alternative
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    top: int = TOP
    bottom_edge: int = HEIGHT - BOTTOM


def chart_of(reading: dict, lang: str, zone: ZoneInfo) -> Chart | None:
    """The chart of one reading's series (the API's `readings` entry); None with fewer than two values."""
    series = [(p["at"], float(p["value"])) for p in reading.get("series") or []]
    if len(series) < 2:
        return None
    end = series[-1][0]
    start = end - WINDOW
    series = [(at, value) for at, value in series if at >= start]
    thresholds = {k: v for k, v in (reading.get("thresholds") or {}).items() if v is not None}
    top = _nice_top(max([v for _, v in series] + [thresholds.get("info") or thresholds.get("alert") or 0]))
    x = _scale(start, end)
    y = _values(top)
    points = " ".join(f"{x(at):.1f},{y(value):.1f}" for at, value in series)
    values = [value for _, value in series]
    lines = [
        Threshold(level, round(y(value), 1), number_text(value, lang))
        for level, value in sorted(thresholds.items())
        if value <= top
    ]
    text = say_all(lang, TEXTS)
    name = pollutant(reading.get("component") or "", lang)
    return Chart(
        id=NOT_IN_ID.sub("-", f"fsw-chart-{reading.get('station') or 'x'}-{reading.get('component')}"),
        title=f"{name}: {text['chart']}",
        desc=text["chart_desc"].format(
            name=name,
            station=reading.get("station_name") or reading.get("station") or "",
            count=len(series),
            low=number_text(min(values), lang),
            high=number_text(max(values), lang),
            last=number_text(values[-1], lang),
            unit=reading.get("unit") or UNIT,
            time=clock_text(series[-1][0], zone),
        ),
        points=points,
        last_x=round(x(series[-1][0]), 1),
        last_y=round(y(values[-1]), 1),
        thresholds=lines,
        top_label="" if any(t.y - TOP < LABEL_ROOM for t in lines) else number_text(top, lang),
        start_label="−48 h",
        end_label=clock_text(end, zone),
        rows=[(at, clock_text(at, zone), number_text(value, lang)) for at, value in reversed(series)],
    )


def _nice_top(peak: float) -> float:
    """A round upper bound above the peak (10, 20, 50, 100, 200 ... steps), so the axis reads easily."""
    if peak <= 0:
        return 10.0
    magnitude = 10 ** math.floor(math.log10(peak * 1.1))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= peak * 1.1:
            return float(step * magnitude)
    return float(10 * magnitude)


def _scale(start: datetime, end: datetime):
    span = (end - start) / timedelta(seconds=1)
    return lambda at: LEFT + (at - start) / timedelta(seconds=1) / span * (WIDTH - LEFT - RIGHT)


def _values(top: float):
    height = HEIGHT - TOP - BOTTOM
    return lambda value: TOP + height - max(0.0, min(value, top)) / top * height
