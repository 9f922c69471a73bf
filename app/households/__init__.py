"""Households taken in charge, their members and privacy records."""

from flask import Blueprint

bp = Blueprint("households", __name__, url_prefix="/households")

from app.households import views  # noqa: E402, F401
