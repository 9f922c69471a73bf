"""Housing: the availability board, placements, well-being follow-ups, eviction prevention."""

from flask import Blueprint

bp = Blueprint("housing", __name__, url_prefix="/housing")

from app.housing import household_section, views  # noqa: E402, F401
