"""config.toml -> typed settings, validated with marshmallow; every error names file, key and problem."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..errors import ConfigError
from ..fetch import FetchSettings
from ..netguard import AddressPolicy
from .channels import ChannelSettings, check_feed_channels, load_channels
from .demo import DemoSchema, DemoSettings, is_demo_url
from .desk import DeskSchema, DeskSettings, desk_settings
from .feeds import FEED_ID, FeedSettings, feed_settings
from .operations import LoggingSchema, LoggingSettings, MetricsSchema, MetricsSettings, metrics_settings
from .push import ActivityPubSchema, PushSettings, WebSubSchema, push_settings, rate_limit
from .replies import RepliesSchema, RepliesSettings, replies_settings
from .server import ServerSchema, ServerSettings
from .tables import load_table as _load
from .tables import raise_first as _raise
from .webpush import WebPushSchema, WebPushSettings, webpush_settings

__all__ = ["BUNDLED_SAMPLES", "FEED_ID", "FeedSettings", "Settings", "from_mapping", "listening_at", "load"]

DEFAULT_PATH = "config.toml"
BUNDLED_SAMPLES = Path(__file__).parent.parent / "data" / "samples"
PUSH_SECTIONS = ("websub", "activitypub")
SECTIONS = (
    "server",
    "storage",
    "cache",
    "fetch",
    "feeds",
    "api",
    "publish",
    "desk",
    "demo",
    "channels",
    "webpush",
    "replies",
    "metrics",
    "logging",
    *PUSH_SECTIONS,
)


class StorageSchema(Schema):
    class Meta:
        unknown = RAISE

    url = fields.String(load_default="sqlite:///var/feedserver.sqlite3")


class ApiSchema(Schema):
    """[api]: the JSON API's per-client rate limit (flask-limiter syntax) and its off switch."""

    class Meta:
        unknown = RAISE

    rate_limit = fields.String(load_default="600/minute", validate=rate_limit)
    rate_limit_enabled = fields.Boolean(load_default=True)


class CacheSchema(Schema):
    class Meta:
        unknown = RAISE

    type = fields.String(
        load_default="SimpleCache", validate=validate.OneOf(["SimpleCache", "RedisCache", "NullCache"])
    )
    redis_url = fields.String(load_default=None)
    default_timeout = fields.Integer(load_default=300, validate=validate.Range(1, 86400))
    key_prefix = fields.String(load_default="feedserver:")
    # RedisCache: seconds each web process keeps what Redis returned (feedserver/nearcache.py); 0 = off
    local_seconds = fields.Float(load_default=1.0, validate=validate.Range(0, 60))


class PublishSchema(Schema):
    """[publish]: a directory the worker keeps filled with static feed files (feedserver/static_files.py)."""

    class Meta:
        unknown = RAISE

    dir = fields.String(load_default=None, validate=validate.Length(1, 1000))


@dataclass(frozen=True)
class PublishSettings:
    dir: str | None = None  # absolute; relative paths in config.toml are taken from the config file


class FetchSchema(Schema):
    class Meta:
        unknown = RAISE

    connect_timeout = fields.Float(load_default=5.0, validate=validate.Range(0.1, 60))
    read_timeout = fields.Float(load_default=20.0, validate=validate.Range(0.1, 300))
    deadline = fields.Float(load_default=60.0, validate=validate.Range(1, 600))
    max_bytes = fields.Integer(
        load_default=20 * 1024 * 1024, validate=validate.Range(1024, 512 * 1024 * 1024)
    )
    max_redirects = fields.Integer(load_default=3, validate=validate.Range(0, 10))
    deletion_guard_ratio = fields.Float(load_default=0.5, validate=validate.Range(0.05, 1.0))
    deletion_guard_min = fields.Integer(load_default=10, validate=validate.Range(1, 100_000))
    parse_budget = fields.Float(load_default=60.0, validate=validate.Range(1, 3600))
    allow_networks = fields.List(fields.String(), load_default=list)
    allow_files = fields.List(fields.String(), load_default=list)

    @staticmethod
    def check_networks(values: list[str]) -> None:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError as exc:
                raise ValidationError({"allow_networks": [f"not a network: {value!r}"]}) from exc


