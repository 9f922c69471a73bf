"""Referrals: a household met at a hub reaches an accredited job service, with the City's
approval, and is followed to an outcome."""

from flask import Blueprint

bp = Blueprint("referrals", __name__, url_prefix="/referrals")

from app.referrals import household_section, views  # noqa: E402, F401
