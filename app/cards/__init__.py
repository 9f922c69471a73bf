"""The household card (tessera del nucleo): issued by a hub, printed as an A6 PDF with a QR code
that carries only an opaque token, scanned at the counter, revoked and reissued when lost."""

from flask import Blueprint

bp = Blueprint("cards", __name__, url_prefix="/households")

from app.cards import views  # noqa: E402, F401
