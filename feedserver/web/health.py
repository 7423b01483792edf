"""/healthz (the process answers) and /readyz (the database answers, is migrated and takes writes)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StorageError
from ..store import SchemaError
from ..store_health import as_storage_error
from .common import runtime
from .problems import problem

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness: the process serves requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Readiness: the store is reachable, migrated and takes writes (a full disk makes it not ready)."""
    store = runtime().store
    try:
        store.ping()
        store.check_schema()
    except (SQLAlchemyError, SchemaError):
        return problem(503, "Service Unavailable", "The database is not ready.")
    try:
        store.check_writable()
    except (SQLAlchemyError, StorageError) as exc:
        log.warning("readyz: %s", as_storage_error(exc))
        return problem(503, "Service Unavailable", "The database cannot be written.")
    return jsonify(status="ready")
