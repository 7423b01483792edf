"""Desk actions shared by the API and the admin page: check the rules, write records and audit, update feeds.

Each action runs in one transaction that first locks the announcement row, so the check and the write see
the same state. After a change the announcement's own feed is refreshed through the pipeline (fetch -> parse
-> normalize -> store -> render), and every feed a crisis version targets is re-rendered, so feeds change
within the same request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext

from ..config import FeedSettings
from ..items import Item
from ..output import publish
from ..pipeline import refresh, safe_url
from ..runtime import Runtime
from . import records, rules
from .drafts import UNSAVED, draft_item
from .rules import Announcement, Forbidden, Invalid, NotFound, User


class Desk:
    """The editorial desk of one running server."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.engine = runtime.store.engine

    # --- where -----------------------------------------------------------------------------------------
    def office(self, feed_id: str) -> str | None:
        """The office an announcements feed belongs to; None for any other or unknown feed."""
        feed = self.runtime.settings.feeds.get(feed_id)
        return feed.options.get("office") if feed is not None and feed.reads_desk else None

    def postable_feeds(self, user: User) -> list[FeedSettings]:
        """The announcements feeds this user may post into."""
        feeds = self.runtime.settings.feeds.values()
        return [f for f in feeds if f.reads_desk and rules.may_act_in(user, f.options.get("office"))]

    # --- reading ---------------------------------------------------------------------------------------
    def get(self, user: User, announcement_id: int) -> Announcement:
        """One announcement with its versions; NotFound or Forbidden."""
        with self.engine.connect() as connection:
            found = records.announcement(connection, announcement_id)
        if found is None:
            raise NotFound(lazy_gettext("There is no announcement with this id."))
        if not rules.readable(user, found, self.office(found.feed_id)):
            raise Forbidden(lazy_gettext("This announcement belongs to another office."))
        return found

    def list(self, user: User, status: str | None = None, feed_id: str | None = None) -> list[Announcement]:
        """The announcements the user may see, newest first, optionally by status and feed."""
        feed_ids = None if user.is_admin else [f.id for f in self.postable_feeds(user)]
        if feed_id is not None:
            feed_ids = [feed_id] if feed_ids is None or feed_id in feed_ids else []
        with self.engine.connect() as connection:
            found = records.announcements_in(connection, feed_ids)
        return [a for a in found if status is None or a.status == status]

    def audit(self, user: User, announcement_id: int | None = None) -> list[records.AuditEntry]:
        """Audit log lines the user may read: of one announcement, or of every one they may see."""
        if announcement_id is not None:
            ids = [self.get(user, announcement_id).id]
        else:
            ids = None if user.is_admin else [a.id for a in self.list(user)]
        with self.engine.connect() as connection:
            return records.audit_entries(connection, ids)

    # --- writing ---------------------------------------------------------------------------------------
    def create(self, user: User, feed_id: str, content: Mapping[str, Any], now: datetime) -> Announcement:
        """Post a new announcement (version 1, pending approval) into an announcements feed."""
        office = self.office(feed_id)
        if office is None:
            raise Invalid({"feed": [lazy_gettext("Must be the id of an announcements feed.")]})
        rules.require_office(user, office)
        content = self.check(cleaned(content), now, feed_id)
        with self.engine.begin() as connection:
            announcement_id = records.insert_announcement(connection, feed_id, user.id, now)
            records.insert_version(connection, announcement_id, 1, content, user.id, now)
            records.add_audit(connection, user, "create", now, announcement_id, 1)
        return self._after_change(announcement_id, now)

    def edit(
        self, user: User, announcement_id: int, changes: Mapping[str, Any], now: datetime
    ) -> Announcement:
        """Add a version with these changes (pending again); an edit that changes nothing adds none."""
        with self.engine.begin() as connection:
            current = self._locked(connection, announcement_id, now)
            rules.check_edit(user, current, self.office(current.feed_id))
            content = rules.revised(current.latest, cleaned(changes))
            if content is None:
                return current
            content = self.check(content, now, current.feed_id)
            number = current.latest.number + 1
            records.insert_version(connection, announcement_id, number, content, user.id, now)
            records.add_audit(connection, user, "edit", now, announcement_id, number)
        return self._after_change(announcement_id, now)

    def approve(self, user: User, announcement_id: int, number: int, now: datetime) -> Announcement:
        """Approve exactly version `number` (four-eyes); it goes out at its publication time."""
        with self.engine.begin() as connection:
            current = self._locked(connection, announcement_id, now)
            rules.check_approval(user, current, self.office(current.feed_id), number)
            records.insert_approval(connection, announcement_id, number, user.id, now)
            written_by = ", ".join(sorted(current.contributors(number).values()))
            detail = f"written by {written_by}"  # everyone whose text this approval puts out
            records.add_audit(connection, user, "approve", now, announcement_id, number, detail=detail)
        return self._after_change(announcement_id, now, published_changed=True)

    def withdraw(self, user: User, announcement_id: int, now: datetime) -> Announcement:
        """Take an announcement out of every feed now; its history stays."""
        with self.engine.begin() as connection:
            current = self._locked(connection, announcement_id, now)
            rules.check_withdrawal(user, current, self.office(current.feed_id))
            records.mark_withdrawn(connection, announcement_id, user.id, now)
            records.add_audit(connection, user, "withdraw", now, announcement_id, current.latest.number)
        return self._after_change(announcement_id, now, published_changed=True)

    def draft(
        self, user: User, feed_id: str, changes: Mapping[str, Any], now: datetime, current=None
    ) -> Item:
        """The Item a new announcement (or an edit of `current`) would become once approved; nothing is saved.

        The same checks as create and edit apply, so a preview shows nothing that saving would refuse."""
        if current is None:
            office = self.office(feed_id)
            if office is None:
                raise Invalid({"feed": [lazy_gettext("Must be the id of an announcements feed.")]})
            rules.require_office(user, office)
            return draft_item(feed_id, UNSAVED, 1, self.check(cleaned(changes), now, feed_id), now)
        rules.check_edit(user, current, self.office(current.feed_id))
        content = rules.revised(current.latest, cleaned(changes)) or current.latest.content()
        content = self.check(dict(content), now, current.feed_id)
        return draft_item(current.feed_id, current.id, current.latest.number + 1, content, now)

    def note(self, user: User, action: str, now: datetime, announcement_id: int, detail: str = "") -> None:
        """Put an action on an announcement taken outside the desk (a delivery retried) in the audit log."""
        with self.engine.begin() as connection:
            records.add_audit(connection, user, action, now, announcement_id, detail=detail)

    def _locked(self, connection, announcement_id: int, now: datetime) -> Announcement:
        if not records.lock_announcement(connection, announcement_id, now):
            raise NotFound(lazy_gettext("There is no announcement with this id."))
        return records.announcement(connection, announcement_id)

    def channels(self, feed_id: str) -> tuple[str, ...]:
        """The configured channels an announcements feed posts to: the ones its announcements may choose."""
        feed = self.runtime.settings.feeds.get(feed_id)
        configured = self.runtime.settings.channels
        return tuple(name for name in feed.channels if name in configured) if feed is not None else ()

    def check(self, content: dict[str, Any], now: datetime, feed_id: str) -> dict[str, Any]:
        """Defaults filled in and the rules across fields applied; Invalid lists what is wrong."""
        content["publish_at"] = content.get("publish_at") or now
        content["targets"] = tuple(content.get("targets") or ())
        content["channels"] = rules.chosen_channels(content.get("channels"))
        errors = rules.content_errors(content, self.runtime.settings.feeds, self.channels(feed_id))
        if errors:
            raise Invalid(errors)
        return content

    def _after_change(self, announcement_id: int, now: datetime, published_changed=False) -> Announcement:
        """Refresh the home feed through the pipeline; re-render the feeds a crisis version targets."""
        with self.engine.connect() as connection:
            changed = records.announcement(connection, announcement_id)
        if changed.feed_id in self.runtime.settings.feeds:
            refresh(self.runtime, changed.feed_id, now=now, respect_backoff=False)
        crisis_feeds = rules.crisis_feeds(changed, self.runtime.settings.feeds) if published_changed else ()
        for feed_id in sorted(crisis_feeds):
            publish(self.runtime, self.runtime.feed(feed_id), now)
        return changed


def cleaned(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Staff text stays exactly as the schema let it in; a link the feeds would change is refused."""
    fields = dict(fields)
    if fields.get("link") and safe_url(fields["link"]) != fields["link"]:
        message = lazy_gettext("Must be an http or https link without spaces, quotes or angle brackets.")
        raise Invalid({"link": [message]})
    return fields
