"""The waste vocabulary: categories, keywords that map onto them, the shared options, the reminder line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields

from feedserver.fields import ClockTime, TimeZone
from feedserver.i18n import LANGUAGES, N_, NC_, Message, day_text, known, say
from feedserver.items import FeedInfo, Item, make_item
from feedserver.sanitize import fold


class WasteCategory(StrEnum):
    """The fixed waste vocabulary shared by all waste sources and all output formats."""

    ORGANIC = "organic"
    PAPER = "paper"
    PACKAGING = "packaging"
    RESIDUAL = "residual"
    GLASS = "glass"
    GARDEN = "garden"
    BULKY = "bulky"
    HAZARDOUS = "hazardous"
    CHRISTMAS_TREE = "christmas-tree"
    OTHER = "other"


# Checked in order: more specific words first ("Weihnachtsbaum" before "baum", "Bioabfall" before "abfall").
KEYWORDS: tuple[tuple[WasteCategory, tuple[str, ...]], ...] = (
    (
        WasteCategory.CHRISTMAS_TREE,
        ("weihnachtsbaum", "tannenbaum", "christbaum", "christmas", "xmas", "sapin"),
    ),
    (
        WasteCategory.HAZARDOUS,
        (
            "sondermull",
            "schadstoff",
            "problemabfall",
            "problemstoff",
            "giftmobil",
            "umweltmobil",
            "hazardous",
            "chemical",
            "dechets dangereux",
        ),
    ),
    (
        WasteCategory.BULKY,
        ("sperrmull", "sperrgut", "bulky", "encombrant", "elektroschrott", "altmetall", "schrott"),
    ),
    (
        WasteCategory.GARDEN,
        (
            "garten",
            "grunschnitt",
            "grungut",
            "grunabfall",
            "baumschnitt",
            "strauchschnitt",
            "laub",
            "garden",
            "yard",
            "green waste",
            "dechets verts",
        ),
    ),
    (WasteCategory.ORGANIC, ("bio", "kompost", "organic", "food waste", "braune tonne", "organique", "gft")),
    (
        WasteCategory.PAPER,
        ("papier", "pappe", "karton", "ppk", "blaue tonne", "paper", "cardboard", "carton"),
    ),
    (
        WasteCategory.PACKAGING,
        (
            "gelb",
            "jaune",
            "verpackung",
            "wertstoff",
            "lvp",
            "packaging",
            "recycl",
            "pmc",
            "plastic",
            "plastik",
            "leichtstoff",
        ),
    ),
    (WasteCategory.GLASS, ("glas", "glass", "verre")),
    (
        WasteCategory.RESIDUAL,
        (
            "rest",
            "hausmull",
            "graue tonne",
            "schwarze tonne",
            "residual",
            "general waste",
            "household waste",
            "trash",
            "menager",
            "ordures",
        ),
    ),
)

CATEGORY_NAMES: dict[WasteCategory, Message] = {
    WasteCategory.ORGANIC: N_("Organic waste"),
    WasteCategory.PAPER: N_("Paper"),
    WasteCategory.PACKAGING: N_("Packaging"),
    WasteCategory.RESIDUAL: N_("Residual waste"),
    WasteCategory.GLASS: N_("Glass"),
    WasteCategory.GARDEN: N_("Garden waste"),
    WasteCategory.BULKY: N_("Bulky waste"),
    WasteCategory.HAZARDOUS: N_("Hazardous waste"),
    WasteCategory.CHRISTMAS_TREE: N_("Christmas trees"),
    WasteCategory.OTHER: NC_("waste category", "Other"),
}

TOMORROW = N_("Tomorrow")
# TRANSLATORS: a CLDR date pattern (EEEE weekday, dd day, MM month, yyyy year), e.g. Thursday, 2026-06-25
DAY_PATTERN = N_("EEEE, yyyy-MM-dd")
PICKUP = N_("{label}: collection on {day}.")


def categorize(label: str, overrides: Mapping[str, str] | None = None) -> WasteCategory:
    """Map an upstream waste-type label onto the fixed vocabulary; config overrides win."""
    folded = fold(label)
    for keyword, category in (overrides or {}).items():
        if fold(keyword) in folded:
            return WasteCategory(category)
    for category, words in KEYWORDS:
        if any(word in folded for word in words):
            return category
    return WasteCategory.OTHER


@cache  # a constant, asked for per feed and request (the API lists thousands of feeds): folded once
def category_aliases() -> Mapping[str, WasteCategory]:
    """Every name a filter may use for a category: the English term and the German and English labels."""
    aliases: dict[str, WasteCategory] = {}
    for category in WasteCategory:
        aliases[category.value] = category
        for lang in LANGUAGES:
            aliases[fold(say(lang, CATEGORY_NAMES[category]))] = category
    aliases.update(
        {
            "bio": WasteCategory.ORGANIC,
            "rest": WasteCategory.RESIDUAL,
            "gelb": WasteCategory.PACKAGING,
            "weihnachtsbaum": WasteCategory.CHRISTMAS_TREE,
            "garten": WasteCategory.GARDEN,
        }
    )
    return MappingProxyType(aliases)


def reminder_time(day: date, at: time, timezone: str) -> datetime:
    """When the SMS would go out: `at` local time on the evening before the collection day."""
    return datetime.combine(day - timedelta(days=1), at, tzinfo=ZoneInfo(timezone))


def reminder_title(label: str, language: str, place: str | None = None) -> str:
    """The SMS line, e.g. 'Morgen: Biotonne (Am Haspel)'."""
    prefix = say(known(language), TOMORROW)
    if place and fold(place) not in fold(label):
        return f"{prefix}: {label} ({place})"
    return f"{prefix}: {label}"


def format_day(day: date, language: str) -> str:
    """'Donnerstag, 25.06.2026' or 'Thursday, 2026-06-25'."""
    return day_text(day, language, DAY_PATTERN)


def pickup_summary(label: str, day: date, language: str, note: str = "") -> str:
    """The item text: which waste goes out on which day, plus the provider's note."""
    text = say(known(language), PICKUP).format(label=label, day=format_day(day, language))
    return f"{text} {note.strip()}".strip()


