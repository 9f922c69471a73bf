"""Every action the portal writes to the audit log has an Italian label: the household's
timeline and the audit viewer show «tessera del nucleo revocata», never `household_card_revoked`.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.audit.labels import ACTION_LABELS

APP = Path(__file__).resolve().parents[1] / "app"
# An action written as a literal: record("…"), record_views("…"), _audit("…"), action="…".
WRITTEN = re.compile(r'(?:\brecord(?:_views)?|\b_audit)\(\s*"([a-z_]+)"|\baction="([a-z_]+)"')


def _written_actions() -> set[str]:
    found: set[str] = set()
    for path in APP.rglob("*.py"):
        for match in WRITTEN.finditer(path.read_text(encoding="utf-8")):
            action = match.group(1) or match.group(2)
            if not action.endswith("_"):  # a prefix completed at run time (joint_care_…)
                found.add(action)
    return found


def test_the_scan_finds_the_actions_it_should():
    written = _written_actions()
    assert {"distribution_recorded", "counter_entry_synced", "household_card_scanned"} <= written


def test_every_written_action_has_a_label():
    missing = sorted(_written_actions() - ACTION_LABELS.keys())
    assert not missing, f"audit actions without a label in app/audit/labels.py: {missing}"
