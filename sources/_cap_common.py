"""CAP 1.2 semantics shared by the CAP-XML (`cap`) and NINA CAP-JSON (`nina`) sources.

Both sources turn their upstream documents into CAP-JSON shaped dicts (the element names of CAP 1.2, repeated
elements as lists) and hand the whole set fetched in one go to `current_items`, which applies CAP's rules:

- Only `status` Actual becomes an item (Test, Exercise, System, Draft never do); `msgType` Ack and Error
  carry no warning and are ignored.
- An Update or Cancel withdraws every alert it names in `references`, whether or not that alert is in the set.
  The Update is an item of its own (its own sender+identifier key) with `data["supersedes"]` = the item ids of
  the alerts it replaces, so a reader sees the new version as a new item.
- A Cancel becomes one all-clear item ("Entwarnung" / "All clear"), keyed by the Cancel's own
  sender+identifier, also listing what it supersedes. Its texts come from the Cancel's own `info` block; a
  Cancel without `info` (IPAWS sends those) borrows event, area and times from the cancelled alert when that
  is in the set.
- Alerts whose chosen `info` has expired (expires <= fetch time) are not returned. Supersession still counts
  them, so an expired Update keeps the alert it replaced out of the view.
- The natural key is "sender,identifier" (CAP forbids commas in both), so a re-delivered alert keeps its id.
- One `info` block is chosen per alert: the feed language (exact tag, then primary subtag: "de" matches
  "de-DE" and "DE"), else the first block. An `info` without `language` is en-US, as CAP defines.
- The other languages stay available to renderers: `data["translations"]` maps each further primary language
  subtag (the first block of each) to its title, summary, area and event, so a page or widget in English shows
  the English block of a German feed's alert (CAP 1.2 allows one `info` per language).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from feedserver.errors import ParseError
from feedserver.i18n import N_, known, say
from feedserver.items import MAX_RAW_TEXT, FeedInfo, Item, item_id, make_item

SEVERITIES = ("extreme", "severe", "moderate", "minor", "unknown")
WARNING_TYPES = ("alert", "update", "cancel")
REPLACING_TYPES = ("update", "cancel")
DEFAULT_LANGUAGE = "en-US"
ALL_CLEAR = (N_("All clear"), N_("The alert has been cancelled."))  # the title and summary of a Cancel

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)  # MoWaS/BIWAPP texts carry HTML line breaks
SPACES = re.compile(r"[ \t\xa0]+")
BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Reference:
    """One entry of CAP `references`: the message an Update or Cancel refers to."""

    sender: str
    identifier: str
    sent: str

    @property
    def key(self) -> str:
        return f"{self.sender},{self.identifier}"

    def __str__(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent}"


@dataclass(frozen=True)
class Alert:
    """The message-level fields of one CAP alert, validated, plus its raw info blocks."""

    sender: str
    identifier: str
    sent: datetime
    status: str
    msg_type: str
    scope: str | None
    references: tuple[Reference, ...]
    infos: tuple[Mapping[str, Any], ...]

    @property
    def key(self) -> str:
        return f"{self.sender},{self.identifier}"


def current_items(feed: FeedInfo, documents: Iterable[Mapping[str, Any]], now: datetime) -> list[Item]:
    """Items for the alerts in force at `now` among one fetch's CAP-JSON documents (see module docstring)."""
    alerts: dict[str, Alert] = {}
    for document in documents:
        alert = read_alert(document)
        if alert.status.lower() == "actual" and alert.msg_type.lower() in WARNING_TYPES:
            alerts.setdefault(alert.key, alert)  # the same alert delivered twice is one alert
    withdrawn = {
        reference.key
        for alert in alerts.values()
        if alert.msg_type.lower() in REPLACING_TYPES
        for reference in alert.references
        if reference.key != alert.key
    }
    items = []
    for alert in alerts.values():
        if alert.key in withdrawn:
            continue
        if alert.msg_type.lower() == "cancel":
            item = all_clear_item(feed, alert, alerts, now)
        else:
            item = warning_item(feed, alert, now)
        if item is not None:
            items.append(item)
    return sorted(items, key=lambda i: (i.published, i.key), reverse=True)


