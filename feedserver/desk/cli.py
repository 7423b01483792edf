"""`feedserver users ...` and `feedserver tokens ...`: the admin manages desk users and API tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import click

from .. import config as config_module
from ..errors import ConfigError, FeedserverError
from ..store import Store
from . import records
from .auth import hash_password, new_token, password_problem
from .rules import ROLES

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
OFFICE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _engine(ctx: click.Context):
    """The store's engine, migrated like the server's (SQLite migrates itself, PostgreSQL must be current)."""
    try:
        settings = config_module.load(ctx.obj["config"])
        store = Store(settings.storage_url)
        store.migrate() if store.engine.dialect.name == "sqlite" else store.check_schema()
    except (ConfigError, FeedserverError) as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    return settings, store.engine


def _user(ctx: click.Context, connection, name: str):
    user = records.user_by_name(connection, name)
    if user is None:
        click.echo(f"error: no user named {name!r}", err=True)
        ctx.exit(1)
    return user


def _now() -> datetime:
    return datetime.now(UTC)


@click.group()
def users() -> None:
    """Desk users: authors, approvers and admins, and their offices."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="author, approver or admin.")
@click.option("--office", "offices", multiple=True, help="An office (repeat for several), e.g. presse.")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, offices: tuple[str, ...]) -> None:
    """Create a user; set a password with `users password NAME`, or give them a token."""
    if not NAME.fullmatch(name):
        raise click.BadParameter("use 1-64 lower-case letters, digits, '.', '_' or '-'", param_hint="NAME")
    bad = [o for o in offices if not OFFICE.fullmatch(o)]
    if bad:
        raise click.BadParameter("use lower-case letters, digits, '_' or '-'", param_hint="--office")
    if role != "admin" and not offices:
        raise click.BadParameter("authors and approvers need at least one office", param_hint="--office")
    settings, engine = _engine(ctx)
    with engine.begin() as connection:
        if records.user_by_name(connection, name) is not None:
            click.echo(f"error: a user named {name!r} exists already", err=True)
            ctx.exit(1)
        user_id = records.add_user(connection, name, role, offices, _now())
        detail = f"user {name}: {role}, offices {', '.join(sorted(offices)) or '-'}"
        records.add_audit(connection, None, "user-add", _now(), detail=detail)
    known = {f.options.get("office") for f in settings.feeds.values() if f.reads_desk}
    for office in sorted(set(offices) - known):
        click.echo(f"warning: no announcements feed in the config has office = {office!r}", err=True)
    click.echo(f"user {name} (id {user_id}) added as {role}")


@users.command("password")
@click.argument("name")
@click.password_option("--password", prompt="New password", help="Prompted (hidden) when not given.")
@click.pass_context
def users_password(ctx: click.Context, name: str, password: str) -> None:
    """Set a user's password for the /admin page (stored only as a salted hash); their sessions end."""
    problem = password_problem(password)
    if problem:
        click.echo(f"error: {problem}", err=True)
        ctx.exit(1)
    _, engine = _engine(ctx)
    with engine.begin() as connection:
        user = _user(ctx, connection, name)
        records.set_password_hash(connection, user.id, hash_password(password), _now())
        records.add_audit(connection, None, "user-password", _now(), detail=f"user {name}")
    click.echo(f"password of {name} set")


@users.command("disable")
@click.argument("name")
@click.pass_context
def users_disable(ctx: click.Context, name: str) -> None:
    """Disable a user: their tokens stop working and their /admin sessions end at once."""
    _, engine = _engine(ctx)
    with engine.begin() as connection:
        user = _user(ctx, connection, name)
        records.set_active(connection, user.id, False, _now())
        records.add_audit(connection, None, "user-disable", _now(), detail=f"user {name}")
    click.echo(f"user {name} disabled")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List users with role, offices and whether they are active."""
    _, engine = _engine(ctx)
    with engine.connect() as connection:
        for user in records.all_users(connection):
            state = "" if user.active else "  (disabled)"
            click.echo(f"{user.name:<24} {user.role:<9} {', '.join(sorted(user.offices)) or '-'}{state}")


@click.group()
def tokens() -> None:
    """API tokens for programs (`Authorization: Bearer <token>`); only their sha256 is stored."""


@tokens.command("create")
@click.argument("name")
@click.option("--label", default="", help="What the token is for, e.g. 'press-office CMS'.")
@click.pass_context
def tokens_create(ctx: click.Context, name: str, label: str) -> None:
    """Create a token for a user and print it once: it cannot be shown again."""
    _, engine = _engine(ctx)
    token, digest = new_token()
    with engine.begin() as connection:
        user = _user(ctx, connection, name)
        token_id = records.add_token(connection, user.id, digest, label[:100], _now())
        records.add_audit(connection, None, "token-create", _now(), detail=f"token {token_id} for {name}")
    click.echo(f"token {token_id} for {name} (shown only now, store it safely):", err=True)
    click.echo(token)


@tokens.command("list")
@click.argument("name", required=False)
@click.pass_context
def tokens_list(ctx: click.Context, name: str | None) -> None:
    """List tokens (all, or one user's) by id; never the tokens themselves."""
    _, engine = _engine(ctx)
    with engine.connect() as connection:
        user_id = _user(ctx, connection, name).id if name else None
        for t in records.tokens(connection, user_id):
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            click.echo(f"{t.id:>5}  {t.user:<24} {state:<24} {t.label}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def tokens_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke a token by its id (see `tokens list`); it stops working at once."""
    _, engine = _engine(ctx)
    with engine.begin() as connection:
        if not records.revoke_token(connection, token_id, _now()):
            click.echo(f"error: no active token with id {token_id}", err=True)
            ctx.exit(1)
        records.add_audit(connection, None, "token-revoke", _now(), detail=f"token {token_id}")
    click.echo(f"token {token_id} revoked")
