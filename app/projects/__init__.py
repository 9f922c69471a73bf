"""Individualised projects with a life budget, and the programme's financial progress."""

from flask import Blueprint

bp = Blueprint("projects", __name__, url_prefix="/projects")

from app.projects import household_section, views  # noqa: E402, F401
