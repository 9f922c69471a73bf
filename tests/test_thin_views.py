"""Views never commit or roll back by hand: they end through app/web/transactions.py
(`finish`, `commit_and_render`, `roll_back`) or `commit_view()` for a page view, so the order
"response prepared, commit, then flash" is written in one place and cannot be forgotten."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"


def view_modules() -> list[Path]:
    found = set(APP.glob("*/views.py")) | set(APP.glob("*/views/*.py"))
    return sorted(found)


def hand_written_transactions(source: str) -> list[str]:
    """`x.session.commit()` / `session.rollback()` / `Session.commit(...)` calls, with line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr not in {"commit", "rollback"}:
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if name.lower() in {"session", "db", "connection", "conn"} or (
            isinstance(owner, ast.Call) and ast.unparse(owner).endswith("session()")
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def relative(path: Path) -> str:
    return path.relative_to(APP.parent).as_posix()


def test_the_scan_finds_views():
    names = {relative(path) for path in view_modules()}
    assert "app/households/views.py" in names
    assert "app/projects/views/budget.py" in names


@pytest.mark.parametrize(
    "source",
    [
        "db.session.commit()",
        "db.session.rollback()",
        "from app.extensions import db\nsession = db.session\nsession.commit()",
        "db.session().commit()",
    ],
)
def test_the_scan_recognises_a_hand_written_commit(source):
    assert hand_written_transactions(source)


def test_the_scan_ignores_the_helpers():
    source = "finish(response, 'ok')\ncommit_view()\nroll_back()\nidempotency.complete(key)\n"
    assert hand_written_transactions(source) == []


def test_no_view_commits_or_rolls_back_by_hand():
    offenders = {}
    for path in view_modules():
        calls = hand_written_transactions(path.read_text(encoding="utf-8"))
        if calls:
            offenders[relative(path)] = calls
    assert offenders == {}, (
        "views end through app/web/transactions.py (finish, commit_and_render, roll_back, "
        f"commit_step) or commit_view(): {offenders}"
    )
