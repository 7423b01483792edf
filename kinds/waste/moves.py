"""Moved pickups: when a provider shifts a collection day, say so and keep the calendar event's UID."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from feedserver.display import WEEKDAYS
from feedserver.i18n import N_, NC_, day_text, known, say
from feedserver.items import NOTICE, FeedInfo, Item, make_item

MAX_SHIFT_DAYS = 7  # a pickup that moves further than this is treated as cancelled plus new
# TRANSLATORS: a CLDR date pattern (yyyy year, MM month, dd day; d and M without a leading zero)
SHORT_DAY = NC_("moved pickup", "yyyy-MM-dd")
MOVED = N_("Moved: {label} from {src} to {dst}")


def reconcile_moves(
    feed: FeedInfo, previous: Sequence[Item], current: Sequence[Item], now: datetime
) -> list[Item]:
    """Carry calendar identity across refreshes, pair vanished with new pickups of one kind, add notices."""
    before = {item.id: item for item in previous}
    result = [_carry_identity(item, before.get(item.id)) for item in current]
    present = {item.id for item in result}
    added = [i for i in result if i.id not in before]
    vanished = [p for p in previous if p.id not in present and p.data.get("kind") != NOTICE and _day(p)]
    notices = []
    for old in sorted(vanished, key=lambda i: (_day(i), i.id)):
        partner = _closest(old, added)
        if partner is None:
            continue
        added.remove(partner)
        moved = _with_data(
            partner,
            uid=old.data.get("uid", f"{old.id}@feedserver"),
            sequence=int(old.data.get("sequence", 0)) + 1,
        )
        result[result.index(partner)] = moved
        notices.append(_notice(feed, old, moved, now))
    kept = [p for p in previous if p.data.get("kind") == NOTICE and p.data.get("target") in present]
    known = {n.id for n in kept}
    return result + kept + [n for n in notices if n.id not in known]


def _carry_identity(item: Item, old: Item | None) -> Item:
    if old is None or "uid" not in old.data or "uid" in item.data:
        return item
    return _with_data(item, uid=old.data["uid"], sequence=old.data.get("sequence", 0))


def _closest(old: Item, candidates: Sequence[Item]) -> Item | None:
    same_kind = [
        c
        for c in candidates
        if _label(c) == _label(old) and _day(c) and abs((_day(c) - _day(old)).days) <= MAX_SHIFT_DAYS
    ]
    return min(same_kind, key=lambda c: (abs((_day(c) - _day(old)).days), c.id), default=None)


def _notice(feed: FeedInfo, old: Item, new: Item, now: datetime) -> Item:
    label = new.data.get("label") or new.title
    lang = known(feed.language)
    src, dst = _short(_day(old), lang), _short(_day(new), lang)
    title = say(lang, MOVED).format(label=label, src=src, dst=dst)
    return make_item(
        feed.id,
        f"moved|{old.key}|{new.key}",
        title=title,
        published=now,
        summary=title + ".",
        category=new.category,
        area=new.area,
        starts=new.starts,
        data={
            "kind": NOTICE,
            "target": new.id,
            "label": label,
            "from": _day(old).isoformat(),
            "to": _day(new).isoformat(),
        },
    )


def _short(day: date, lang: str) -> str:
    """'Di 19.1.' or 'Tue 2027-01-19' (the weekday a word of the catalog: CLDR's German ones end in a dot)."""
    return f"{say(lang, WEEKDAYS[day.weekday()])} {day_text(day, lang, SHORT_DAY)}"


def _label(item: Item) -> tuple:
    return (item.category, item.data.get("label"), item.area)


def _day(item: Item) -> date | None:
    value = item.starts
    return value.date() if isinstance(value, datetime) else value


def _with_data(item: Item, **values) -> Item:
    return replace(item, data={**item.data, **values})
