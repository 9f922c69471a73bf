"""In-app notifications: a step that asks someone to act tells them so."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

from app.notifications import views  # noqa: E402, F401
