"""What the core asks of its plugins: channels that carry a publication on, and an overlay of items on top.

Publication (`output.publish`) is the only writer after the store. Once a feed's renditions are saved it
tells every channel of the runtime (static files, WebSub and ActivityPub, ...), in order; when only the feed's
health changed it tells them that. The overlay hands the renderers items that belong on top of a feed without
being its own (the desk's approved crisis notices), so rendering needs to know nothing about the desk. A
source whose upstream is the desk is handed a read-only DeskReader instead of the HTTP client.

A kind (waste, air, transit, ...) is a plugin too (`feedserver/registry.py`): it says how its items join what
the feed said before, whether they are calendar events or come and go, which filters and API data it adds and
which widget view shows it (its templates, words, script part and charts). The core asks the kind object; it
never compares a feed's kind with a name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from .i18n import N_, Message, say
from .items import FeedInfo, Item
from .stored import Rendition

if TYPE_CHECKING:
    from .filters import ChoiceFilter, MinimumFilter


class DeskReader(Protocol):
    """The desk as an upstream, read-only: what a feed's approved announcements say now."""

    def live_announcements(self, feed_id: str) -> list:
        """The feed's announcements that are approved and not withdrawn (each with `id` and `published`)."""


class Channel(Protocol):
    """Somewhere a feed's publication goes once it is stored."""

    def published(self, feed_id: str, renditions: Sequence[Rendition], now: datetime) -> None:
        """The feed's content changed: these are its new renditions (every format)."""

    def health_changed(self, feed_id: str) -> None:
        """The feed turned stale or healthy again, or another process published it."""


@dataclass(frozen=True)
class OnTop:
    """Items shown above a feed's own ones, and when that set changes next (a publication or an expiry)."""

    items: list[Item] = field(default_factory=list)
    next_change: datetime | None = None


class Overlay(Protocol):
    """Items from outside a feed's upstream that go on top of it, in every format and whatever the filters."""

    def on_top(self, feed_id: str, now: datetime, as_events: bool = False) -> OnTop:
        """What goes on top of this feed now; as calendar events (with a start) when `as_events`."""


class NoOverlay:
    """The overlay of a server without a desk: nothing on top."""

    def on_top(self, feed_id: str, now: datetime, as_events: bool = False) -> OnTop:
        """Nothing."""
        return OnTop()


def above(on_top: OnTop, items: list[Item]) -> list[Item]:
    """The items on top first, then the feed's own without them (a home feed holds them already)."""
    ids = {item.id for item in on_top.items}
    return on_top.items + [item for item in items if item.id not in ids]


class Before(Protocol):
    """What a feed said before this fetch, read from the store only when a kind asks."""

    def current(self) -> list[Item]:
        """The feed's current items."""

    def since(self, moment: datetime) -> list[Item]:
        """Every item the feed held since `moment`, gone ones included (its history)."""


