"""Open Referral HSDS 3.0 read API of the registry: services and organizations as JSON."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/hsds")

from app.api import views  # noqa: E402, F401
