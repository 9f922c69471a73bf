"""Monitoring reports for the City, and their CSV and XLSX exports (aggregate figures only)."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from app.reports import views  # noqa: E402, F401
