"""Announcements from the editorial desk: dated notices, withdrawn by people rather than lost by an export."""

from __future__ import annotations

from feedserver.contract import PlainKind

# Embargo: an announcement is shown nowhere before its publication time, not even as a calendar event.
KIND = PlainKind(
    "announcements",
    dated=True,
    churning=True,
    embargo=True,
    topic="announcements",
    topic_labels={"de": "Mitteilungen", "en": "Announcements"},
    category_labels={"de": {"crisis": "Wichtige Mitteilung"}, "en": {"crisis": "Important notice"}},
    empty_labels={"de": "derzeit keine Mitteilungen", "en": "no announcements now"},
)
