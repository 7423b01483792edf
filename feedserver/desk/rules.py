"""The editorial desk's rules in one place: who may post where, and the four-eyes principle.

Four-eyes, as implemented here:
- An announcement is a chain of immutable versions; every edit adds one (an edit changing nothing adds none).
- A version goes out only after a user with the approver (or admin) role approves exactly that version
  number, and that user wrote none of the versions since the last approved one (its contributors): an
  approver whose text an author merely touched up cannot approve it. Naming any other number is refused as
  stale (409); approving text one contributed to is refused (403).
- An edit after approval adds a new, unapproved version: the announcement is pending again and the feeds keep
  showing the last approved version until the new one is approved (readers never see unapproved text).
- Withdrawal takes the announcement out of every feed at once; its versions, approvals and audit log stay.
- Authors, approvers and admins belong to offices; everyone but an admin acts only on feeds whose `office`
  option is one of their offices.
Everything here is pure: records come from feedserver.desk.records; actions run in feedserver.desk.actions.
Messages are English msgids made lazy: they become words in the request's language when shown (/admin in
German or English, the desk API in English), and English outside a request.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext

ROLES = ("author", "approver", "admin")
APPROVER_ROLES = frozenset({"approver", "admin"})
ALL_FEEDS = "*"  # the crisis target meaning "every feed"
EDITABLE = (
    "title", "text", "link", "starts", "ends", "publish_at", "expires", "crisis", "targets", "channels",
)  # fmt: skip
STATUSES = ("pending", "approved", "withdrawn")


class DeskError(Exception):
    """A refused desk action; the web layer turns it into a problem response with this status."""

    status = 400
    title = lazy_gettext("Bad Request")

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Unauthorized(DeskError):
    status, title = 401, lazy_gettext("Unauthorized")


class Forbidden(DeskError):
    status, title = 403, lazy_gettext("Forbidden")


class NotFound(DeskError):
    status, title = 404, lazy_gettext("Not Found")


class Conflict(DeskError):
    status, title = 409, lazy_gettext("Conflict")


class TooManyRequests(DeskError):
    """A throttled login or token check: the answer carries Retry-After (whole seconds)."""

    status, title = 429, lazy_gettext("Too Many Requests")

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after


class Invalid(DeskError):
    """Field errors: a dict of field name -> messages (fixed texts, never the submitted values)."""

    status, title = 422, lazy_gettext("Unprocessable Content")

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__(lazy_gettext("The request has invalid fields; see `errors`."), errors=dict(errors))


@dataclass(frozen=True)
class User:
    """A member of staff (or the program acting with one of their tokens)."""

    id: int
    name: str
    role: str
    offices: frozenset[str] = frozenset()
    active: bool = True

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Version:
    """One immutable version of an announcement, with its approval if it has one."""

    number: int
    title: str
    text: str
    link: str | None
    starts: datetime | None
    ends: datetime | None
    publish_at: datetime
    expires: datetime | None
    crisis: bool
    targets: tuple[str, ...]
    author_id: int
    author: str
    created_at: datetime
    approver_id: int | None = None
    approver: str | None = None
    approved_at: datetime | None = None
    channels: tuple[str, ...] | None = None  # the [channels.NAME] chosen; None: every channel of the feed

    @property
    def approved(self) -> bool:
        return self.approver_id is not None

    def content(self) -> dict[str, Any]:
        """The editable fields, as an edit would give them."""
        return {name: getattr(self, name) for name in EDITABLE}


@dataclass(frozen=True)
class Announcement:
    """An announcement posted into one feed: its versions, oldest first, and whether it was withdrawn."""

    id: int
    feed_id: str
    created_by: str
    created_at: datetime
    versions: tuple[Version, ...] = field(default_factory=tuple)
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    @property
    def published(self) -> Version | None:
        """The version feeds show: the newest approved one, none once withdrawn."""
        if self.withdrawn_at is not None:
            return None
        return next((v for v in reversed(self.versions) if v.approved), None)

    @property
    def status(self) -> str:
        """withdrawn, approved (the newest version is approved) or pending (it awaits approval)."""
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "approved" if self.latest.approved else "pending"

    def contributors(self, number: int) -> dict[int, str]:
        """Who wrote the versions up to `number` since the last approved one before it: id -> name."""
        written: dict[int, str] = {}
        for version in reversed([v for v in self.versions if v.number <= number]):
            if version.approved and version.number < number:
                break
            written.setdefault(version.author_id, version.author)
        return written


def may_act_in(user: User, office: str | None) -> bool:
    """True when the user may work on announcements of a feed belonging to this office."""
    return user.active and (user.is_admin or (office is not None and office in user.offices))


def require_office(user: User, office: str | None) -> None:
    """Forbidden unless the user belongs to the feed's office (admins belong everywhere)."""
    if not may_act_in(user, office):
        raise Forbidden(lazy_gettext("You may act only on announcements of your own office's feeds."))


