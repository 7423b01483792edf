"""Citizens' replies to and mentions of the feed actors reach the office of the feed, and its answers go back.

The inbox (push/ap_inbox.py) lets through a `Create` of a `Note` that answers one of a feed's notes or
mentions the feed, and a `Delete` of a Note kept here (or an `Undo` of its `Create`), and verifies the
signature like every request. Then `take` keeps the message as plain text (nh3), within the size cap, unless
its author or instance is blocked, over its hourly limit, or the feed has no office to read it; `forget`
deletes it on its author's Delete or Undo.
`answer` sends the office's answer as a signed `Create{Note}` with `inReplyTo` to the author's inbox
(public, or to the author alone), through the push queue, and writes it to the desk's audit log.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from html import escape
from urllib.parse import urlsplit

from flask_babel import lazy_gettext

from ..config import FeedSettings
from ..desk import records as desk_records
from ..desk.rules import APPROVER_ROLES, Conflict, Forbidden, Invalid, NotFound, User
from ..runtime import Runtime
from ..sanitize import plain_text
from . import ap_documents, outbox
from . import reply_records as records
from .ap_remote import RemoteError, fetch_document, remote_actor
from .ap_trust import id_of
from .http import PushError
from .social import ACCOUNTS

log = logging.getLogger(__name__)
HOUR = timedelta(hours=1)


def addressed(runtime: Runtime, feed: FeedSettings, activity: dict) -> bool:
    """A Create of a Note that answers this feed's notes or mentions its actor (worth verifying)."""
    note = activity.get("object")
    if activity.get("type") != "Create" or not isinstance(note, dict) or note.get("type") != "Note":
        return False
    me = ap_documents.actor_url(runtime.settings, feed.id)
    replying = id_of(note.get("inReplyTo")) or ""
    mentions = [t for t in note.get("tag") or [] if isinstance(t, dict) and t.get("type") == "Mention"]
    return replying.startswith(f"{me}/notes/") or any(id_of(t.get("href")) == me for t in mentions)


def retracted(activity: dict) -> str | None:
    """The id of the Note a `Delete` of it, or an `Undo` of its `Create`, takes back (None: neither)."""
    kind, inner = activity.get("type"), activity.get("object")
    if kind == "Undo" and isinstance(inner, dict) and inner.get("type") == "Create":
        return id_of(inner.get("object"))
    return id_of(inner) if kind == "Delete" else None


def withdrawn(runtime: Runtime, activity: dict) -> bool:
    """A Delete of a Note kept here, or an Undo of its Create, by its author."""
    target, actor = retracted(activity), id_of(activity.get("actor"))
    return bool(target and actor and target != actor) and records.is_kept(runtime.store.engine, target, actor)


def take(runtime: Runtime, feed: FeedSettings, activity: dict, actor: str, now: datetime) -> int | None:
    """Keep a verified fediverse reply for the feed's office; its id, or None when it is not kept."""
    note, instance = activity["object"], (urlsplit(actor).hostname or "").lower()
    if id_of(note.get("attributedTo")) not in (actor, None):
        log.info("reply to %s from %s not kept: the Note is attributed to someone else", feed.id, instance)
        return None
    values = {
        "remote_id": id_of(note), "actor": actor, "handle": _handle(runtime, feed, actor, instance),
        "instance": instance, "in_reply_to": id_of(note.get("inReplyTo")), "text": _content(note),
    }  # fmt: skip
    return keep(runtime, feed, values, now)


def keep(runtime: Runtime, feed: FeedSettings, values: dict, now: datetime) -> int | None:
    """Keep a message (`values`: remote_id, actor, handle, instance, in_reply_to, text as HTML, channel ...)
    for the feed's office as plain text within the size cap; its id, or None when it is not kept (blocked,
    over a limit, nobody reads the feed, kept already) and why, logged."""
    refusal = _refusal(runtime, feed, values["actor"], values["instance"], now)
    if refusal:
        log.info("reply to %s from %s not kept: %s", feed.id, values["instance"], refusal)
        return None
    text = plain_text(values["text"]).strip()[: runtime.settings.replies.max_characters]
    kept = {**values, "feed_id": feed.id, "office": feed.office, "text": text, "received_at": now}
    return records.add(runtime.store.engine, kept)


