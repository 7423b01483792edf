"""Announcements from the editorial desk: dated notices, withdrawn by people rather than lost by an export."""

from __future__ import annotations

from feedserver.contract import PlainKind
from feedserver.i18n import N_, NC_

# Embargo: an announcement is shown nowhere before its publication time, not even as a calendar event.
KIND = PlainKind(
    "announcements",
    dated=True,
    churning=True,
    embargo=True,
    topic="announcements",
    topic_name=NC_("catalogue topic", "Announcements"),
    category_names={"crisis": N_("Important notice")},
    empty_text=N_("no announcements now"),
)
