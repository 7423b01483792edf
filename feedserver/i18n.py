"""Words through gettext for a language named explicitly: pages, widgets and feed texts (English msgids, the
German in feedserver/translations/de/LC_MESSAGES/messages.po).

Feeds and widget views are also rendered outside any request (the worker publishes them), each in its feed's
or widget's own language, and one request may need both languages (widget.js carries the words of both). So
the catalogs are babel.support.Translations loaded once per language and asked directly, not through
Flask-Babel's request locale: force_locale would need an app context around every render and would switch
the language of everything else that context says. The desk keeps Flask-Babel's `_()` (its pages are always
in a request); both read the same catalog files.

A kind in its own package brings its own catalog: a folder `<lang>/LC_MESSAGES/messages.mo` named by its
`translations` attribute. Its words are looked up there first, then in the server's catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.support import NullTranslations, Translations

FOLDER = str(Path(__file__).parent / "translations")
LANGUAGES = ("de", "en")

Message = str | tuple[str, str]  # an English msgid, or (context, msgid) where one msgid has two meanings


def N_(msgid: str) -> str:
    """Mark an English msgid for `make translations`; it is translated where it is shown."""
    return msgid


def NC_(context: str, msgid: str) -> tuple[str, str]:
    """Mark a msgid with its context (an English word that German says in two ways)."""
    return context, msgid


@cache
def catalog(lang: str, folder: str | None = None) -> NullTranslations:
    """The language's catalog: a kind's own folder first (when given), then the server's."""
    server = Translations.load(FOLDER, [lang])
    if folder is None:
        return server
    own = Translations.load(folder, [lang])
    own.add_fallback(server)
    return own


def say(lang: str, message: Message, folder: str | None = None) -> str:
    """A message in this language (the English msgid where the catalog has nothing)."""
    translations = catalog(lang, folder)
    if isinstance(message, tuple):
        return translations.pgettext(*message)
    return translations.gettext(message)


def say_all(lang: str, messages: Mapping[str, Message], folder: str | None = None) -> dict[str, str]:
    """Each message of a name -> message mapping in this language, by the same names."""
    return {name: say(lang, message, folder) for name, message in messages.items()}


def known(lang: str) -> str:
    """The language when the catalogs have it, else English (the msgids' own language)."""
    return lang if lang in LANGUAGES else "en"


def in_languages(messages: Mapping[str, Message], folder: str | None = None) -> dict[str, dict[str, str]]:
    """Each language's words of a name -> message mapping (for widget.js, which carries them all)."""
    return {lang: say_all(lang, messages, folder) for lang in LANGUAGES}


def day_text(day: date, lang: str, pattern: Message) -> str:
    """A day written with a CLDR date pattern that the catalog gives per language (EEEE, dd.MM.yyyy)."""
    lang = known(lang)
    return format_date(day, say(lang, pattern), locale=lang)