class CategoryMap(fields.Dict):
    """Waste-type keyword -> category from the fixed vocabulary."""

    def __init__(self, **kwargs):
        choices = [c.value for c in WasteCategory]
        super().__init__(
            keys=fields.String(),
            values=fields.String(
                validate=lambda v: v in choices or _fail(f"must be one of {', '.join(choices)}")
            ),
            **kwargs,
        )


def _fail(message: str):
    raise ValidationError(message)


class WasteOptions(Schema):
    """Options every waste source shares: category overrides, reminder time and local time zone."""

    categories = CategoryMap(load_default=dict)
    reminder = ClockTime(load_default=time(18, 0))
    timezone = TimeZone(load_default=None)


class WasteSource:
    """The part every waste source shares: the options of WasteOptions and the item of one pickup.

    A source's constructor takes its own options and hands the shared ones (`categories`, `reminder`,
    `timezone`) on as keywords.
    """

    def __init__(self, feed: FeedInfo, categories=None, reminder: time = time(18, 0), timezone=None):
        self.feed = feed
        self.categories = categories or {}
        self.reminder = reminder
        self.timezone = timezone or feed.timezone

    def pickup(
        self,
        key: str,
        label: str,
        day: date,
        *,
        note: str = "",
        at: str | None = None,
        area: str | None = None,
        **data,
    ) -> Item:
        """One collection: the reminder the evening before (naming the place `at`), its category, and `data`
        without empty values."""
        language = self.feed.language
        return make_item(
            self.feed.id,
            key,
            title=reminder_title(label, language, at),
            published=reminder_time(day, self.reminder, self.timezone),
            summary=pickup_summary(label, day, language, note),
            category=categorize(label, self.categories),
            area=area,
            starts=day,
            data={"label": label} | {name: value for name, value in data.items() if value},
        )


def by_day(items: Iterable[Item | None]) -> list[Item]:
    """Pickups sorted by day, the first of each key kept (upstreams repeat entries), None left out."""
    pickups: dict[str, Item] = {}
    for item in items:
        if item is not None:
            pickups.setdefault(item.key, item)
    return sorted(pickups.values(), key=lambda i: (i.starts, i.key))
