"""The desk's words for its states, roles and actions: lazy English msgids, German or English when shown."""

from __future__ import annotations

from flask_babel import lazy_gettext

STATUS_LABELS = {
    "pending": lazy_gettext("Awaiting approval"),
    "approved": lazy_gettext("Approved"),
    "withdrawn": lazy_gettext("Withdrawn"),
}
CHANNEL_TYPES = {"mastodon": "Mastodon", "bluesky": "Bluesky"}  # the networks' own names, in every language
PREVIEW_LABELS = {
    "sms": lazy_gettext("SMS line"),
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "webpush": lazy_gettext("Push notification"),
}
ROLE_LABELS = {
    "author": lazy_gettext("author"),
    "approver": lazy_gettext("approver"),
    "admin": lazy_gettext("admin"),
}
ACTION_LABELS = {  # the audit log's actions (desk.access, desk.actions, desk.cli)
    "create": lazy_gettext("created"),
    "edit": lazy_gettext("edited"),
    "approve": lazy_gettext("approved"),
    "withdraw": lazy_gettext("withdrawn"),
    "login": lazy_gettext("logged in"),
    "login-failed": lazy_gettext("login failed"),
    "login-locked": lazy_gettext("login locked"),
    "address-locked": lazy_gettext("address locked"),
    "logout": lazy_gettext("logged out"),
    "session-end": lazy_gettext("session ended"),
    "user-add": lazy_gettext("user added"),
    "user-password": lazy_gettext("password set"),
    "user-disable": lazy_gettext("user disabled"),
    "token-create": lazy_gettext("API token created"),
    "token-revoke": lazy_gettext("API token revoked"),
    "answer": lazy_gettext("answered a citizen"),
    "handled": lazy_gettext("marked a message handled"),
    "delivery-retry": lazy_gettext("delivery retried"),
}
DELIVERY_LABELS = {  # push.deliveries.STATES
    "queued": lazy_gettext("queued"),
    "retrying": lazy_gettext("failed, will be retried"),
    "failed": lazy_gettext("failed"),
    "sent": lazy_gettext("sent"),
    "correcting": lazy_gettext("sent; correction queued"),
    "deleting": lazy_gettext("deletion queued"),
    "deleted": lazy_gettext("deleted"),
    "not-posted": lazy_gettext("not posted (older than the channel, or over its hourly limit)"),
    "none": lazy_gettext("not queued yet"),
}
