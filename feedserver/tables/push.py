"""The push side's tables: WebSub, the job queue, ActivityPub, channels, Web Push, citizens' replies."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, LargeBinary, String, Text, UniqueConstraint

from .types import UtcDateTime, serial_id, table

# --- push and social (issue 10): WebSub hub, ActivityPub actors, outbox queue, statistics -----------------
# SQL on these tables lives in feedserver/push/records.py and feedserver/push/stats.py.

websub_subscriptions = table(
    "websub_subscriptions",
    serial_id(),
    Column("topic", String(2048), nullable=False),  # exactly as the subscriber sent it (it is echoed back)
    Column("callback", String(2048), nullable=False),
    Column("feed_id", String(64)),  # NULL for the catalogue topic
    Column("format", String(16), nullable=False),  # rss, atom, json, ics or html (the catalogue)
    Column("secret", String(200)),  # hub.secret for X-Hub-Signature; the spec caps it below 200 bytes
    Column("lease_seconds", Integer, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_etag", String(80)),  # the content last queued, so a republish of equal bytes sends nothing
    UniqueConstraint("topic", "callback", name="uq_websub_topic_callback"),
    Index("ix_websub_feed", "feed_id"),
)

push_jobs = table(
    "push_jobs",
    serial_id(),
    Column("kind", String(32), nullable=False),  # event, websub-verify, websub-deliver, ap-deliver
    Column("feed_id", String(64)),
    Column("subscription_id", Integer),
    Column("target", String(2048)),  # callback or inbox URL
    Column("body", LargeBinary),
    Column("meta", Text, nullable=False, default="{}"),  # JSON: content type, topic, mode, ...
    Column("priority", Integer, nullable=False, default=1),  # 0 first: crisis items, Accepts
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_error", Text),
    Index("ix_push_jobs_due", "due_at"),
)

ap_actors = table(
    "ap_actors",
    Column("feed_id", String(64), primary_key=True),
    Column("private_key_pem", Text, nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("synced_at", UtcDateTime),  # first look at the feed's items: they are the backlog, not news
)

ap_followers = table(
    "ap_followers",
    Column("feed_id", String(64), primary_key=True),
    Column("actor", String(2048), primary_key=True),
    Column("inbox", String(2048), nullable=False),
    Column("shared_inbox", String(2048)),
    Column("followed_at", UtcDateTime, nullable=False),
)

ap_notes = table(
    "ap_notes",
    Column("feed_id", String(64), primary_key=True),
    Column("item_id", String(36), primary_key=True),
    Column("note", Text, nullable=False),  # the Note JSON as announced, so Delete and GET match it
    Column("crisis", Boolean, nullable=False, default=False),
    Column("published_at", UtcDateTime, nullable=False),
    Column("deleted_at", UtcDateTime),
    Index("ix_ap_notes_feed_published", "feed_id", "published_at"),
)

# --- channels to the city's own accounts (issue 19): what went where, so a correction edits the same post ---
channel_feeds = table(
    "channel_feeds",
    Column("channel", String(64), primary_key=True),
    Column("feed_id", String(64), primary_key=True),
    Column("synced_at", UtcDateTime, nullable=False),  # the first look: items then were backlog, not news
)

channel_posts = table(
    "channel_posts",
    Column("channel", String(64), primary_key=True),
    Column("feed_id", String(64), primary_key=True),
    Column("item_id", String(36), primary_key=True),
    Column("text", Text, nullable=False),  # the post as it should read now
    Column("language", String(8), nullable=False),
    Column("state", String(16), nullable=False),  # queued, sent, ...; see channel_records
    Column("remote_id", String(128)),  # the network's id of the post once sent
    Column("remote_url", String(2048)),
    Column("sent_text", Text),  # the text the network has, so an edit is sent only when they differ
    Column("error", Text),
    Column("crisis", Boolean, nullable=False, default=False),
    Column("queued_at", UtcDateTime, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Index("ix_channel_posts_queued", "channel", "feed_id", "queued_at"),
    Index("ix_channel_posts_remote", "channel", "remote_id"),  # which post a reply answers
)

# How far each channel's replies were read (Mastodon: the newest notification id; Bluesky: its seen time).
channel_cursors = table(
    "channel_cursors",
    Column("channel", String(64), primary_key=True),
    Column("cursor", String(256), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Web Push subscriptions: personal data (a browser's push address), kept only to deliver and deleted on
# unsubscribe or when the push service says the address is gone (404/410).
webpush_subscriptions = table(
    "webpush_subscriptions",
    serial_id(),
    Column("feed_id", String(64), nullable=False),
    Column("endpoint_sha256", String(64), nullable=False),  # one subscription per browser and feed
    Column("endpoint", Text, nullable=False),
    Column("p256dh", String(128), nullable=False),  # the browser's public key (RFC 8291)
    Column("auth", String(64), nullable=False),  # its auth secret: also what proves an unsubscribe is theirs
    Column("filters", Text, nullable=False, default="{}"),  # JSON: the same filters as a feed URL's query
    Column("language", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("feed_id", "endpoint_sha256", name="uq_webpush_feed_endpoint"),
)

# Citizens' replies to and mentions of the feed actors (issue 20): personal data, deleted after the
# retention time, on the author's Delete and on request (feedserver replies erase).
replies = table(
    "replies",
    serial_id(),
    Column("feed_id", String(64), nullable=False),
    Column("office", String(64), nullable=False),
    Column("remote_id", String(2048), nullable=False),  # the citizen's Note
    Column("remote_id_sha256", String(64), nullable=False, unique=True),
    Column("actor", String(2048), nullable=False),  # its author
    Column("handle", String(300), nullable=False),  # @name@host, as staff see it
    Column("instance", String(253), nullable=False),  # the author's host: limits and blocks count by it
    Column("in_reply_to", String(2048)),  # our note it answers (None: a mention)
    Column("text", Text, nullable=False),  # plain text, reduced from the Note's HTML
    Column("received_at", UtcDateTime, nullable=False),
    Column("handled_at", UtcDateTime),
    Column("handled_by", String(64)),
    Column("answer", Text),
    Column("answer_id", String(2048)),
    Column("answered_at", UtcDateTime),
    Column("answered_by", String(64)),
    # An answer waiting for a second person's approval ([replies] answers_need_approval), and who gave it.
    Column("draft", Text),
    Column("draft_public", Boolean),
    Column("drafted_by", String(64)),
    Column("drafted_at", UtcDateTime),
    Column("approved_by", String(64)),
    # A reply to one of the city's posts on a channel (None: to a feed actor), and the channel's handle on
    # it: the Mastodon status id, the Bluesky post's at:// URI and CID (JSON) that an answer refers to.
    Column("channel", String(64)),
    Column("channel_ref", String(2048)),
    Index("ix_replies_office_received", "office", "received_at"),
    Index("ix_replies_actor", "actor"),
)
