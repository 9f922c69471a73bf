"""The web layer shared by every area: htmx helpers, errors, headers, formatting, navigation."""

from flask import Blueprint

bp = Blueprint("web", __name__)

from app.web import views  # noqa: E402, F401
