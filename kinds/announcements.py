"""Announcements from the editorial desk: dated notices, withdrawn by people rather than lost by an export."""

from __future__ import annotations

from feedserver.contract import PlainKind

KIND = PlainKind("announcements", dated=True, churning=True)