def _refusal(runtime: Runtime, feed: FeedSettings, actor: str, instance: str, now: datetime) -> str | None:
    settings, engine = runtime.settings.replies, runtime.store.engine
    if not settings.enabled or feed.office is None:
        return "nobody reads replies to this feed"
    if actor in settings.blocked or instance in settings.blocked:
        return "blocked"
    if records.count_since(engine, now - HOUR, actor=actor) >= settings.per_actor_hour:
        return "the author's hourly limit"
    if records.count_since(engine, now - HOUR, instance=instance) >= settings.per_instance_hour:
        return "the instance's hourly limit"
    return None


def _content(note: dict) -> str:
    content = note.get("content")
    if not isinstance(content, str):
        languages = note.get("contentMap") if isinstance(note.get("contentMap"), dict) else {}
        content = next((v for v in languages.values() if isinstance(v, str)), "")
    return content


def _handle(runtime: Runtime, feed: FeedSettings, actor: str, instance: str) -> str:
    """@name@host of the author, from their actor document (fetched for the signature already, so cached)."""
    try:
        name = fetch_document(runtime, feed.id, actor).get("preferredUsername")
    except RemoteError:
        name = None
    name = name if isinstance(name, str) and 0 < len(name) <= 100 else actor.rstrip("/").rsplit("/", 1)[-1]
    return f"@{plain_text(name)[:100]}@{instance}"


def forget(runtime: Runtime, activity: dict, actor: str) -> int:
    """The author deleted their Note (or undid its Create): delete it here too; how many were deleted."""
    return records.remove_by_author(runtime.store.engine, retracted(activity) or "", actor)


def answer(runtime: Runtime, reply: records.Reply, text: str, public: bool, user: User, now: datetime) -> str:
    """Answer a message: sent at once (the answer's id), or kept as a draft ("") where the office's answers
    need a second person's approval. Invalid when the answer cannot go where the message came from."""
    _check_fits(runtime, reply, text, public)
    if reply.office in runtime.settings.replies.answers_need_approval:
        records.record_draft(runtime.store.engine, reply.id, text, public, user.name, now)
        _audit(runtime, user, "answer drafted", now, f"reply {reply.id} to {reply.handle}")
        return ""
    return _send(runtime, reply, text, public, now, user, writer=user.name)


def approve_answer(runtime: Runtime, reply: records.Reply, user: User, now: datetime) -> str:
    """A second person approves the waiting answer, which then goes out; the answer's id.

    Only an approver or admin may, and not the one who wrote the draft (their own text needs other eyes).
    """
    if reply.draft is None or reply.drafted_by is None:
        raise Conflict(lazy_gettext("This message has no answer waiting for approval."))
    if user.role not in APPROVER_ROLES:
        raise Forbidden(lazy_gettext("Only an approver or an admin may approve an answer."))
    if user.name == reply.drafted_by:
        raise Forbidden(lazy_gettext("An answer needs the approval of someone other than its writer."))
    return _send(runtime, reply, reply.draft, bool(reply.draft_public), now, user, writer=reply.drafted_by)


def _send(
    runtime: Runtime, reply: records.Reply, text: str, public: bool, now: datetime, user: User, writer: str
) -> str:
    """Send the answer where the message came from and record it; `user` sends it, `writer` wrote it."""
    if reply.channel:
        answer_id = _send_on_channel(runtime, reply, text, public)
    else:
        answer_id = _send_to_inbox(runtime, reply, text, public, now)
    approved_by = user.name if user.name != writer else None
    records.record_answer(runtime.store.engine, reply.id, text, answer_id, writer, now, approved_by)
    detail = f"reply {reply.id} to {reply.handle}" + (f", written by {writer}" if approved_by else "")
    _audit(runtime, user, "answer", now, detail)
    return answer_id


def _send_to_inbox(runtime: Runtime, reply: records.Reply, text: str, public: bool, now: datetime) -> str:
    """A signed Create{Note} to the author's inbox through the push queue; the Note's id."""
    feed = runtime.feed(reply.feed_id)
    try:
        inbox = remote_actor(runtime, feed.id, reply.actor).inbox
    except RemoteError as exc:
        raise PushError(f"the author's inbox cannot be found: {exc}", retry=False) from None
    note = answer_note(runtime, feed, reply, text, public, now)
    activity = ap_documents.create_activity(note)
    body = json.dumps(activity, ensure_ascii=False).encode()
    outbox.enqueue(runtime.store.engine, outbox.AP_DELIVER, now, feed_id=feed.id, target=inbox, body=body,
                   priority=outbox.URGENT, meta={"type": "Create"})  # fmt: skip
    return note["id"]