@dataclass(frozen=True)
class CacheSettings:
    type: str
    redis_url: str | None
    default_timeout: int
    key_prefix: str
    local_seconds: float = 1.0


@dataclass(frozen=True)
class ApiSettings:
    rate_limit: str = "600/minute"
    rate_limit_enabled: bool = True


@dataclass(frozen=True)
class Settings:
    path: str
    server: ServerSettings
    storage_url: str
    cache: CacheSettings
    fetch: FetchSettings
    feeds: dict[str, FeedSettings]
    api: ApiSettings = field(default_factory=ApiSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    push: PushSettings = field(default_factory=PushSettings)  # [websub] and [activitypub]
    desk: DeskSettings = field(default_factory=DeskSettings)  # [desk]: /admin sessions, login throttle
    demo: DemoSettings = field(default_factory=DemoSettings)  # [demo]: the bundled demo upstream
    channels: dict[str, ChannelSettings] = field(default_factory=dict)  # [channels.NAME]: the city's accounts
    webpush: WebPushSettings = field(default_factory=WebPushSettings)  # [webpush]: "notify me" in browsers
    replies: RepliesSettings = field(default_factory=RepliesSettings)  # [replies]: citizens' messages
    metrics: MetricsSettings = field(default_factory=MetricsSettings)  # [metrics]: /metrics for operators
    logging: LoggingSettings = field(default_factory=LoggingSettings)  # [logging]: text or JSON lines


def listening_at(settings: Settings, host: str, port: int) -> Settings:
    """The settings with base_url where `feedserver serve` listens, unless the config names a base_url."""
    if settings.server.base_url_given:
        return settings
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    server = replace(settings.server, base_url=f"http://{shown}:{port}")
    return replace(settings, server=server)


def load(path: str | os.PathLike | None = None) -> Settings:
    """Read and validate a config file; raise ConfigError naming file, key and problem."""
    path = Path(path or os.environ.get("FEEDSERVER_CONFIG") or DEFAULT_PATH)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), "-", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "-", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "-", f"not valid TOML: {exc}") from None
    return from_mapping(raw, str(path))


def from_mapping(raw: dict[str, Any], file: str = "<config>") -> Settings:
    """Validate an already-parsed config mapping (tests use this directly)."""
    base = Path(file).resolve().parent if not file.startswith("<") else Path.cwd()
    unknown = set(raw) - set(SECTIONS)
    if unknown:
        raise ConfigError(file, sorted(unknown)[0], f"unknown section (allowed: {', '.join(SECTIONS)})")
    server_raw = raw.get("server", {})
    server = ServerSettings(
        **_load(ServerSchema(), server_raw, file, "server"),
        base_url_given=isinstance(server_raw, dict) and "base_url" in server_raw,
    )
    storage = _load(StorageSchema(), raw.get("storage", {}), file, "storage")
    cache = CacheSettings(**_load(CacheSchema(), raw.get("cache", {}), file, "cache"))
    if cache.type == "RedisCache" and not cache.redis_url:
        raise ConfigError(file, "cache.redis_url", "required when cache.type is RedisCache")
    fetch_settings = _fetch_settings(raw.get("fetch", {}), file, server.base_url, base)
    feeds_raw = raw.get("feeds", {})
    if not isinstance(feeds_raw, dict):
        raise ConfigError(file, "feeds", "must be a table of feeds, e.g. [feeds.waste-town]")
    feeds = {fid: feed_settings(fid, table, server, file, base) for fid, table in feeds_raw.items()}
    channels = load_channels(raw.get("channels", {}), file)
    check_feed_channels(feeds, channels, file)
    demo = DemoSettings(**_load(DemoSchema(), raw.get("demo", {}), file, "demo"))
    _refuse_local_upstreams(feeds, fetch_settings, file)
    _check_files(feeds, fetch_settings, file)
    _check_demo_urls(feeds, demo, file)
    api = ApiSettings(**_load(ApiSchema(), raw.get("api", {}), file, "api"))
    publish = _load(PublishSchema(), raw.get("publish", {}), file, "publish")
    publish_dir = str((base / publish["dir"]).resolve()) if publish["dir"] else None
    return Settings(
        file,
        server,
        _storage_url(storage["url"], base),
        cache,
        fetch_settings,
        feeds,
        api,
        publish=PublishSettings(dir=publish_dir),
        push=_push(raw, file),
        desk=desk_settings(_load(DeskSchema(), raw.get("desk", {}), file, "desk")),
        demo=demo,
        channels=channels,
        replies=replies_settings(_load(RepliesSchema(), raw.get("replies", {}), file, "replies")),
        metrics=metrics_settings(_load(MetricsSchema(), raw.get("metrics", {}), file, "metrics")),
        logging=LoggingSettings(**_load(LoggingSchema(), raw.get("logging", {}), file, "logging")),
        webpush=webpush_settings(
            _load(WebPushSchema(), raw["webpush"], file, "webpush") if "webpush" in raw else None
        ),
    )


