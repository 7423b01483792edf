"""Announcements from the editorial desk: dated notices, withdrawn by people rather than lost by an export."""

from __future__ import annotations

from feedserver.contract import PlainKind

# Embargo: an announcement is shown nowhere before its publication time, not even as a calendar event.
KIND = PlainKind("announcements", dated=True, churning=True, embargo=True)
