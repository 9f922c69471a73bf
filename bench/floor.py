"""The floor of the benchmark: the least a Flask + SQLAlchemy page can do with the same data.

One route renders an HTML table of 50 rows of the `household` table, read with the same database
driver as the portal, through `render_template_string`: no login, no session, no layout. Every
page of the portal is measured as a ratio of this page's throughput (see bench/README.md).

    DATABASE_URL=sqlite:////tmp/bench-demo.db .venv/bin/gunicorn --no-control-socket \
        --workers 2 --bind 127.0.0.1:8100 --pythonpath bench floor:app
"""

from __future__ import annotations

import os

from flask import Flask, render_template_string
from sqlalchemy import Engine, create_engine, event, text

ROWS = 50

PAGE = """<!doctype html>
<html lang="it">
<head><meta charset="utf-8"><title>Nuclei</title></head>
<body>
<main>
<h1>Nuclei</h1>
<table>
<thead><tr><th>N.</th><th>Indirizzo</th><th>Circoscrizione</th><th>Stato</th><th>Dal</th></tr></thead>
<tbody>
{% for row in rows %}
<tr><td>{{ row.id }}</td><td>{{ row.address or "" }}</td><td>{{ row.circoscrizione }}</td>
<td>{{ row.status }}</td><td>{{ row.created_at }}</td></tr>
{% endfor %}
</tbody>
</table>
</main>
</body>
</html>
"""

QUERY = text(
    "SELECT id, address, circoscrizione, status, created_at FROM household "
    "ORDER BY id DESC LIMIT :limit"
)


def database_url(raw: str) -> str:
    """The portal's normalisation (app/config.py): PostgreSQL goes through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def make_engine(url: str) -> Engine:
    engine = create_engine(database_url(url), pool_pre_ping=not url.startswith("sqlite"))
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: object, connection_record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    return engine


def create_app(url: str | None = None) -> Flask:
    url = url or os.environ.get("DATABASE_URL", "")
    if not url:
        raise RuntimeError("DATABASE_URL is required: the floor reads the portal's database.")
    engine = make_engine(url)
    app = Flask(__name__)

    @app.get("/")
    def households() -> str:
        with engine.connect() as connection:
            rows = connection.execute(QUERY, {"limit": ROWS}).all()
        return render_template_string(PAGE, rows=rows)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app


app = create_app() if os.environ.get("DATABASE_URL") else None
