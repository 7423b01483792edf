"""HTML form <-> desk schema: local `datetime-local` values become aware times, checkboxes become booleans."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from ..desk.rules import ALL_FEEDS, Version

TIMES = ("starts", "ends", "publish_at", "expires")
MAX_FIELD = 20_000  # characters of any one form value passed on to the schema
MAX_CHOICES = 500  # checkboxes of one name passed on (the schema refuses more than it allows)


def form_content(form: MultiDict, timezone: str, with_feed: bool) -> dict[str, Any]:
    """The form as the desk schema's input: empty fields left out or null, local times made aware."""
    zone = ZoneInfo(timezone)
    data: dict[str, Any] = {
        "title": form.get("title", "")[:MAX_FIELD],
        "text": form.get("text", "")[:MAX_FIELD],
        "link": form.get("link", "").strip()[:MAX_FIELD] or None,
        "crisis": form.get("crisis") == "on",
    }
    for name in TIMES:
        data[name] = _aware(form.get(name, "").strip()[:100], zone)
    if data["crisis"]:
        targets = form.getlist("targets")[:MAX_CHOICES]
        data["targets"] = ALL_FEEDS if form.get("all_feeds") == "on" else targets
    if form.get("channels_offered") == "1":  # the form showed channel boxes: none ticked is a choice too
        data["channels"] = [name[:100] for name in form.getlist("channels")[:MAX_CHOICES]]
    if with_feed:
        data["feed"] = form.get("feed", "")[:100]
    return data


def form_values(version: Version | None, timezone: str, channels: tuple[str, ...]) -> dict[str, Any]:
    """Values to pre-fill the edit form with (local times as `datetime-local` wants them); `channels` are
    those offered, all ticked unless the version chose fewer."""
    if version is None:
        return {"title": "", "text": "", "link": "", "crisis": False, "targets": (), "all_feeds": False,
                "channels": channels}  # fmt: skip
    zone = ZoneInfo(timezone)
    values = {
        "channels": channels if version.channels is None else version.channels,
        "title": version.title,
        "text": version.text,
        "link": version.link or "",
        "crisis": version.crisis,
        "targets": version.targets,
        "all_feeds": ALL_FEEDS in version.targets,
    }
    for name in TIMES:
        value = getattr(version, name)
        values[name] = value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""
    return values


def submitted_values(form: MultiDict) -> dict[str, Any]:
    """What the user typed, to show the form again next to its errors (escaped by the template)."""
    values = {name: form.get(name, "")[:MAX_FIELD] for name in ("title", "text", "link", "feed", *TIMES)}
    values["crisis"] = form.get("crisis") == "on"
    values["all_feeds"] = form.get("all_feeds") == "on"
    values["targets"] = tuple(form.getlist("targets")[:MAX_CHOICES])
    values["channels"] = tuple(form.getlist("channels")[:MAX_CHOICES])
    return values


def _aware(value: str, zone: ZoneInfo) -> str | None:
    """'2026-11-21T12:00' in the server's zone -> ISO 8601 with offset; unparsable text is passed on as is."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value  # the schema rejects it with a fixed message
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).isoformat()
