"""marshmallow schemas of the desk API: what requests may carry and what responses look like.

Error messages are fixed texts: they never repeat a submitted value. Rules across fields (an end after its
start, targets only for crisis announcements) live in feedserver.desk.rules.content_errors. Messages the
/admin form can show are lazy English msgids (the desk API answers in English; /admin in German or English).
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..config import FEED_ID
from ..config.channels import CHANNEL_NAME
from .rules import ALL_FEEDS, ROLES, STATUSES

MAX_TITLE = 160  # the SMS line
MAX_TEXT = 10_000
MAX_LINK = 2000
MAX_TARGETS = 200
MAX_CHANNELS = 50
# C0 controls but tab and line feed, DEL, C1 controls, lone surrogates, and the non-characters XML forbids.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
LINE_END = re.compile("\r\n?")
TIME_ERRORS = {
    "invalid": lazy_gettext("Must be a date and time."),
    "invalid_awareness": lazy_gettext("Must be a date and time with its offset from UTC."),
}


def _moment(description: str | None = None) -> fields.AwareDateTime:
    """An optional moment of an announcement (with its offset), described in the API document."""
    metadata = {"description": description} if description else {}
    return fields.AwareDateTime(
        load_default=None, allow_none=True, error_messages=TIME_ERRORS, metadata=metadata
    )


class PlainText(fields.String):
    """Plain text kept exactly as typed: line ends become \\n and the ends are trimmed, nothing else changes.

    A "<" is a less-than sign and "&lt;" four characters: renderers escape text for their format. What cannot
    be kept (control characters; a line break or tab in a `single_line` field) is refused, never removed.
    """

    default_error_messages = {
        "control": lazy_gettext("Must not contain control characters."),
        "line": lazy_gettext("Must be a single line, without line breaks or tabs."),
    }

    def __init__(self, single_line: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.single_line = single_line

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = LINE_END.sub("\n", super()._deserialize(value, attr, data, **kwargs))
        if self.single_line and ("\n" in text or "\t" in text):
            raise self.make_error("line")
        if CONTROL.search(text):
            raise self.make_error("control")
        return text.strip()


class Targets(fields.Field):
    """Crisis targets: a list of feed ids, or "*" (also written "all") for every feed."""

    default_error_messages = {
        "invalid": lazy_gettext('Must be a list of feed ids, or "*" for every feed.'),
        "too_many": lazy_gettext("At most %(count)s targets.", count=MAX_TARGETS),
    }

    def _deserialize(self, value, attr, data, **kwargs) -> tuple[str, ...]:
        if value in (ALL_FEEDS, "all"):
            return (ALL_FEEDS,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.make_error("invalid")
        if len(value) > MAX_TARGETS:
            raise self.make_error("too_many")
        if not all(v == ALL_FEEDS or FEED_ID.fullmatch(v) for v in value):
            raise self.make_error("invalid")
        return tuple(dict.fromkeys(value))

    def _serialize(self, value, attr, obj, **kwargs) -> list[str]:
        return list(value or ())


class Channels(fields.Field):
    """The [channels.NAME] an announcement goes to: a list of names, or null for every channel of its feed."""

    default_error_messages = {
        "invalid": lazy_gettext("Must be a list of channel names, or null for every channel of the feed."),
        "too_many": lazy_gettext("At most %(count)s channels.", count=MAX_CHANNELS),
    }

    def _deserialize(self, value, attr, data, **kwargs) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.make_error("invalid")
        if len(value) > MAX_CHANNELS:
            raise self.make_error("too_many")
        if not all(re.fullmatch(CHANNEL_NAME, v) for v in value):
            raise self.make_error("invalid")
        return tuple(sorted(set(value)))

    def _serialize(self, value, attr, obj, **kwargs) -> list[str] | None:
        return None if value is None else list(value)


class Link(fields.Url):
    """A URL whose "not a link" message is lazy like the others (marshmallow's Url insists on a str)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for validator in self.validators:
            if isinstance(validator, validate.URL):
                validator.error = lazy_gettext("Must be an http or https link.")


class AnnouncementContent(Schema):
    """The editable fields of an announcement; each edit stores them as a new version."""

    class Meta:
        unknown = RAISE

    title = PlainText(
        single_line=True,
        required=True,
        validate=validate.Length(1, MAX_TITLE, error=lazy_gettext("Must be 1 to {max} characters long.")),
        metadata={"description": "The SMS line: one short line of plain text."},
    )
    text = PlainText(
        load_default="",
        validate=validate.Length(max=MAX_TEXT, error=lazy_gettext("At most {max} characters.")),
    )
    link = Link(
        schemes={"http", "https"},
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=MAX_LINK, error=lazy_gettext("At most {max} characters.")),
        metadata={"description": "http or https only."},
    )
    starts = _moment("With a start it is an event (.ics).")
    ends = _moment()
    publish_at = _moment("When it appears; default: now.")
    expires = _moment("When it leaves the feeds.")
    crisis = fields.Boolean(
        load_default=False, metadata={"description": "On top of every targeted feed once approved."}
    )
    targets = Targets(
        load_default=tuple,
        metadata={"description": 'Crisis only: feed ids, or "*" for every feed.'},
    )
    channels = Channels(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The channels ([channels.NAME] of the feed) it is posted to; null: every one. "
            "A crisis announcement goes to every configured channel whatever this says.",
            "type": "array",  # apispec adds "null" (allow_none)
            "items": {"type": "string", "pattern": f"^{CHANNEL_NAME}$"},
            "maxItems": MAX_CHANNELS,
        },
    )


