"""The pure parts of desk access: the throttle's arithmetic and the browser summary of the session list."""

from __future__ import annotations

from datetime import timedelta

import pytest

from feedserver.config.desk import Throttle
from feedserver.desk.sessions import agent_summary
from feedserver.desk.throttle import Attempts, after_failure, name_key, retry_after
from tests.desk_support import NOW
from tests.test_desk_sessions import FIREFOX, SAFARI


def test_failures_further_apart_than_the_window_never_lock_and_quiet_keys_start_over():
    policy = Throttle(failures=3, window=900, base=60, cap=3600)
    state = Attempts()
    for n in range(10):  # one failure every 8 minutes: at most two in any 15-minute window
        state = after_failure(state, NOW + timedelta(minutes=8 * n), policy)
        assert retry_after(state, NOW + timedelta(minutes=8 * n)) == 0
    for _ in range(3):
        state = after_failure(state, NOW, policy)
    assert (state.lockouts, retry_after(state, NOW)) == (1, 60)
    later = NOW + timedelta(seconds=60)
    for _ in range(3):
        state = after_failure(state, later, policy)
    assert (state.lockouts, retry_after(state, later)) == (2, 120)
    quiet = later + timedelta(seconds=120 + 3600)  # as long as the longest lock-out after the last one
    for _ in range(3):
        state = after_failure(state, quiet, policy)
    assert (state.lockouts, retry_after(state, quiet)) == (1, 60)
    assert name_key(" Anna ") == name_key("anna") != name_key("anna2")


@pytest.mark.parametrize(
    "header,summary",
    [
        (FIREFOX, "Firefox, Linux"),
        (SAFARI, "Safari, iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
            "Chrome, Windows",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0",
            "Edge, Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
            "Chrome, Android",
        ),
        ("curl/8.5.0", "curl"),
        ("<script>alert(1)</script>", ""),
        ("", ""),
    ],
)
def test_the_session_list_shows_a_browser_summary_not_the_header(header, summary):
    assert agent_summary(header) == summary
