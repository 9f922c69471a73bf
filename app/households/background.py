"""The household list exported by the background worker when it is long (issue #22).

With REDIS_URL, a list of more than EXPORT_BACKGROUND_ROWS households is not built in the web
request: an `ExportFile` is queued, the worker streams it in batches and writes its progress, and
the user downloads it from the progress page when ready (app/downloads). The file holds exactly
what the inline export would: the same columns, the same scope (the user's own
`visible_households`, read again by the worker as that user), the same filters.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from typing import Any

from flask import current_app
from sqlalchemy import update

from app.audit.operations import record
from app.auth.models import User
from app.clock import today
from app.downloads.models import ExportFile
from app.exports import write_list
from app.extensions import db
from app.households.listing import (
    HouseholdFilters,
    batches,
    count_households,
    export_header,
    export_rows,
)
from app.i18n import gettext as _
from app.jobs import later
from app.shared import redis_client

BATCH = 1000


def available() -> bool:
    return redis_client() is not None


def worth_it(rows: int) -> bool:
    return rows > int(current_app.config.get("EXPORT_BACKGROUND_ROWS", 5000))


def start(user: User, filters: dict[str, Any], kind: str, rows: int) -> ExportFile:
    export = ExportFile(
        user_id=user.id, subject="households", kind=kind, params=filters, rows_total=rows
    )
    db.session.add(export)
    db.session.flush()
    record("export_requested", export, {"filters": filters, "rows": rows, "format": kind})
    later(household_export_job, export.id)
    return export


def household_export_job(export_id: int) -> None:
    """The worker's job: build the file of `export_id`; its session is its own."""
    try:
        build(export_id)
    finally:
        db.session.remove()


def build(export_id: int) -> None:
    """Write the file of `export_id` as the list stands now, streaming: BATCH households are
    read at a time (one short keyset query each, `listing.batches`), their rows go straight
    into a temporary file, and after each batch the progress is one small UPDATE committed on
    its own, which the progress page (polled every 2 s) shows. The process never holds more
    than a batch of households; the finished file is stored in the export's row."""
    export = db.session.get(ExportFile, export_id)
    if export is None or export.status != "queued":
        return
    user = db.session.get(User, export.user_id)
    if user is None or not user.active:
        export.status = "failed"
        db.session.commit()
        return
    started, cpu = time.perf_counter(), time.process_time()
    filters = HouseholdFilters.from_params(export.params or {})
    kind = export.kind
    export.status = "running"
    export.rows_done = 0
    export.rows_total = count_households(user, filters)
    db.session.commit()
    ids: list[int] = []

    def rows() -> Iterator[list[Any]]:
        for batch in batches(user, filters, BATCH):
            for row in export_rows(batch):
                ids.append(row[0])
                yield row
            _progress(export_id, len(ids))

    try:
        with tempfile.TemporaryFile() as out:
            mimetype, disposition = write_list(
                out,
                kind,
                f"nuclei-{today().isoformat()}",
                _("Nuclei familiari"),
                export_header(),
                rows(),
            )
            out.seek(0)
            content = out.read()
        db.session.execute(
            update(ExportFile)
            .where(ExportFile.id == export_id)
            .values(
                content=content,
                mimetype=mimetype,
                filename=disposition,
                household_ids=ids,
                rows_done=len(ids),
                rows_total=len(ids),
                status="ready",
            )
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        db.session.execute(
            update(ExportFile).where(ExportFile.id == export_id).values(status="failed")
        )
        db.session.commit()
        raise
    current_app.logger.info(
        "export %s: %s rows, %s bytes in %.1f s (CPU %.1f s)",
        export_id,
        len(ids),
        len(content),
        time.perf_counter() - started,
        time.process_time() - cpu,
    )


def _progress(export_id: int, done: int) -> None:
    """The rows written so far, in a transaction of its own (the progress page reads it)."""
    db.session.execute(update(ExportFile).where(ExportFile.id == export_id).values(rows_done=done))
    db.session.commit()
