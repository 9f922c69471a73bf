"""Hub supply (approvvigionamento): what each hub receives, gives out, adjusts and has on hand."""

from flask import Blueprint

bp = Blueprint("supplies", __name__, url_prefix="/supplies")

from app.supplies import views  # noqa: E402, F401
