"""The audit viewer, for coordinators and admins: read-only."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