def read_alert(document: Mapping[str, Any]) -> Alert:
    """Validate the message-level fields of a CAP-JSON document; ParseError on a wrong shape."""
    if not isinstance(document, Mapping):
        raise ParseError(f"CAP alert must be an object, got {type(document).__name__}")
    required = {name: text(document, name) for name in ("identifier", "sender", "sent", "status", "msgType")}
    missing = [name for name, value in required.items() if not value]
    if missing:
        raise ParseError(f"CAP alert {required['identifier'] or '?'} lacks {', '.join(missing)}")
    infos = tuple(listed(document, "info"))
    if not all(isinstance(info, Mapping) for info in infos):
        raise ParseError(f"CAP alert {required['identifier']}: info must be objects")
    return Alert(
        sender=required["sender"],
        identifier=required["identifier"],
        sent=timestamp(required["sent"], "sent"),
        status=required["status"],
        msg_type=required["msgType"],
        scope=text(document, "scope"),
        references=parse_references(text(document, "references") or ""),
        infos=infos,
    )


def parse_references(value: str) -> tuple[Reference, ...]:
    """CAP references: whitespace-separated "sender,identifier,sent" triples.

    MoWaS writes one triple of whitespace-separated lists instead ("s1 s2,i1 i2,sent"); both are read.
    Anything else cannot name a message and is dropped rather than guessed at.
    """
    tokens = value.split()
    if all(token.count(",") == 2 for token in tokens):
        return tuple(Reference(*token.split(",")) for token in tokens)
    parts = value.split(",")
    if len(parts) == 3:
        senders, identifiers = parts[0].split(), parts[1].split()
        if len(senders) == len(identifiers):
            return tuple(Reference(s, i, parts[2].strip()) for s, i in zip(senders, identifiers, strict=True))
    return ()


def choose_info(infos: Iterable[Mapping[str, Any]], language: str) -> Mapping[str, Any] | None:
    """The info block in the feed's language (exact tag, then primary subtag), else the first one."""
    infos = list(infos)
    if not infos:
        return None
    wanted = language.lower()
    tags = [(text(info, "language") or DEFAULT_LANGUAGE).lower() for info in infos]
    for candidate in (wanted, wanted.split("-")[0]):
        for info, tag in zip(infos, tags, strict=True):
            if tag == candidate or tag.split("-")[0] == candidate:
                return info
    return infos[0]


def warning_item(feed: FeedInfo, alert: Alert, now: datetime) -> Item | None:
    """The item for an Alert or Update, or None when it has no info block or has expired."""
    info = choose_info(alert.infos, feed.language)
    if info is None or expired(info, now):
        return None
    fields = info_fields(info, alert.identifier)
    data = {**message_data(feed, alert), **fields.pop("data"), **translations(alert, info)}
    return make_item(feed.id, alert.key, published=alert.sent, updated=updated(alert), data=data, **fields)


def translations(alert: Alert, chosen: Mapping[str, Any]) -> dict[str, Any]:
    """{"translations": {language: texts}} of the alert's other info blocks, or nothing when it has none."""
    shown = primary_language(chosen)
    found: dict[str, dict[str, Any]] = {}
    for info in alert.infos:
        language = primary_language(info)
        if info is chosen or language == shown or language in found:
            continue
        try:
            fields = info_fields(info, alert.identifier)
        except ParseError:
            continue  # a block without headline or event has nothing to show
        found[language] = {
            "title": fields["title"],
            "summary": fields["summary"],
            "area": fields["area"],
            "event": fields["data"]["event"],
        }
    return {"translations": found} if found else {}


def primary_language(info: Mapping[str, Any]) -> str:
    """The primary subtag of an info block's language ("de" of "de-DE"), lower case."""
    return (text(info, "language") or DEFAULT_LANGUAGE).split("-")[0].lower()


def all_clear_item(feed: FeedInfo, alert: Alert, alerts: Mapping[str, Alert], now: datetime) -> Item | None:
    """The all-clear item for a Cancel, with texts from its own info or from the alert it cancels."""
    lang = known(feed.language.lower().split("-")[0])
    word, sentence = (say(lang, message) for message in ALL_CLEAR)
    own = choose_info(alert.infos, feed.language)
    cancelled = [alerts[r.key] for r in alert.references if r.key in alerts and r.key != alert.key]
    borrowed = choose_info(cancelled[0].infos, feed.language) if own is None and cancelled else None
    info = own or borrowed
    if info is not None and expired(info, now):
        return None  # the cancelled warning would have run out by now anyway
    if info is None:
        fields = {"title": word, "summary": sentence, "data": {}}
    else:
        fields = info_fields(info, alert.identifier)
    if own is None:
        fields["title"] = f"{word}: {fields['title']}" if info is not None else word
        fields["summary"] = sentence
    data = {**message_data(feed, alert), **fields.pop("data"), **(translations(alert, own) if own else {})}
    return make_item(feed.id, alert.key, published=alert.sent, updated=updated(alert), data=data, **fields)


