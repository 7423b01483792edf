"""URL filters, handled once in the core for every format: ?category=, ?area=, and those kinds add."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from .items import Item, coordinates
from .sanitize import fold

MAX_VALUES = 20  # values per filter parameter
MAX_LENGTH = 200  # characters per filter parameter
EARTH_RADIUS_M = (
    6_371_008.8  # the mean radius (IUGG): haversine distances are within 0.5 % of the ellipsoid's
)
MAX_RADIUS_M = 100_000  # ?near= looks around a place in a city, not across a country


class FilterError(ValueError):
    """A filter parameter or value the feed does not accept; carries the valid choices."""

    def __init__(self, name: str, problem: str, valid: Iterable[str] = ()):
        self.name, self.problem, self.valid = name, problem, sorted(set(valid))
        super().__init__(f"{name}: {problem}")


@dataclass(frozen=True)
class ChoiceFilter:
    """Keep items whose value (or one of its names) is among the requested ones.

    Valid values are those of the feed's items plus the source's fixed vocabulary (`extra`), so a subscriber
    may ask for a value that has no item right now (no cancellations yet). An `open` filter (line, stop)
    accepts any value: a line without delays is normal, and its subscription must not break.
    """

    values: Callable[[Item], Sequence[str | None]]
    aliases: Callable[[], Mapping[str, str]] | None = None
    extra: tuple[str, ...] = ()
    open: bool = False
    help: str = ""  # what it selects, for the API document (kinds describe their own filters)

    def parse(self, name: str, raw: str, items: Sequence[Item]) -> frozenset[str]:
        """Requested values folded and resolved; FilterError lists the valid ones."""
        known = self._known(items)
        aliases = self._aliases()
        wanted = set()
        for value in _split(name, raw):
            key = fold(value)
            if key in aliases:
                wanted.add(fold(aliases[key]))
            elif key in known or self.open:
                wanted.add(key)
            else:
                raise FilterError(name, "unknown value", self.valid(items))
        return frozenset(wanted)

    def vocabulary(self) -> frozenset[str]:
        """The values it accepts whatever the items: the canonical names its aliases lead to, and `extra`."""
        return frozenset(str(v) for v in self._aliases().values()) | frozenset(self.extra)

    def names(self) -> frozenset[str]:
        """Every folded name of its vocabulary, aliases included: what `parse` resolves without any item."""
        return frozenset(self._aliases()) | frozenset(fold(v) for v in self.vocabulary())

    def valid(self, items: Sequence[Item]) -> list[str]:
        """The values to offer: the canonical names plus those of the items, as FilterError lists them."""
        return sorted({str(v) for v in self._aliases().values()} | set(self._known(items).values()))

    def _known(self, items: Sequence[Item]) -> dict[str, str]:
        known = {fold(v): v for v in self.extra}
        known.update({fold(v): v for item in items for v in self.values(item) if v})
        return known

    def _aliases(self) -> dict[str, str]:
        return {fold(k): v for k, v in (self.aliases() if self.aliases else {}).items()}

    def keep(self, item: Item, wanted: frozenset[str]) -> bool:
        return any(v and fold(v) in wanted for v in self.values(item))


@dataclass(frozen=True)
class MinimumFilter:
    """Keep items whose number is at or above the requested minimum."""

    value: Callable[[Item], float | int | None]
    upper: float = 1e6
    help: str = ""

    def parse(self, name: str, raw: str, items: Sequence[Item]) -> float:
        try:
            number = float(raw)
        except ValueError:
            raise FilterError(name, "must be a number") from None
        if not 0 <= number <= self.upper:
            raise FilterError(name, f"must be between 0 and {self.upper:g}")
        return number

    def keep(self, item: Item, minimum: float) -> bool:
        value = self.value(item)
        return isinstance(value, int | float) and value >= minimum


@dataclass(frozen=True)
class NearFilter:
    """Keep items whose place (`data["lat"]`, `data["lon"]`) is near a point: `lat,lon,radius_m`."""

    upper: float = MAX_RADIUS_M
    help: str = ""
    # what the API document admits: exactly the values `parse` accepts (schemathesis sends any match)
    pattern: str = (
        r"^-?(90(\.0{1,12})?|[1-8]?[0-9](\.[0-9]{1,12})?),"
        r"-?(180(\.0{1,12})?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]{1,12})?),"
        r"(100000(\.0{1,6})?|[1-9][0-9]{0,4}(\.[0-9]{1,6})?|0\.[0-9]{0,5}[1-9])$"
    )

    def parse(self, name: str, raw: str, items: Sequence[Item]) -> tuple[float, float, float]:
        """(latitude, longitude, radius in metres); FilterError when it is not three numbers in range."""
        try:
            lat, lon, radius = (float(part) for part in raw.split(",", 3))
        except ValueError:  # not a number, or not three of them
            raise FilterError(name, "must be three numbers: latitude,longitude,radius_m") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # NaN and infinities fail here too
            raise FilterError(name, "must be latitude (-90 to 90),longitude (-180 to 180),radius_m")
        if not 0 < radius <= self.upper:
            raise FilterError(name, f"radius_m must be more than 0 and at most {self.upper:g}")
        return lat, lon, radius

    def keep(self, item: Item, near: tuple[float, float, float]) -> bool:
        place = coordinates(item)
        return place is not None and distance_m(place, near[:2]) <= near[2]


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (latitude, longitude) points (haversine formula)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def data_value(key: str) -> Callable[[Item], Sequence[str | None]]:
    """The values a choice filter looks at: the item's `data[key]` as text."""
    return lambda item: (str(item.data[key]) if item.data.get(key) is not None else None,)


