"""[server]: the server's address, name, language, time zone, licence defaults and who it trusts."""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import RAISE, Schema, fields, validate

from ..fields import Secret, TimeZone, Url
from ..licences import LICENCES

LANGUAGES = ("de", "en")


class ServerSchema(Schema):
    class Meta:
        unknown = RAISE

    base_url = Url(schemes=("http", "https"), load_default="http://127.0.0.1:8000")
    title = fields.String(load_default="Offene Feeds", validate=validate.Length(1, 200))
    description = fields.String(load_default="")
    language = fields.String(load_default="de", validate=validate.OneOf(LANGUAGES))
    timezone = TimeZone(load_default="Europe/Berlin")
    licence = fields.String(load_default=None, validate=validate.OneOf(list(LICENCES)))
    attribution = fields.String(load_default="")
    secret_key = Secret(load_default=None)  # signs the /admin session cookie and CSRF tokens
    # Host names the server answers to besides base_url's (and loopback); ".example.org" allows subdomains.
    trusted_hosts = fields.List(
        fields.String(validate=validate.Regexp(r"^\.?[A-Za-z0-9_.-]{1,253}$|^\[?[0-9A-Fa-f:.]+\]?$")),
        load_default=list,
    )
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted (0: none).
    proxy_hops = fields.Integer(load_default=0, validate=validate.Range(0, 10))


@dataclass(frozen=True)
class ServerSettings:
    base_url: str
    title: str
    description: str
    language: str
    timezone: str
    licence: str | None
    attribution: str
    secret_key: str | None = field(default=None, repr=False)  # never in logs or tracebacks
    trusted_hosts: tuple[str, ...] | list[str] = ()
    proxy_hops: int = 0
    base_url_given: bool = True  # False: the default, which `feedserver serve` replaces by where it listens
