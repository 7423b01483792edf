"""The schema's column types, its MetaData, and the one mapper from a result row to a dataclass."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
)

T = TypeVar("T")


def from_row(cls: type[T], row: Mapping[str, Any], **values: Any) -> T:
    """A dataclass from a result row: each field from the column of its name, unless `values` gives it
    (a converted or renamed column); a field neither has keeps its default. Other columns are ignored."""
    columns = {f.name: row[f.name] for f in fields(cls) if f.init and f.name not in values and f.name in row}
    return cls(**columns, **values)


class UtcDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC out, stored as naive UTC (portable across SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class DateOrDateTime(TypeDecorator):
    """A date (all-day) or an aware datetime, stored as ISO text so the two stay distinguishable."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        return value.isoformat()

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if "T" in value:
            return datetime.fromisoformat(value)
        return date.fromisoformat(value)


metadata = MetaData()


def table(name: str, *columns_and_indexes) -> Table:
    """A table of this schema (in `metadata`, which Alembic and create_all read)."""
    return Table(name, metadata, *columns_and_indexes)


def serial_id() -> Column:
    """The integer primary key `id` the database numbers (a Column belongs to one table: one per call)."""
    return Column("id", Integer, primary_key=True, autoincrement=True)
