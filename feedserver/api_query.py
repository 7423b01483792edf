"""What the JSON API's query parameters accept: the patterns /openapi.json gives and the fields that check
them, so the server takes exactly what the document admits."""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate

from .sanitize import fold

# A paging position is 24 bytes (a signed 64-bit time key and an item's UUID) in URL-safe base64, so every
# string of this form, and only such a string, is a position: stale or made up, the server can start after it.
CURSOR_PATTERN = "^[A-Za-z0-9_-]{32}$"
MAX_VALUE_LENGTH = 100  # characters of one value of a name or id filter
# One value of a name or id filter: no comma (it separates values), no control character, and no space of any
# kind (str.isspace) at either end, which the server would strip; inside, spaces are part of the name.
_EDGE = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000,]"
TEXT_VALUE_PATTERN = rf"^{_EDGE}([^\x00-\x1f\x7f-\x9f,]*{_EDGE})?$"
# RFC 3339 date-times as the server reads them: seconds and offset required, no leap second, at most nine
# fraction digits; `T` and `Z` in either case (RFC 3339, 5.6). Days a month lacks fail `format: date-time`.
TIMESTAMP_PATTERN = (
    "^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    "([.][0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


class FullMatch(validate.Regexp):
    """A pattern the whole value must match; apispec puts it in the document as the field's `pattern`.

    Write it for ECMA-262 and Python alike: explicit character ranges, no \\s, \\d or \\w (whose meaning
    differs), anchored with ^ and $ (matched here in full, so `$` never lets a trailing newline through)."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Timestamp(fields.AwareDateTime):
    """A query date-time of TIMESTAMP_PATTERN (the document gives it), read with its offset."""

    def __init__(self, **kwargs):
        metadata = {"pattern": TIMESTAMP_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or re.fullmatch(TIMESTAMP_PATTERN, value) is None:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        return super()._deserialize(value.upper(), attr, data, **kwargs)


class OneOfNames(validate.OneOf):
    """One of `choices` (the document's enum) or another name of one: `names` are folded, so case, accents
    and surrounding spaces do not matter (Papier for paper)."""

    def __init__(self, choices, names):
        super().__init__(choices)
        self.names = frozenset(names)

    def __call__(self, value: str) -> str:
        if fold(value) not in self.names:
            raise ValidationError(self._format_error(value))
        return value


class FilterValues(fields.List):
    """A filter's values, comma-separated in one query parameter (in the document: style form, no explode)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return super()._deserialize(value.split(","), attr, data, **kwargs)
