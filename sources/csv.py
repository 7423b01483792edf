"""Waste collection dates from a CSV table (open-data portal exports such as Opendatasoft's)."""

from __future__ import annotations

# This module is sources.csv, but imports are absolute, so this is the standard library's csv module.
import codecs
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, validate

from feedserver.errors import ParseError
from feedserver.fetch import Http, Payload
from feedserver.fields import Url
from feedserver.items import FeedInfo, Item
from feedserver.sanitize import fold
from kinds.waste.vocabulary import WasteOptions, WasteSource, by_day

KIND = "waste"
TITLE = "CSV waste calendar"
FILTERS = ("category", "area")

DELIMITERS = ";,\t|"
SNIFF_CHARS = 4 * 1024  # csv.Sniffer's quote patterns are quadratic in the sample: 16 KiB took a second
DAY_FORMATS = ("%d.%m.%Y", "%d/%m/%Y")  # tried after ISO 8601


def _known_encoding(name: str) -> None:
    try:
        codecs.lookup(name)
    except LookupError as exc:
        raise ValidationError(f"unknown encoding {name!r} (use e.g. utf-8 or cp1252)") from exc


class Columns(Schema):
    date = fields.String(required=True, validate=validate.Length(min=1))
    type = fields.String(required=True, validate=validate.Length(min=1))
    area = fields.String(load_default=None)


class Options(WasteOptions):
    url = Url(required=True)
    delimiter = fields.String(load_default=None, validate=validate.Length(equal=1))
    encoding = fields.String(load_default="utf-8", validate=_known_encoding)
    columns = fields.Nested(Columns, required=True)
    date_format = fields.String(load_default=None)


OPTIONS = Options


@dataclass(frozen=True)
class Layout:
    """How the table is written: which column holds what, its delimiter (None: guessed), encoding, dates."""

    columns: dict[str, str | None]
    delimiter: str | None
    encoding: str
    date_format: str | None


class Source(WasteSource):
    def __init__(
        self,
        feed: FeedInfo,
        url: str,
        columns: dict[str, str | None],
        delimiter: str | None = None,
        encoding: str = "utf-8",
        date_format: str | None = None,
        **waste,
    ):
        super().__init__(feed, **waste)
        self.url = url
        self.layout = Layout(columns, delimiter, encoding, date_format)

    def fetch(self, http: Http) -> Payload:
        """Download the table (conditional GET: a 304 means nothing changed)."""
        return http.get(self.url, conditional=True)

    def parse(self, payload: Payload) -> list[Item]:
        """One Item per collection day, waste type and area; raise ParseError on anything but such a table."""
        text = decode(payload.body, self.layout.encoding)
        if not text.strip():
            raise ParseError("the CSV table is empty")
        if text.lstrip()[:1] == "<":
            raise ParseError("expected a CSV table, got an HTML or XML document")
        rows = csv.reader(
            io.StringIO(text, newline=""), delimiter=self.layout.delimiter or detect_delimiter(text)
        )
        header = next((row for row in rows if any(cell.strip() for cell in row)), None)
        if header is None:
            raise ParseError("the CSV table is empty")
        positions = column_positions(header, self.layout.columns)
        zone = ZoneInfo(self.timezone)
        pickups = by_day(self._item(row, positions, zone, rows.line_num) for row in rows)
        if not pickups:
            raise ParseError("the CSV table has no row with both a date and a waste type")
        return pickups

    def _item(self, row: list[str], positions: dict[str, int], zone: ZoneInfo, line: int) -> Item | None:
        cells = {key: (row[index].strip() if index < len(row) else "") for key, index in positions.items()}
        label, raw_day = cells["type"], cells["date"]
        if not label or not raw_day:
            return None  # blank or footnote lines: exports often end with them
        try:
            day = parse_day(raw_day, self.layout.date_format, zone)
        except ValueError as exc:
            raise ParseError(f"line {line}: cannot read the date {raw_day!r}") from exc
        area = cells.get("area") or None
        return self.pickup(
            f"{day.isoformat()}|{fold(label)}|{fold(area or '')}", label, day, at=area, area=area
        )


def decode(body: bytes, encoding: str) -> str:
    """The body as text in the configured encoding, without a UTF-8 byte order mark."""
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
    try:
        return body.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"the table is not valid {encoding} (byte {exc.start}); set `encoding`, e.g. cp1252"
        ) from exc


def detect_delimiter(text: str) -> str:
    """The delimiter among ; , tab and | that the header line is split by."""
    sample = text[:SNIFF_CHARS]
    header = sample.lstrip("\r\n").splitlines()[0] if sample.strip() else ""
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and sniffed in header:
        return sniffed
    # the sniffer gives up on short or irregular tables; the header alone is then the best evidence
    best = max(DELIMITERS, key=header.count)
    if not header.count(best):
        raise ParseError("cannot tell the CSV delimiter from the header; set `delimiter`")
    return best


def column_positions(header: list[str], columns: dict[str, str | None]) -> dict[str, int]:
    """Index of every configured column in the header (exact name first, then ignoring case and accents)."""
    names = [cell.strip() for cell in header]
    positions = {}
    for key, wanted in columns.items():
        if not wanted:
            continue
        if wanted in names:
            positions[key] = names.index(wanted)
            continue
        folded = [fold(name) for name in names]
        if fold(wanted) not in folded:
            raise ParseError(
                f"column {wanted!r} (columns.{key}) is not in the CSV header; it has: {', '.join(names)}"
            )
        positions[key] = folded.index(fold(wanted))
    return positions


def parse_day(value: str, date_format: str | None, zone: ZoneInfo) -> date:
    """A collection day written in `date_format`, else ISO 8601, DD.MM.YYYY or DD/MM/YYYY."""
    if date_format:
        return datetime.strptime(value, date_format).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        pass
    else:
        return moment.astimezone(zone).date() if moment.tzinfo else moment.date()
    for pattern in DAY_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"unknown date format: {value!r}")
