"""The `feedserver` command: serve, worker, fetch, check, sources, migrate, webpush-keys, ..."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from datetime import UTC, datetime

import click
import waitress
from marshmallow import fields as mfields

from . import config as config_module
from . import demo, logs
from .app import create_app
from .config.webpush import new_private_key, public_key, vapid_key
from .desk.cli import tokens, users
from .errors import ConfigError, FeedserverError, OptionError, UpstreamError
from .export import publish_all
from .fetch import Http
from .pipeline import refresh
from .push import reply_records
from .push.worker import PushWorker
from .registry import load_source, source_kinds
from .scheduler import BackgroundPoller, run_worker
from .store import Store


def _settings(ctx: click.Context):
    try:
        settings = config_module.load(ctx.obj["config"])
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    level = "DEBUG" if ctx.obj.get("verbose") else settings.logging.level
    logs.configure(settings.logging.format, level)
    return settings


def _demo(ctx: click.Context, settings):
    """The running demo upstream when [demo] is enabled (settings bound to it), else None."""
    if not settings.demo.enabled:
        return None
    try:
        return demo.start(settings)
    except demo.DemoError as exc:
        click.echo(f"error: demo: {exc}", err=True)
        ctx.exit(1)


def _app(ctx: click.Context, settings=None):
    settings = settings or _settings(ctx)
    try:
        return create_app(settings)
    except FeedserverError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)


@click.group()
@click.option(
    "--config",
    "config_path",
    envvar="FEEDSERVER_CONFIG",
    default="config.toml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Path of config.toml.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.pass_context
def main(ctx: click.Context, config_path: str, verbose: bool) -> None:
    """feedserver: a city's upstream services as open feeds."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = {"config": config_path, "verbose": verbose}


main.add_command(users)  # editorial desk: `feedserver users add|password|disable|list`
main.add_command(tokens)  # editorial desk: `feedserver tokens create|list|revoke`


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate the config; exit 0 when good, 2 naming file, key and problem when not."""
    settings = _settings(ctx)
    click.echo(f"{settings.path}: ok, {len(settings.feeds)} feed(s)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int) -> None:
    """Web server plus the polling scheduler in one process (the embedded default)."""
    settings = config_module.listening_at(_settings(ctx), host, port)
    demo_run = _demo(ctx, settings)  # the replaying upstream, before the first poll needs it
    app = _app(ctx, demo_run.settings if demo_run else settings)
    try:  # bind before anything starts, so a busy port is one clear line, not a traceback
        server = waitress.create_server(app, host=host, port=port, threads=threads, ident="feedserver")
    except OSError as exc:
        reason = exc.strerror or exc
        click.echo(f"error: cannot listen on {host}:{port}: {reason}; choose another --port", err=True)
        if demo_run:
            demo_run.stop()
        ctx.exit(1)
    now = datetime.now(UTC)
    demo_lines = demo.welcome(app, demo_run, now) if demo_run else []
    if not demo_run:
        for name in demo.retire(app, now):
            click.echo(f"demo account {name} disabled: this config has no [demo]", err=True)
    poller = BackgroundPoller(app).start()  # polls while it holds the leader lock, like `feedserver worker`
    push = PushWorker(app).start()  # WebSub and ActivityPub deliveries from the database queue
    settings = app.extensions["feedserver"].settings
    base = settings.server.base_url.rstrip("/")
    click.echo(f"serving {len(settings.feeds)} feed(s) on http://{host}:{port}/ (links point to {base}/)")
    for line in demo_lines:
        click.echo(line)
    try:
        server.run()
    finally:
        poller.stop(timeout=5)  # Ctrl-C should not wait long for a refresh in flight
        push.stop()
        if demo_run:
            demo_run.stop()


@main.command()
@click.option(
    "--standby-retry",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.5, 60),
    help="Seconds between a standby worker's attempts to take over the leader lock.",
)
@click.pass_context
def worker(ctx: click.Context, standby_retry: float) -> None:
    """The polling scheduler alone; of several workers only the holder of the leader lock polls."""
    settings = _settings(ctx)
    demo_run = _demo(ctx, settings)
    app = _app(ctx, demo_run.settings if demo_run else settings)
    click.echo(f"worker for {len(app.extensions['feedserver'].settings.feeds)} feed(s); polling while leader")
    push = PushWorker(app).start()  # deliveries run in every worker: the queue's claims keep them apart
    try:
        run_worker(app, retry=standby_retry)
    finally:
        push.stop()
        if demo_run:
            demo_run.stop()


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.pass_context
def publish(ctx: click.Context, directory: str) -> None:
    """Write every feed in every format as static files with .gz siblings (DIR/feeds/<id>.<fmt>)."""
    app = _app(ctx)
    with app.app_context():
        report = publish_all(app.extensions["feedserver"], directory)
    click.echo(f"{directory}: {report.line()}")


@main.command()
@click.argument("feed_ids", nargs=-1)
@click.option(
    "--accept-deletions",
    is_flag=True,
    help="Apply a fetch the mass-deletion guard held (needs the feed ids named).",
)
@click.pass_context
def fetch(ctx: click.Context, feed_ids: tuple[str, ...], accept_deletions: bool) -> None:
    """Poll now (all feeds, or the ones named); one result line per feed; exit 1 if any failed."""
    if accept_deletions and not feed_ids:
        click.echo("error: --accept-deletions needs the feed id(s) whose deletions to accept", err=True)
        ctx.exit(2)
    settings = _settings(ctx)
    demo_run = _demo(ctx, settings)  # demo: URLs are answered by the replaying upstream while this runs
    app = _app(ctx, demo_run.settings if demo_run else settings)
    runtime = app.extensions["feedserver"]
    unknown = [f for f in feed_ids if f not in runtime.settings.feeds]
    if unknown:
        click.echo(f"error: unknown feed id(s): {', '.join(unknown)}", err=True)
        ctx.exit(2)
    results = []
    with (
        app.app_context(),
        click.progressbar(
            feed_ids or list(runtime.settings.feeds),
            label="fetching",
            file=sys.stderr,
            item_show_func=lambda f: f or "",
        ) as bar,
    ):
        for feed_id in bar:
            results.append(
                refresh(runtime, feed_id, respect_backoff=False, accept_deletions=accept_deletions)
            )
    if demo_run:
        demo_run.stop()
    for result in results:
        click.echo(result.line())
    ctx.exit(0 if all(r.ok for r in results) else 1)


@main.command("webpush-keys")
def webpush_keys() -> None:
    """Make a VAPID key pair for [webpush]: the private key for the environment, the public one to check."""
    private = new_private_key()
    click.echo(f"FEEDSERVER_VAPID_KEY={private}")
    click.echo(f"# public (application server) key: {public_key(vapid_key(private))}")
    click.echo(
        '# config.toml: [webpush] vapid_private_key = { env = "FEEDSERVER_VAPID_KEY" }, subject = "mailto:…"'
    )


@main.command()
def sources() -> None:
    """List source kinds with their options."""
    for kind in source_kinds():
        module = load_source(kind)
        click.echo(f"{kind}  ({module.KIND}) {module.TITLE}")
        for name, field in module.OPTIONS().fields.items():
            click.echo(f"    {name:<16} {_describe_field(field)}")


def _describe_field(field: mfields.Field) -> str:
    kind = type(field).__name__.lower()
    if field.required:
        return f"{kind}, required"
    default = field.load_default
    if callable(default):
        default = default()
    return f"{kind}, default {default!r}" if default not in (None, {}, []) else f"{kind}, optional"


@main.group()
def replies() -> None:
    """Citizens' messages: what is kept of one author (GDPR Art. 15), and erasing it (Art. 17)."""


