"""The filter parameters of /api/v1/feeds/{id}/items: documented once for every kind, applied per feed.

One operation serves every feed, so the document gives each filter the values any kind accepts: an enum where
every kind offering the filter has a fixed vocabulary (waste categories, severities, pollutants, message
types), a pattern for names and ids (areas, stations, lines, stops), a range for minimums. Whatever the
document admits is answered 200: a filter or a value that this feed has no item for keeps none, an empty
page. (A feed URL serves one known feed and refuses such a value with 400 and the valid ones instead.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from marshmallow import Schema, ValidationError, fields, validate

from ...api_query import MAX_VALUE_LENGTH, TEXT_VALUE_PATTERN, FilterValues, FullMatch, OneOfNames
from ...config import FeedSettings
from ...filters import FILTERS as CORE_FILTERS
from ...filters import (
    MAX_VALUES,
    ChoiceFilter,
    FilterError,
    MinimumFilter,
    NearFilter,
    Selection,
    filters_for,
)
from ...items import Item
from ...registry import all_kinds, load_kind, load_source, source_kinds
from ...renditions import accepted_filters

HELP = {  # the filters of the core (kinds describe theirs in their filters' `help`)
    "category": "Waste feeds: the waste category (its German or English name is taken too, e.g. Papier, "
    "Restmüll, Bio; case and accents do not matter). Alert feeds: the severity.",
    "area": "Waste and alert feeds: the district or warning area, as in the items' `area`.",
}
VALUES = f"Comma-separated, at most {MAX_VALUES} values."
NOTHING = "A filter or value this feed has no item for gives an empty page; its `filters` list its values."


@dataclass(frozen=True)
class Vocabulary:
    """A choice filter's fixed values across every kind offering it."""

    values: tuple[str, ...]  # the canonical names: the document's enum
    names: frozenset[str]  # every folded name the server resolves, aliases included


@dataclass(frozen=True)
class NoItems:
    """A filter of another kind: this feed's items carry no such value, so it keeps none."""

    def keep(self, item: Item, wanted: object) -> bool:
        return False


def every_filter() -> dict[str, ChoiceFilter | MinimumFilter]:
    """The core's filters and every kind's, the first of a name kept: choices first, then minimums."""
    found: dict[str, ChoiceFilter | MinimumFilter] = dict(CORE_FILTERS)
    for kind in all_kinds():
        for name, spec in kind.filters.items():
            found.setdefault(name, spec)
    return dict(sorted(found.items(), key=lambda pair: isinstance(pair[1], MinimumFilter)))


def vocabularies() -> dict[str, Vocabulary]:
    """The choice filters every source offering them gives a fixed vocabulary, with the union of those."""
    fixed: dict[str, list[ChoiceFilter]] = {}
    free: set[str] = set()
    for source in source_kinds():
        module = load_source(source)
        for name, spec in filters_for(module, load_kind(module.KIND).filters).items():
            if isinstance(spec, ChoiceFilter) and (spec.open or not spec.vocabulary()):
                free.add(name)  # names and ids: any value may be one, tomorrow if not today
            elif isinstance(spec, ChoiceFilter):
                fixed.setdefault(name, []).append(spec)
    return {
        name: Vocabulary(
            tuple(sorted(frozenset().union(*(spec.vocabulary() for spec in specs)))),
            frozenset().union(*(spec.names() for spec in specs)),
        )
        for name, specs in fixed.items()
        if name not in free
    }


def _field(name: str, spec: ChoiceFilter | MinimumFilter, vocabulary: Vocabulary | None) -> fields.Field:
    help_text = spec.help or HELP.get(name, f"Filter `{name}`.")
    if isinstance(spec, NearFilter):
        return fields.String(
            validate=FullMatch(spec.pattern), metadata={"description": f"{help_text} {NOTHING}"}
        )
    if isinstance(spec, MinimumFilter):
        description = f"{help_text} A number from 0 to {spec.upper:g}. {NOTHING}"
        return fields.Float(validate=validate.Range(0, spec.upper), metadata={"description": description})
    if vocabulary is not None:
        value = fields.String(validate=OneOfNames(vocabulary.values, vocabulary.names))
    else:
        value = fields.String(validate=[validate.Length(1, MAX_VALUE_LENGTH), FullMatch(TEXT_VALUE_PATTERN)])
    return FilterValues(
        value,
        validate=validate.Length(1, MAX_VALUES),
        metadata={"description": f"{help_text} {VALUES} {NOTHING}"},
    )


FILTERS = every_filter()
VOCABULARIES = vocabularies()
FilterQuerySchema = type(
    "FilterQuerySchema",
    (Schema,),
    {
        "__module__": __name__,
        "__doc__": "The filter parameters of every kind, with the values any kind accepts.",
        **{name: _field(name, spec, VOCABULARIES.get(name)) for name, spec in FILTERS.items()},
    },
)
FILTER_QUERY = FilterQuerySchema()


def select(
    feed: FeedSettings, query: Mapping[str, str], items: Sequence[Item]
) -> tuple[Selection, dict[str, ChoiceFilter | MinimumFilter | NoItems]]:
    """The selection the filter parameters make on this feed, and the filters that apply it; FilterError
    names the first parameter the document does not admit."""
    accepted = accepted_filters(feed)
    check(query, accepted, items)
    applied: dict[str, ChoiceFilter | MinimumFilter | NoItems] = {}
    criteria = []
    for name in sorted(query):
        spec = accepted.get(name)
        if spec is None:
            applied[name] = NoItems()
            criteria.append((name, query[name]))
            continue
        # a value the document admits but this feed has no item for keeps none instead of being refused
        applied[name] = replace(spec, open=True) if isinstance(spec, ChoiceFilter) else spec
        criteria.append((name, applied[name].parse(name, query[name], items)))
    return Selection(tuple(criteria)), applied


def check(query: Mapping[str, str], accepted: Mapping, items: Sequence[Item]) -> None:
    """FilterError for the first parameter the document does not admit: an unknown name, then a value."""
    unknown = sorted(set(query) - set(FILTERS))
    if unknown:
        raise FilterError(unknown[0], "not a filter", accepted)
    try:
        FILTER_QUERY.load(query)
    except ValidationError as exc:
        name = sorted(exc.messages)[0]
        raise FilterError(name, _problem(name), _valid(name, accepted, items)) from None


def _problem(name: str) -> str:
    spec = FILTERS[name]
    if isinstance(spec, NearFilter):
        return f"must be latitude,longitude,radius_m (radius more than 0 and at most {spec.upper:g} metres)"
    if isinstance(spec, MinimumFilter):
        return f"must be a number from 0 to {spec.upper:g}"
    if name in VOCABULARIES:
        return f"takes at most {MAX_VALUES} comma-separated values from `valid`"
    return (
        f"takes at most {MAX_VALUES} comma-separated values of 1 to {MAX_VALUE_LENGTH} characters, "
        "without control characters or spaces at either end"
    )


def _valid(name: str, accepted: Mapping, items: Sequence[Item]) -> list[str]:
    """The values to offer in a 400: this feed's own where it has the filter, else every kind's."""
    spec = accepted.get(name)
    if isinstance(spec, ChoiceFilter):
        return spec.valid(items)
    return list(VOCABULARIES[name].values) if name in VOCABULARIES else []