class AnnouncementCreate(AnnouncementContent):
    """A new announcement (its first version) posted into one announcements feed."""

    feed = fields.String(
        required=True,
        validate=validate.Regexp(FEED_ID, error=lazy_gettext("Must be the id of an announcements feed.")),
        metadata={"description": "The id of a feed with source = announcements."},
    )


class AnnouncementUpdate(AnnouncementContent):
    """An edit: PUT sends every field, PATCH only the changed ones; either adds a new version."""


class Approval(Schema):
    """Approve exactly this version (it must be the current one)."""

    class Meta:
        unknown = RAISE

    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class ListQuery(Schema):
    """Query parameters of the announcement list."""

    class Meta:
        unknown = RAISE

    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    feed = fields.String(load_default=None, validate=validate.Regexp(FEED_ID))


class VersionOut(AnnouncementContent):
    """One immutable version as the API shows it."""

    version = fields.Integer(attribute="number")
    author = fields.String()
    created_at = fields.AwareDateTime()
    approved_by = fields.String(attribute="approver", allow_none=True)
    approved_at = fields.AwareDateTime(allow_none=True)


class AnnouncementOut(Schema):
    """An announcement with its status and every version, oldest first."""

    id = fields.Integer()
    feed = fields.String(attribute="feed_id")
    status = fields.String(metadata={"enum": list(STATUSES)})
    current_version = fields.Function(lambda a: a.latest.number)
    published_version = fields.Function(lambda a: a.published.number if a.published else None)
    created_by = fields.String()
    created_at = fields.AwareDateTime()
    withdrawn_at = fields.AwareDateTime(allow_none=True)
    withdrawn_by = fields.String(allow_none=True)
    versions = fields.List(fields.Nested(VersionOut))


class AuditEntryOut(Schema):
    """One audit log line."""

    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String()
    action = fields.String()
    announcement = fields.Integer(attribute="announcement_id", allow_none=True)
    version = fields.Integer(allow_none=True)
    detail = fields.String()


class UserOut(Schema):
    """The user a token belongs to."""

    name = fields.String()
    role = fields.String(metadata={"enum": list(ROLES)})
    offices = fields.Function(lambda u: sorted(u.offices))


class ReplyOut(Schema):
    """A citizen's message to a feed (a reply to or a mention of its actor), as the feed's office sees it."""

    id = fields.Integer()
    feed = fields.String(attribute="feed_id")
    office = fields.String()
    handle = fields.String(metadata={"description": "The author, @name@host (Bluesky: @name.domain)."})
    channel = fields.String(
        allow_none=True, metadata={"description": "The city's account it answers; null for a feed actor."}
    )
    actor = fields.String(metadata={"description": "The author's actor URL."})
    in_reply_to = fields.String(allow_none=True, metadata={"description": "The feed's post it answers."})
    text = fields.String(metadata={"description": "Plain text (the Note's HTML reduced)."})
    received_at = fields.AwareDateTime()
    handled_at = fields.AwareDateTime(allow_none=True)
    handled_by = fields.String(allow_none=True)
    answer = fields.String(allow_none=True)
    answered_at = fields.AwareDateTime(allow_none=True)
    answered_by = fields.String(allow_none=True)
    approved_by = fields.String(allow_none=True, metadata={"description": "Who approved it (four eyes)."})
    draft = fields.String(
        allow_none=True, metadata={"description": "An answer waiting for a second person's approval."}
    )
    draft_visibility = fields.Function(
        lambda r: None if r.draft is None else ("public" if r.draft_public else "direct"), allow_none=True
    )
    drafted_by = fields.String(allow_none=True)
    drafted_at = fields.AwareDateTime(allow_none=True)


class AnswerIn(Schema):
    """The office's answer to a message: its text, and who sees it."""

    text = fields.String(required=True, validate=validate.Length(1, 2000))
    visibility = fields.String(load_default="direct", validate=validate.OneOf(["direct", "public"]))


def field_errors(messages: Any, schema: Schema) -> dict[str, list[str]]:
    """marshmallow's messages keyed by known field names only (unknown keys are input, so not echoed)."""
    if not isinstance(messages, dict):
        return {"_schema": ["Invalid input."]}
    known = set(schema.fields) | {"_schema"}
    errors: dict[str, list[str]] = {}
    for name, problems in messages.items():
        key = name if name in known else "_unknown"
        text = ["Unknown field."] if key == "_unknown" else _flatten(problems)
        errors[key] = sorted(set(errors.get(key, []) + text))
    return errors


def _flatten(problems: Any) -> list[str]:
    if isinstance(problems, str | LazyString):
        return [str(problems)]  # a lazy message in the request's language
    if isinstance(problems, dict):
        return [p for value in problems.values() for p in _flatten(value)]
    if isinstance(problems, list):
        return [p for value in problems for p in _flatten(value)]
    return ["Invalid value."]


def load(schema: Schema, data: Any, partial: bool = False) -> dict[str, Any]:
    """Validate data with a schema; ValidationError carries cleaned field errors in `.messages`."""
    if not isinstance(data, dict):
        raise ValidationError({"_schema": ["The body must be a JSON object."]})
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise ValidationError(field_errors(exc.messages, schema)) from None
