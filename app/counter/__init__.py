"""The offline counter (banco offline): an installable page that keeps a hub's day open
without a connection, and the server side that applies what it recorded, exactly once."""

from flask import Blueprint

bp = Blueprint("counter", __name__, url_prefix="/counter")

from app.counter import views  # noqa: E402, F401
