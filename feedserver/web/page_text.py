"""The public pages' words (catalogue, feed pages): English msgids, their German in the gettext catalog."""

from __future__ import annotations

from functools import cache

from ..i18n import LANGUAGES, N_, say_all

WORDS = {
    "feeds": N_("Feeds"),
    "status": N_("Status"),
    "ok": N_("up to date"),
    "stale": N_("stale since"),
    "pending": N_("not fetched yet"),
    "updated": N_("Last change"),
    "subscribe": N_("Subscribe"),
    "licence": N_("Licence"),
    "source": N_("Source"),
    "place": N_("Place"),
    "intro": N_(
        "The city's open data as feeds for feed readers, calendars and your own applications. No "
        "cookies, no tracking."
    ),
    "all_feeds": N_("All feeds as OPML"),
    "items": N_("Messages"),
    "no_items": N_("No messages at the moment."),
    "back": N_("Back to all feeds"),
    "calendar": N_("Subscribe to calendar"),
    "never": N_("never"),
    "by_place": N_("Filter by place"),
    "all_places": N_("All places"),
    "show": N_("Show"),
    "showing_place": N_("Feeds for {place}"),
    "unknown_place": N_("There are no feeds for “{place}”. Please choose a place from the list."),
    "all_feeds_link": N_("Show all feeds"),
    "follow": N_("How to follow this feed"),
    "follow_intro": N_("New messages come to you by themselves, in one of these ways:"),
    "reader": N_("In a feed reader"),
    "reader_how": N_(
        "Paste one of these addresses into a feed reader (e.g. Thunderbird, NetNewsWire, Feedly); "
        "RSS works almost everywhere."
    ),
    "calendar_app": N_("In a calendar app"),
    "calendar_how": N_(
        "Subscribe to the calendar (do not import it): new and moved dates then arrive by "
        "themselves. The webcal link opens your calendar app directly."
    ),
    "calendar_link": N_("Open in your calendar app (webcal)"),
    "fediverse": N_("On the fediverse (Mastodon)"),
    "fediverse_how": N_("Search for this account in Mastodon or another fediverse app and follow it:"),
    "widget": N_("As a widget on a website"),
    "widget_how": N_("The widget builder makes a piece of HTML to embed, with a preview."),
    "widget_link": N_("Build a widget for this feed"),
    "copy_button": N_("Copy"),
    "copied": N_("Copied to the clipboard."),
    "notify": N_("As notifications on this device"),
    "notify_how": N_(
        "Each new message of this feed appears as a notification of your browser, with no account "
        "and no cookie."
    ),
    "notify_button": N_("Turn notifications on"),
    "notify_stop": N_("Turn notifications off"),
    "notify_on": N_("Notifications are on."),
    "notify_off": N_("Notifications are off."),
    "notify_failed": N_("That did not work: your browser did not allow the notifications."),
    "notify_needs_js": N_("This needs JavaScript and Web Push in your browser."),
    "notify_privacy": N_(
        "Only what delivery needs is stored: your browser's push address, its keys and the filters "
        "you chose. Turning notifications off deletes all of it."
    ),
    "replies_read": N_(
        "Replies to this feed's posts in the fediverse are read by the office “{office}” and deleted "
        "after {days} days."
    ),
    "other": N_("Other"),
    "fediverse_account": N_("fediverse account"),
    "crisis": N_("Important notice"),
    "skip": N_("Skip to content"),
    "language": N_("Language"),
}
# An error page's words (a browser's view of a problem answer).
ERROR_WORDS = {
    "nothing_here": N_("There is nothing at this address."),
    "try_later": N_("The server could not answer just now; please try again later."),
    "cannot_answer": N_("The server cannot answer this request as it stands."),
    "every_feed": N_("All of the city's feeds"),
}
# The language switch names the other language in that language: no translation, the same on every page.
SWITCH = {"de": {"switch": "English", "switch_lang": "en"}, "en": {"switch": "Deutsch", "switch_lang": "de"}}
FORMAT_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed", "ics": "iCalendar", "geojson": "GeoJSON"}
FORMAT_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
    "geojson": "application/geo+json",
}


@cache
def page_words(lang: str) -> dict[str, str]:
    """The pages' words in this language (de or en), with the language switch."""
    return say_all(lang, WORDS) | SWITCH[lang if lang in LANGUAGES else "en"]