@replies.command("export")
@click.option("--handle", required=True, help="The author, @name@host.")
@click.pass_context
def replies_export(ctx: click.Context, handle: str) -> None:
    """Print everything kept of one author as JSON."""
    store = Store(_settings(ctx).storage_url)
    kept = [dataclasses.asdict(reply) for reply in reply_records.by_handle(store.engine, handle)]
    click.echo(json.dumps(kept, default=str, ensure_ascii=False, indent=1))


@replies.command("erase")
@click.option("--handle", required=True, help="The author, @name@host.")
@click.pass_context
def replies_erase(ctx: click.Context, handle: str) -> None:
    """Delete everything kept of one author."""
    store = Store(_settings(ctx).storage_url)
    click.echo(f"{reply_records.erase_handle(store.engine, handle)} message(s) of {handle} deleted")


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the database schema (run once per deployment; locked on PostgreSQL)."""
    settings = _settings(ctx)
    Store(settings.storage_url).migrate()
    click.echo("database schema is up to date")


@main.command()
@click.argument("source")
@click.option("--service", required=True, help="Provider service name, e.g. 'aachen'.")
@click.option("--place", help="Place (Ort) to list the streets of.")
@click.option("--street", help="Street to list the house numbers of (needs --place).")
@click.option("--base-url", help="Provider API base URL (default: the public service).")
@click.pass_context
def lookup(ctx: click.Context, source: str, service: str, place, street, base_url) -> None:
    """Walk a provider's address hierarchy (place -> street -> house number) and print a config snippet."""
    try:
        module = load_source(source)
    except KeyError:
        module = None
    if module is None or not hasattr(module, "lookup"):
        offering = ", ".join(n for n in source_kinds() if hasattr(load_source(n), "lookup"))
        click.echo(f"error: source {source!r} has no address lookup (try: {offering})", err=True)
        ctx.exit(2)
    settings = _settings(ctx)
    base = base_url or module.service_url(service)
    try:
        rows = module.lookup(Http(settings.fetch), base, place=place, street=street)
    except OptionError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)
    except UpstreamError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)
    level = "house numbers" if street else "streets" if place else "places"
    click.echo(f"{len(rows)} {level}:")
    for row_id, name in rows:
        click.echo(f"  {row_id:>12}  {name}")
    click.echo("\nconfig snippet:\n" + module.config_snippet(source, service, place, street, rows, base_url))
