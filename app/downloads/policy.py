"""Who sees a background export: only the user who asked, and only until it expires."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from app.db import utcnow
from app.downloads.models import ExportFile


def visible_exports(user: Any) -> Select[tuple[ExportFile]]:
    return select(ExportFile).where(
        ExportFile.user_id == user.id, ExportFile.expires_at >= utcnow()
    )