def _send_on_channel(runtime: Runtime, reply: records.Reply, text: str, public: bool) -> str:
    """A reply on the city's account (at once: staff see whether it worked); its address there."""
    channel = runtime.settings.channels.get(reply.channel or "")
    if channel is None:
        raise PushError(f"the channel {reply.channel} is no longer configured", retry=False)
    key = "answer-" + hashlib.sha256(f"{reply.id}\n{text}\n{public}".encode()).hexdigest()[:32]
    language = runtime.feed(reply.feed_id).language
    account = ACCOUNTS[channel.type](channel)
    sent = account.answer(reply.channel_ref or "", reply.handle, text, public, language, key)
    return sent.url or sent.id


def _check_fits(runtime: Runtime, reply: records.Reply, text: str, public: bool) -> None:
    """An answer on a channel must fit its length, and Bluesky has no direct replies."""
    channel = runtime.settings.channels.get(reply.channel or "") if reply.channel else None
    if channel is None:
        return
    if not public and not ACCOUNTS[channel.type].DIRECT:
        raise Invalid({"visibility": [lazy_gettext("This network has no direct replies: answer publicly.")]})
    room = channel.max_characters - len(reply.handle) - 1
    if len(text) > room:
        message = lazy_gettext("On this network an answer may have at most %(max)d characters.", max=room)
        raise Invalid({"text": [message]})


def _audit(runtime: Runtime, user: User, action: str, now: datetime, detail: str) -> None:
    with runtime.store.engine.begin() as connection:
        desk_records.add_audit(connection, user, action, now, detail=detail)


def answer_note(
    runtime: Runtime, feed: FeedSettings, reply: records.Reply, text: str, public: bool, now
) -> dict:
    """The answer as a Note (a dict): mentions the author, answers their Note, public or to them alone."""
    actor = ap_documents.actor_url(runtime.settings, feed.id)
    link = f'<a href="{escape(reply.actor)}" class="u-url mention">{escape(reply.handle)}</a>'
    mention = f'<span class="h-card">{link}</span>'
    paragraphs = "".join(f"<p>{escape(part)}</p>" for part in text.split("\n\n") if part.strip())
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    to = [ap_documents.PUBLIC, reply.actor] if public else [reply.actor]
    return {
        "id": f"{actor}/answers/{reply.id}-{stamp}",
        "type": "Note",
        "attributedTo": actor,
        "inReplyTo": reply.remote_id,
        "content": f"<p>{mention}</p>{paragraphs}",
        "contentMap": {feed.language: f"<p>{mention}</p>{paragraphs}"},
        "published": now.astimezone().isoformat(timespec="seconds"),
        "to": to,
        "cc": [f"{actor}/followers"] if public else [],
        "tag": [{"type": "Mention", "href": reply.actor, "name": reply.handle}],
    }


def visible(runtime: Runtime, user: User, reply_id: int) -> records.Reply:
    """A message of one of the user's offices (admins: any); NotFound otherwise, never a hint it exists."""
    found = records.find(runtime.store.engine, reply_id) if 0 < reply_id < 2**31 else None
    if found is None or not (user.is_admin or found.office in user.offices):
        raise NotFound("There is no message with this id.")
    return found


def for_user(runtime: Runtime, user: User) -> list[records.Reply]:
    """The messages of the user's offices (admins: all), open ones first."""
    return records.listed(runtime.store.engine, None if user.is_admin else frozenset(user.offices))


def mark_handled(runtime: Runtime, reply: records.Reply, user: User, now: datetime) -> None:
    """The office dealt with a message without answering; audited."""
    records.mark_handled(runtime.store.engine, reply.id, user.name, now)
    _audit(runtime, user, "handled", now, f"reply {reply.id}")


def purge(runtime: Runtime, now: datetime) -> int:
    """Delete what is older than the retention time; how many messages."""
    return records.purge(runtime.store.engine, now - timedelta(days=runtime.settings.replies.retention_days))