def _push(raw: dict[str, Any], file: str) -> PushSettings:
    websub = _load(WebSubSchema(), raw.get("websub", {}), file, "websub")
    activitypub = _load(ActivityPubSchema(), raw.get("activitypub", {}), file, "activitypub")
    return push_settings(websub, activitypub)


def _fetch_settings(table: Any, file: str, base_url: str, base: Path) -> FetchSettings:
    values = _load(FetchSchema(), table, file, "fetch")
    try:
        FetchSchema.check_networks(values["allow_networks"])
    except ValidationError as exc:
        _raise(exc.messages, file, "fetch")
    roots = [str((base / p).resolve()) for p in values.pop("allow_files")] or [str(BUNDLED_SAMPLES)]
    return FetchSettings(
        **{k: v for k, v in values.items() if k != "allow_networks"},
        allow_networks=tuple(values["allow_networks"]),
        allow_files=tuple(roots),
        user_agent=f"feedserver/0.1 (+{base_url})",
    )


def _refuse_local_upstreams(feeds: dict[str, FeedSettings], fetch: FetchSettings, file: str) -> None:
    """Upstream URLs naming a loopback, private or metadata address (or localhost) are refused at load time.

    Host names are resolved and checked again on every connection (feedserver.netguard).
    """
    policy = AddressPolicy.from_networks(fetch.allow_networks)
    for feed in feeds.values():
        for name, value in feed.options.items():
            problem = policy.refusal(value) if isinstance(value, str) and name.endswith("url") else None
            if problem:
                raise ConfigError(file, f"feeds.{feed.id}.{name}", f"refusing upstream: {problem}")


def _check_files(feeds: dict[str, FeedSettings], fetch: FetchSettings, file: str) -> None:
    """A `file:` upstream must exist and lie below [fetch] allow_files, or the config is refused now,
    not at the first fetch."""
    roots = [Path(root) for root in fetch.allow_files]
    for feed in feeds.values():
        for name, value in feed.options.items():
            if not (isinstance(value, str) and name.endswith("url") and value.startswith("file:")):
                continue
            path = Path(unquote(urlsplit(value).path)).resolve()
            if not any(path.is_relative_to(root) for root in roots):
                raise ConfigError(file, f"feeds.{feed.id}.{name}", "file outside [fetch] allow_files")
            if not path.is_file():
                raise ConfigError(file, f"feeds.{feed.id}.{name}", f"file not found: {path}")


def _check_demo_urls(feeds: dict[str, FeedSettings], demo: DemoSettings, file: str) -> None:
    """`demo:` URLs name the bundled demo upstream, which exists only when [demo] is enabled."""
    if demo.enabled:
        return
    for feed in feeds.values():
        for name, value in feed.options.items():
            if name.endswith("url") and is_demo_url(value):
                raise ConfigError(
                    file,
                    f"feeds.{feed.id}.{name}",
                    "demo: URLs need [demo] enabled = true (the demo upstream)",
                )


def _storage_url(url: str, base: Path) -> str:
    """Relative SQLite paths are taken relative to the config file's directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


def base_host(settings: Settings) -> str:
    """The host name of base_url (used for trusted hosts)."""
    return urlsplit(settings.server.base_url).hostname or "127.0.0.1"
