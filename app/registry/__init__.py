"""The shared registry of organizations (accredited entities, hubs, housing providers)."""

from flask import Blueprint

bp = Blueprint("registry", __name__, url_prefix="/entities")

from app.registry import views  # noqa: E402, F401
