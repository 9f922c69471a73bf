"""An export's progress page (polled by htmx while the worker prepares it) and its download.

Only the user who asked sees either (anyone else: 404), until it expires after 24 hours. Each
download is an audit event naming the households the file shows.
"""

from __future__ import annotations

from flask import Response, abort
from flask_login import current_user, login_required
from sqlalchemy import delete

from app.audit.operations import record_views
from app.db import utcnow
from app.downloads import bp
from app.downloads.models import ExportFile
from app.downloads.policy import visible_exports
from app.exports import stored_download
from app.extensions import db
from app.web.htmx import render, wants_fragment
from app.web.transactions import finish


def _mine(export_id: int) -> ExportFile:
    export = db.session.scalar(visible_exports(current_user).where(ExportFile.id == export_id))
    if export is None:
        abort(404)
    return export


@bp.get("/<int:export_id>")
@login_required
def progress(export_id: int) -> Response:
    export = _mine(export_id)
    if wants_fragment():
        return render("downloads/_progress.html", export=export)
    return render("downloads/progress.html", export=export)


@bp.get("/<int:export_id>/file")
@login_required
def download(export_id: int) -> Response:
    export = _mine(export_id)
    if export.status != "ready" or export.content is None:
        abort(404)
    record_views(
        f"{export.subject}_exported",
        export.household_ids,
        changes={"filters": export.params, "rows": export.rows_total, "format": export.kind},
    )
    return finish(
        stored_download(
            export.content, export.mimetype or "application/octet-stream", export.filename or ""
        )
    )


def purge_expired() -> int:
    """Forget the exports past their 24 hours (nightly)."""
    result = db.session.execute(delete(ExportFile).where(ExportFile.expires_at < utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