def data_choice(*keys: str, help: str, open: bool = False) -> ChoiceFilter:
    """A choice filter on the values of `data[key]` for each key (an id and a name, say)."""
    return ChoiceFilter(lambda item: tuple(item.data.get(key) for key in keys), open=open, help=help)


def data_minimum(key: str, upper: float, help: str) -> MinimumFilter:
    """A minimum filter on the number in `data[key]`."""
    return MinimumFilter(lambda item: item.data.get(key), upper=upper, help=help)


# The filters every kind may offer (on Item fields); kinds add or refine theirs (Kind.filters).
FILTERS: dict[str, ChoiceFilter | MinimumFilter | NearFilter] = {
    "category": ChoiceFilter(lambda i: (i.category,), aliases=None),
    "area": ChoiceFilter(lambda i: (i.area,)),
    "near": NearFilter(
        help="Feeds whose items have a place: only those within `radius_m` metres of a point, written "
        f"`latitude,longitude,radius_m` (WGS 84 degrees; radius more than 0 and at most {MAX_RADIUS_M})."
    ),
}


def filters_for(source_module, kind_filters: Mapping[str, ChoiceFilter | MinimumFilter]) -> dict:
    """The filters a feed accepts: those its source declares (the core's, or its kind's own or refined
    ones), with the source's fixed vocabulary (VOCABULARY)."""
    known = {**FILTERS, **kind_filters}
    names = getattr(source_module, "FILTERS", ())
    vocabulary = getattr(source_module, "VOCABULARY", {})
    chosen = {name: known[name] for name in names if name in known}
    for name, values in vocabulary.items():
        if isinstance(chosen.get(name), ChoiceFilter):
            chosen[name] = replace(chosen[name], extra=tuple(values))
    return chosen


@dataclass(frozen=True)
class Selection:
    """Parsed filters of one request; empty means the whole feed."""

    criteria: tuple[tuple[str, object], ...] = ()

    @property
    def key(self) -> str:
        """A canonical string for cache keys."""
        return "&".join(f"{n}={sorted(v) if isinstance(v, frozenset) else v}" for n, v in self.criteria)

    def apply(
        self, accepted: Mapping[str, ChoiceFilter | MinimumFilter], items: Sequence[Item]
    ) -> list[Item]:
        """Items that pass every criterion."""
        return [i for i in items if all(accepted[n].keep(i, v) for n, v in self.criteria)]


def parse_selection(
    query: Mapping[str, str], accepted: Mapping[str, ChoiceFilter | MinimumFilter], items: Sequence[Item]
) -> Selection:
    """Validate query parameters against the feed's filters; FilterError names what is wrong."""
    criteria = []
    for name in sorted(query):
        if name not in accepted:
            raise FilterError(name, "not a filter of this feed", accepted)
        raw = query[name]
        if len(raw) > MAX_LENGTH:
            raise FilterError(name, f"longer than {MAX_LENGTH} characters")
        criteria.append((name, accepted[name].parse(name, raw, items)))
    return Selection(tuple(criteria))


def _split(name: str, raw: str) -> list[str]:
    values = [v.strip() for v in raw.split(",") if v.strip()]
    if not values:
        raise FilterError(name, "needs at least one value")
    if len(values) > MAX_VALUES:
        raise FilterError(name, f"at most {MAX_VALUES} values")
    return values
