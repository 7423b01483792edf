"""URL filters, handled once in the core for every format: ?category=, ?area=, and those kinds add."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from .items import Item
from .sanitize import fold

MAX_VALUES = 20  # values per filter parameter
MAX_LENGTH = 200  # characters per filter parameter


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
FILTERS: dict[str, ChoiceFilter | MinimumFilter] = {
    "category": ChoiceFilter(lambda i: (i.category,), aliases=None),
    "area": ChoiceFilter(lambda i: (i.area,)),
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
