"""Demo desk accounts and announcements: an author and an approver with fresh passwords every start, and
a few approved announcements so the announcements feeds are not empty. Only ever used in a demo; a server
started without [demo] disables accounts the demo left in its database."""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from ..desk import records
from ..desk.actions import Desk
from ..desk.auth import hash_password
from ..runtime import Runtime

ACCOUNTS = (("demo-autorin", "author"), ("demo-freigabe", "approver"))
ANNOUNCEMENTS = Path(__file__).resolve().parent.parent / "data" / "demo" / "announcements.toml"
TIMES = ("starts", "ends", "publish_at", "expires")  # dated relative to the seeding, see the data file
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password: str


def open_accounts(runtime: Runtime, now: datetime) -> list[Account]:
    """The demo's author and approver, for every announcements feed's office, with new passwords."""
    desk = Desk(runtime)
    offices = sorted({o for f in runtime.settings.feeds if (o := desk.office(f))})
    accounts = []
    with runtime.store.engine.begin() as connection:
        for name, role in ACCOUNTS:
            password = secrets.token_urlsafe(12)
            user = records.user_by_name(connection, name)
            if user is None:
                user_id = records.add_user(connection, name, role, offices, now)
                records.add_audit(connection, None, "user-add", now, detail=f"user {name}: demo {role}")
            else:
                user_id = user.id
                records.set_active(connection, user_id, True, now)
            records.set_password_hash(connection, user_id, hash_password(password), now)
            accounts.append(Account(name, role, password))
    return accounts


def retire_accounts(runtime: Runtime, now: datetime) -> list[str]:
    """Disable the demo's accounts if an earlier demo left them in this database; their names."""
    retired = []
    with runtime.store.engine.begin() as connection:
        for name, _ in ACCOUNTS:
            user = records.user_by_name(connection, name)
            if user is not None and user.active:
                records.set_active(connection, user.id, False, now)
                records.add_audit(connection, None, "user-disable", now, detail=f"user {name}: no demo")
                retired.append(name)
    return retired


def seed_announcements(runtime: Runtime, now: datetime) -> int:
    """Post and approve the demo announcements each announcements feed lacks (by title); how many."""
    desk = Desk(runtime)
    with runtime.store.engine.connect() as connection:
        author = records.user_by_name(connection, ACCOUNTS[0][0])
        approver = records.user_by_name(connection, ACCOUNTS[1][0])
    posted = 0
    for feed_id in [f for f in runtime.settings.feeds if desk.office(f)]:
        live = {a.published.title for a in runtime.desk.live_announcements(feed_id) if a.published}
        zone = ZoneInfo(runtime.feed(feed_id).timezone)
        for content in announcements(now.astimezone(zone)):
            if content["title"] in live:
                continue
            created = desk.create(author, feed_id, content, now)
            desk.approve(approver, created.id, created.latest.number, now)
            posted += 1
    return posted


def announcements(now: datetime) -> list[dict]:
    """What a press office might have published lately (data/demo/announcements.toml), dated from `now`."""
    return [_content(entry, now) for entry in _recorded()]


@cache
def _recorded() -> tuple[dict, ...]:
    return tuple(tomllib.loads(ANNOUNCEMENTS.read_text(encoding="utf-8"))["announcement"])


def _content(entry: dict, now: datetime) -> dict:
    content = {"title": entry["title"], "text": entry["text"], "link": entry.get("link")}
    content |= {key: _when(entry[key], now) if key in entry else None for key in TIMES}
    return content | {"crisis": False, "targets": ()}


def _when(spec: str, now: datetime) -> datetime:
    """'-2d': two days before now; 'saturday 14': the next Saturday after today at 14:00 (local time)."""
    if spec.startswith("-"):
        return now - timedelta(days=int(spec.removeprefix("-").removesuffix("d")))
    weekday, hour = spec.split()
    return _at(_next_weekday(now, WEEKDAYS.index(weekday)), int(hour))


def _next_weekday(now: datetime, weekday: int) -> datetime:
    """The next such weekday after today (Monday is 0)."""
    return now + timedelta(days=(weekday - now.weekday() - 1) % 7 + 1)


def _at(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.date(), time(hour), tzinfo=day.tzinfo)
