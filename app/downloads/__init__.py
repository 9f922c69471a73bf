"""Exports prepared in the background: progress, then a download kept 24 hours for its requester."""

from flask import Blueprint

bp = Blueprint("downloads", __name__, url_prefix="/exports")

from app.downloads import views  # noqa: E402, F401
