"""The demo: with `[demo] enabled = true`, `feedserver serve` shows a feed of every kind offline, forever.

A demo upstream (upstream.py) replays recorded upstream payloads on a loopback address with their times moved
to now; feeds name it with `demo:` URLs, which are bound to its address once it listens, and the fetch client
gets permission to reach exactly that address and port. The real adapters fetch, parse, store and publish as
in production. Demo desk accounts with fresh passwords and a few approved announcements (desk.py) exist only
in a demo, as does the per-run secret key that opens /admin. Only the command line starts a demo.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType

from ..config import Settings
from ..config.demo import DEMO_SCHEME, is_demo_url
from .upstream import DemoError, DemoUpstream

__all__ = ["DemoError", "DemoRun", "DemoUpstream", "bind", "retire", "start", "welcome"]


@dataclass
class DemoRun:
    """A running demo upstream and the settings bound to it."""

    upstream: DemoUpstream
    settings: Settings

    def stop(self) -> None:
        self.upstream.stop()


def start(settings: Settings) -> DemoRun:
    """Start the demo upstream where [demo] says and bind the settings to it; DemoError when it cannot."""
    upstream = DemoUpstream(settings.demo.host, settings.demo.port).start()
    return DemoRun(upstream, bind(settings, upstream.base_url, upstream.address))


def bind(settings: Settings, base_url: str, address: str) -> Settings:
    """The settings with `demo:` URLs pointing at base_url, the fetch client allowed to reach exactly
    `address` (host:port, nothing else on that host), and a secret key for /admin made for this run
    when the config names none (a fixed one would be a shipped secret)."""
    feeds = {
        feed_id: replace(
            feed,
            options=MappingProxyType(
                {
                    name: base_url + value[len(DEMO_SCHEME) :] if is_demo_url(value) else value
                    for name, value in feed.options.items()
                }
            ),
        )
        for feed_id, feed in settings.feeds.items()
    }
    fetch = replace(settings.fetch, allow_endpoints=(*settings.fetch.allow_endpoints, address))
    server = settings.server
    if not server.secret_key:
        server = replace(server, secret_key=secrets.token_urlsafe(32))
    return replace(settings, feeds=feeds, fetch=fetch, server=server)


def welcome(app, run: DemoRun, now: datetime) -> list[str]:
    """Open the demo desk (accounts with new passwords, seeded announcements); the lines to print."""
    from .desk import open_accounts, seed_announcements

    runtime = app.extensions["feedserver"]
    with app.app_context():
        accounts = open_accounts(runtime, now)
        seed_announcements(runtime, now)
    admin = runtime.settings.server.base_url.rstrip("/") + "/admin"
    logins = ", ".join(f"{a.role} {a.name} / {a.password}" for a in accounts)
    return [
        f"demo: recorded upstream payloads replayed offline with their times moved to now "
        f"({run.upstream.base_url}, loopback only)",
        f"demo: log in at {admin} as {logins} (new passwords every start)",
    ]


def retire(app, now: datetime) -> list[str]:
    """Without [demo]: disable demo accounts an earlier demo left in this database; their names."""
    from .desk import retire_accounts

    return retire_accounts(app.extensions["feedserver"], now)
