"""Demo desk accounts and announcements: an author and an approver with fresh passwords every start, and
a few approved announcements so the announcements feeds are not empty. Only ever used in a demo; a server
started without [demo] disables accounts the demo left in its database."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..desk import records
from ..desk.actions import Desk
from ..desk.auth import hash_password
from ..runtime import Runtime

ACCOUNTS = (("demo-autorin", "author"), ("demo-freigabe", "approver"))


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
    """What a press office might have published lately, dated relative to `now` (local time)."""
    saturday = _next_weekday(now, 5)
    friday = _next_weekday(now, 4)
    return [
        _content(
            "Stadtfest am Samstag auf dem Marktplatz",
            "Musik, Essen und Kinderprogramm von 14 bis 23 Uhr. Die Marktstraße ist ab 10 Uhr gesperrt; "
            "Busse fahren über die Ringstraße.",
            starts=_at(saturday, 14),
            ends=_at(saturday, 23),
            expires=_at(saturday, 23),
        ),
        _content(
            "Bürgerbüro am Freitag erst ab 10 Uhr geöffnet",
            "Wegen einer Betriebsversammlung öffnet das Bürgerbüro am Freitag erst um 10 Uhr. Termine vor 10 "
            "Uhr werden verschoben; Betroffene werden angerufen.",
            starts=_at(friday, 10),
            expires=_at(friday, 18),
        ),
        _content(
            "Kanalarbeiten: Bahnhofstraße bis auf Weiteres halbseitig gesperrt",
            "Zwischen Rathausplatz und Lindenallee wird der Kanal erneuert. Der Verkehr wird mit einer Ampel "
            "einspurig vorbeigeführt; Fußwege bleiben offen.",
            publish_at=now - timedelta(days=2),
        ),
        _content(
            "Trinkbrunnen in der Innenstadt wieder in Betrieb",
            "Die sechs öffentlichen Trinkbrunnen am Markt, im Stadtpark und am Bahnhof geben wieder Wasser "
            "in Trinkwasserqualität ab.",
            publish_at=now - timedelta(days=1),
            link="https://www.example.org/trinkbrunnen",
        ),
    ]


def _content(title: str, text: str, **fields) -> dict:
    return {
        "title": title,
        "text": text,
        "link": fields.get("link"),
        "starts": fields.get("starts"),
        "ends": fields.get("ends"),
        "publish_at": fields.get("publish_at"),
        "expires": fields.get("expires"),
        "crisis": False,
        "targets": (),
    }


def _next_weekday(now: datetime, weekday: int) -> datetime:
    """The next such weekday after today (Monday is 0)."""
    return now + timedelta(days=(weekday - now.weekday() - 1) % 7 + 1)


def _at(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.date(), time(hour), tzinfo=day.tzinfo)