def check_edit(user: User, announcement: Announcement, office: str | None) -> None:
    """Any member of the office may add a version, as long as the announcement is not withdrawn."""
    require_office(user, office)
    if announcement.withdrawn_at is not None:
        raise Conflict(
            lazy_gettext("This announcement was withdrawn; its history can be read but not changed.")
        )


def check_approval(user: User, announcement: Announcement, office: str | None, number: int) -> None:
    """The four-eyes check: an approver of the office, the exact latest version, not co-written by them."""
    if user.role not in APPROVER_ROLES:
        raise Forbidden(lazy_gettext("Only users with the approver or admin role may approve."))
    require_office(user, office)
    if announcement.withdrawn_at is not None:
        raise Conflict(lazy_gettext("This announcement was withdrawn."))
    latest = announcement.latest
    if number != latest.number:
        raise Conflict(
            lazy_gettext(
                "Version %(number)s is not the current version; review version %(current)s and approve that.",
                number=number,
                current=latest.number,
            ),
            current_version=latest.number,
        )
    if latest.approved:
        raise Conflict(
            lazy_gettext("Version %(number)s is already approved.", number=number),
            current_version=latest.number,
        )
    if user.id in announcement.contributors(number):
        raise Forbidden(
            lazy_gettext(
                "Four-eyes rule: a version must be approved by someone other than its author; you wrote "
                "this version or one of the unapproved versions before it."
            )
        )


def may_approve(user: User, announcement: Announcement, office: str | None) -> bool:
    """True when check_approval would let this user approve the current version now."""
    try:
        check_approval(user, announcement, office, announcement.latest.number)
    except DeskError:
        return False
    return True


def check_withdrawal(user: User, announcement: Announcement, office: str | None) -> None:
    """Withdrawing needs no second pair of eyes: taking something down must be fast."""
    require_office(user, office)
    if announcement.withdrawn_at is not None:
        raise Conflict(lazy_gettext("This announcement is already withdrawn."))


def content_errors(
    content: Mapping[str, Any], feed_ids: Collection[str], channels: Collection[str] = ()
) -> dict[str, list[str]]:
    """Rules across fields of one version's content (the schema checked each field on its own); `channels`
    are those the announcement's feed posts to, the only ones it may choose."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message) -> None:
        errors.setdefault(name, []).append(message)

    if content.get("ends") is not None and content.get("starts") is None:
        add("ends", lazy_gettext("An end needs a start."))
    elif content.get("ends") is not None and content["ends"] < content["starts"]:
        add("ends", lazy_gettext("The end must not be before the start."))
    if content.get("expires") is not None and content["expires"] <= content["publish_at"]:
        add("expires", lazy_gettext("The expiry must be after the publication time."))
    targets = tuple(content.get("targets") or ())
    if content.get("crisis") and not targets:
        add(
            "targets",
            lazy_gettext('A crisis announcement needs targets: a list of feed ids, or "*" for every feed.'),
        )
    elif targets and not content.get("crisis"):
        add("targets", lazy_gettext("Only crisis announcements have targets."))
    elif ALL_FEEDS in targets and len(targets) > 1:
        add("targets", lazy_gettext('"*" (every feed) cannot be combined with feed ids.'))
    elif any(t != ALL_FEEDS and t not in feed_ids for t in targets):
        add("targets", lazy_gettext("Every target must be the id of a configured feed."))
    if any(name not in channels for name in content.get("channels") or ()):
        add("channels", lazy_gettext("Every channel must be one this announcement's feed posts to."))
    return errors


def revised(latest: Version, changes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The content of the next version (latest plus changes), or None when the changes change nothing."""
    content = latest.content() | {k: v for k, v in changes.items() if k in EDITABLE}
    content["targets"] = tuple(content.get("targets") or ())
    content["channels"] = chosen_channels(content.get("channels"))
    return None if content == latest.content() else content


def chosen_channels(channels: Iterable[str] | None) -> tuple[str, ...] | None:
    """A channel choice as stored: names in a stable order, or None for every channel of the feed."""
    return None if channels is None else tuple(sorted(set(channels)))


def visible(version: Version, now: datetime) -> bool:
    """True while a version is between its publication time and its expiry."""
    return version.publish_at <= now and (version.expires is None or version.expires > now)


def targets_feed(version: Version, feed_id: str) -> bool:
    """True when a crisis version is aimed at this feed."""
    return version.crisis and (ALL_FEEDS in version.targets or feed_id in version.targets)


def crisis_feeds(announcement: Announcement, feed_ids: Iterable[str]) -> set[str]:
    """Every feed any version of this announcement aimed a crisis at (to re-render after a change)."""
    feed_ids = list(feed_ids)
    return {f for v in announcement.versions for f in feed_ids if targets_feed(v, f)}


def readable(user: User, announcement: Announcement, office: str | None) -> bool:
    """Members of the office (and admins) may read an announcement and its audit log."""
    return may_act_in(user, office)
