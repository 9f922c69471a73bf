"""The hubs' distribution log: the counter form, the recent list, the monthly counts."""

from flask import Blueprint

bp = Blueprint("distributions", __name__, url_prefix="/distributions")

from app.distributions import household_section, views  # noqa: E402, F401
