"""/healthz (the process answers) and /readyz (the database answers at the expected schema)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from ..store import SchemaError
from .common import runtime
from .problems import problem

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness: the process serves requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Readiness: the store is reachable and migrated."""
    try:
        runtime().store.ping()
        runtime().store.check_schema()
    except (SQLAlchemyError, SchemaError):
        return problem(503, "Service Unavailable", "The database is not ready.")
    return jsonify(status="ready")