class Kind(Protocol):
    """What a kind of feed brings: its reconciliation, its nature, its filters, API data and widget view."""

    name: str  # the KIND its sources declare
    dated: bool  # items are calendar events: the feed is offered as .ics too
    located: bool  # items have places (`data["lat"]`, `data["lon"]`): the feed is offered as .geojson too
    churning: bool  # items come and go by nature: no mass-deletion guard unless a source asks for one
    view: str  # the widget view its feeds show by default ("latest": the newest messages)
    filters: Mapping[str, ChoiceFilter | MinimumFilter]  # filters it adds or refines, by URL parameter
    embargo: bool  # its items are shown nowhere before their publication time
    api_fields: Mapping[str, Any]  # marshmallow fields of its current data in /api/v1/feeds/{id}
    widget_texts: Mapping[str, Message]  # name -> English msgid of each word its widget view uses
    translations: str | None  # its own gettext catalog (<lang>/LC_MESSAGES/messages.mo), searched first
    template_folders: tuple[str, ...]  # folders holding its templates/widgets/_<view>[_top].html
    widget_script: tuple[str, ...]  # its parts of /widget.js (equal parts of several kinds go in once)
    widget_options: Mapping[str, Any]  # what widget.js is told about the kind besides its view and fields
    widget_height: int | None  # the iframe height its view needs in compact mode (CSS pixels)
    topic: str  # the catalogue's group of its feeds (waste, air, transit, warnings, announcements)
    topic_name: Message  # that group's heading, an English msgid ("Waste")
    category_names: Mapping[str, Message]  # item categories' names (English msgids) by category
    empty_text: Message  # the status of a feed with nothing current (an English msgid)

    def reconcile(self, feed: FeedInfo, before: Before, fresh: list[Item], now: datetime) -> list[Item]:
        """This fetch's items joined with what the feed said before (moved pickups, ongoing episodes ...)."""

    def current_data(self, feed: Any, items: Sequence[Item], at: datetime) -> tuple[dict, datetime | None]:
        """Fields the API and widget add for this kind's feed (FeedSettings), and until when they hold."""

    def widget_context(self, data: Mapping[str, Any], lang: str, zone: ZoneInfo) -> dict:
        """Template variables its widget view needs besides the core's, for its current data `data`."""

    def chart(self, data: Mapping[str, Any], key: tuple[str, str], lang: str, zone: ZoneInfo) -> Any:
        """The chart (for templates/widgets/chart.svg) its data has under `key`, or None."""

    def has_current(self, feed: Any, items: Sequence[Item], at: datetime) -> bool:
        """True when the feed has something upcoming or in force now, not only past pickups."""


EMPTY_TEXT = N_("no current data")


@dataclass(frozen=True)
class PlainKind:
    """A kind with nothing of its own: items as fetched, newest messages first. Kinds may start from it."""

    name: str
    dated: bool = False
    located: bool = False
    churning: bool = False
    view: str = "latest"
    filters: Mapping[str, Any] = field(default_factory=dict)
    embargo: bool = False
    api_fields: Mapping[str, Any] = field(default_factory=dict)
    widget_texts: Mapping[str, Message] = field(default_factory=dict)
    translations: str | None = None
    template_folders: tuple[str, ...] = ()
    widget_script: tuple[str, ...] = ()
    widget_options: Mapping[str, Any] = field(default_factory=dict)
    widget_height: int | None = None
    topic: str = "other"
    topic_name: Message = N_("Other")
    category_names: Mapping[str, Message] = field(default_factory=dict)
    empty_text: Message = EMPTY_TEXT

    def reconcile(self, feed: FeedInfo, before: Before, fresh: list[Item], now: datetime) -> list[Item]:
        """The fetched items unchanged."""
        return fresh

    def current_data(self, feed: Any, items: Sequence[Item], at: datetime) -> tuple[dict, datetime | None]:
        """No extra data."""
        return {}, None

    def widget_context(self, data: Mapping[str, Any], lang: str, zone: ZoneInfo) -> dict:
        """Nothing beyond the core's."""
        return {}

    def chart(self, data: Mapping[str, Any], key: tuple[str, str], lang: str, zone: ZoneInfo) -> Any:
        """No charts."""
        return None

    def has_current(self, feed: Any, items: Sequence[Item], at: datetime) -> bool:
        """Something in the kind's current data (any item when it has none of its own)."""
        data, _ = self.current_data(feed, items, at)
        return any(bool(value) for value in data.values()) if data else bool(items)

    def topic_label(self, lang: str) -> str:
        """The heading of this kind's group in the catalogue."""
        return say(lang, self.topic_name, self.translations)

    def category_label(self, category: str | None, lang: str) -> str:
        """An item category's name in this language (the vocabulary's English term when it has none)."""
        name = self.category_names.get(str(category or ""))
        return say(lang, name, self.translations) if name else str(category or "")

    def empty_label(self, lang: str) -> str:
        """What the status says when the feed has nothing current."""
        return say(lang, self.empty_text, self.translations)
