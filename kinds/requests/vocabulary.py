"""What the request-tracking sources share: the stages a report goes through, their words, and the filters.

GeoReport v2 knows two statuses, `open` and `closed`; the systems cities run say more (FixMyStreet:
investigating, action_scheduled, fixed ...; Mark-a-Spot: in_progress). Each status is one of three stages a
citizen follows "like a parcel": received -> in progress -> done. A status this table does not know keeps its
own word and no stage.
"""

from __future__ import annotations

from feedserver.filters import ChoiceFilter, data_choice, data_value
from feedserver.i18n import N_, say
from feedserver.sanitize import fold

RECEIVED, IN_PROGRESS, DONE = "received", "in_progress", "done"
STAGES = (RECEIVED, IN_PROGRESS, DONE)
STATUS_STAGES = {
    RECEIVED: ("open", "new", "submitted", "received", "confirmed", "offen", "eingegangen", "neu"),
    IN_PROGRESS: (
        "in_progress",
        "in progress",
        "investigating",
        "action_scheduled",
        "action scheduled",
        "assigned",
        "in_process",
        "processing",
        "acknowledged",
        "planned",
        "in bearbeitung",
        "in_bearbeitung",
    ),
    DONE: (
        "closed",
        "fixed",
        "resolved",
        "done",
        "completed",
        "duplicate",
        "not_councils_responsibility",
        "unable_to_fix",
        "no_further_action",
        "internal_referral",
        "erledigt",
        "geschlossen",
    ),
}
STAGE_OF = {fold(status): stage for stage, statuses in STATUS_STAGES.items() for status in statuses}


# The item title and the stages, in the feed's language (stored with the item, so not per request).
REQUEST_TITLE = N_("Report %(number)s, %(subject)s: %(status)s")
STAGE_WORDS = {RECEIVED: N_("received"), IN_PROGRESS: N_("in progress"), DONE: N_("done")}


def word(msgid: str, lang: str, **values) -> str:
    """A msgid of this kind in `lang` (English when the catalog has none), its placeholders filled in."""
    text = say(lang, msgid)
    return text % values if values else text


def stage_of(status: str | None) -> str | None:
    """received, in_progress or done for an upstream status; None for one this table does not know."""
    return STAGE_OF.get(fold(status or ""))


def status_text(status: str | None, lang: str) -> str:
    """The status as a citizen reads it: its stage's word, else the upstream's own word."""
    stage = stage_of(status)
    return word(STAGE_WORDS[stage], lang) if stage else (status or "").replace("_", " ")


FILTERS: dict[str, ChoiceFilter] = {
    "service": data_choice(
        "service_code", "service_name", help="Request feeds: the service's code or name (services.json)."
    ),
    "status": ChoiceFilter(
        lambda item: (item.data.get("status"), item.data.get("stage")),
        extra=STAGES,
        help="Request feeds: the stage (received, in_progress, done) or the upstream's own status.",
    ),
    # A tracking link names one request: one not (or no longer) in the feed gives an empty view, not a 400.
    "request": ChoiceFilter(
        data_value("request_id"), open=True, help="Request feeds: one request's number, its timeline."
    ),
}
