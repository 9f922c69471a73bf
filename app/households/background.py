"""The household list exported by the background worker when it is long (issue #22).

With REDIS_URL, a list of more than EXPORT_BACKGROUND_ROWS households is not built in the web
request: an `ExportFile` is queued, the worker builds it in batches and writes its progress, and
the user downloads it from the progress page when ready (app/downloads). The file holds exactly
what the inline export would: the same columns, the same scope (the user's own
`visible_households`, read again by the worker as that user), the same filters.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.audit.operations import record
from app.auth.models import User
from app.clock import today
from app.downloads.models import ExportFile
from app.exports import list_response
from app.extensions import db
from app.households.listing import (
    HouseholdFilters,
    export_header,
    export_row,
    filtered_households,
)
from app.households.models import Household
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
    export = db.session.get(ExportFile, export_id)
    if export is None or export.status != "queued":
        return
    user = db.session.get(User, export.user_id)
    if user is None or not user.active:
        export.status = "failed"
        db.session.commit()
        return
    export.status = "running"
    db.session.commit()
    try:
        params = export.params or {}
        filters = HouseholdFilters.from_params(params)
        ids = list(
            db.session.scalars(
                filtered_households(user, filters)
                .with_only_columns(Household.id)
                .order_by(Household.id.desc())
            )
        )
        export.rows_total = len(ids)
        db.session.commit()
        rows: list[list[Any]] = []
        for start_at in range(0, len(ids), BATCH):
            batch = ids[start_at : start_at + BATCH]
            households = db.session.scalars(
                select(Household)
                .where(Household.id.in_(batch))
                .options(selectinload(Household.members), selectinload(Household.organization))
                .order_by(Household.id.desc())
            ).all()
            rows.extend(export_row(household) for household in households)
            export.rows_done = len(rows)
            db.session.commit()  # the progress page reads it
            db.session.expunge_all()
            export = db.session.get(ExportFile, export_id)  # type: ignore[assignment]
        response = list_response(
            export.kind,
            f"nuclei-{today().isoformat()}",
            _("Nuclei familiari"),
            export_header(),
            rows,
        )
        export.content = response.get_data()
        export.mimetype = response.mimetype
        export.filename = response.headers["Content-Disposition"]
        export.household_ids = ids
        export.status = "ready"
        db.session.commit()
    except Exception:
        db.session.rollback()
        failed = db.session.get(ExportFile, export_id)
        if failed is not None:
            failed.status = "failed"
            db.session.commit()
        raise