def info_fields(info: Mapping[str, Any], identifier: str) -> dict[str, Any]:
    """Item fields and data taken from one info block."""
    title = text(info, "headline") or text(info, "event")
    if not title:
        raise ParseError(f"CAP alert {identifier}: info has neither headline nor event")
    severity = text(info, "severity") or "Unknown"
    areas = [area_description(area, identifier) for area in listed(info, "area")]
    areas = list(dict.fromkeys(description for description in areas if description))  # DWD repeats them
    summary = "\n\n".join(
        part for part in (text(info, "description", True), text(info, "instruction", True)) if part
    )
    web = text(info, "web")
    return {
        "title": title,
        "summary": summary,
        "url": web if web and urlsplit(web).scheme.lower() in ("http", "https") else None,
        "category": severity.lower() if severity.lower() in SEVERITIES else "unknown",
        "area": ", ".join(areas) or None,
        "starts": optional_timestamp(info, "onset") or optional_timestamp(info, "effective"),
        "ends": optional_timestamp(info, "expires"),
        "data": {
            "severity": severity,
            "urgency": text(info, "urgency"),
            "certainty": text(info, "certainty"),
            "event": text(info, "event"),
            "sender_name": text(info, "senderName"),
            "language": text(info, "language") or DEFAULT_LANGUAGE,
            "areas": areas,
            "geocodes": geocodes(info, identifier),
        },
    }


def message_data(feed: FeedInfo, alert: Alert) -> dict[str, Any]:
    """The item data that describes the message itself rather than one of its info blocks."""
    replaced = [r for r in alert.references if r.key != alert.key]
    return {
        "msg_type": alert.msg_type,
        "status": alert.status,
        "scope": alert.scope,
        "sender": clean(alert.sender),
        "identifier": clean(alert.identifier),
        "references": [clean(str(r)) for r in alert.references],
        "supersedes": [item_id(feed.id, r.key) for r in replaced]
        if alert.msg_type.lower() != "alert"
        else [],
    }


def updated(alert: Alert) -> datetime | None:
    """An Update or Cancel is a newer version of something: its sent time is when that changed."""
    return alert.sent if alert.msg_type.lower() in REPLACING_TYPES else None


def area_description(area: Any, identifier: str) -> str | None:
    """The areaDesc of one area block."""
    if not isinstance(area, Mapping):
        raise ParseError(f"CAP alert {identifier}: area must be an object")
    return text(area, "areaDesc")


def geocodes(info: Mapping[str, Any], identifier: str) -> list[dict[str, str]]:
    """Every geocode of every area as {"name", "value"}, in order, without repeats."""
    found: list[dict[str, str]] = []
    for area in listed(info, "area"):
        for code in listed(area, "geocode"):
            if not isinstance(code, Mapping):
                raise ParseError(f"CAP alert {identifier}: geocode must be an object")
            pair = {"name": text(code, "valueName") or "", "value": text(code, "value") or ""}
            if pair not in found:
                found.append(pair)
    return found


def expired(info: Mapping[str, Any], now: datetime) -> bool:
    """True when the info block states an expiry that has passed."""
    expires = optional_timestamp(info, "expires")
    return expires is not None and expires <= now


def timestamp(value: str, name: str) -> datetime:
    """A CAP dateTime (ISO 8601 with offset; "-00:00" is UTC) as an aware datetime."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ParseError(f"CAP {name} is not a date-time: {value!r}") from exc
    if moment.tzinfo is None:
        raise ParseError(f"CAP {name} has no time zone offset: {value!r}")
    return moment


def optional_timestamp(mapping: Mapping[str, Any], name: str) -> datetime | None:
    """The named CAP dateTime field, or None when absent or empty."""
    value = text(mapping, name)
    return timestamp(value, name) if value else None


def text(mapping: Mapping[str, Any], name: str, multiline: bool = False) -> str | None:
    """A cleaned text field, None when absent or blank; ParseError when it is not text."""
    value = mapping.get(name)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ParseError(f"CAP {name} must be text, got {type(value).__name__}")
    return clean(value[:MAX_RAW_TEXT], multiline) or None  # cut before any pattern reads it


def listed(mapping: Mapping[str, Any], name: str) -> list[Any]:
    """A repeatable CAP field as a list (a single value counts as a list of one)."""
    value = mapping.get(name)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping | str):
        return [value]
    raise ParseError(f"CAP {name} must be a list, got {type(value).__name__}")


def clean(value: str, multiline: bool = False) -> str:
    """Plain text without control characters; lines kept only where `multiline`."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = html.unescape(HTML_BREAK.sub("\n", value))
    value = CONTROL_CHARS.sub("", value)
    if not multiline:
        return " ".join(value.split())
    lines = [SPACES.sub(" ", line).strip() for line in value.split("\n")]
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
