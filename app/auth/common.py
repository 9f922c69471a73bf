"""The list of common passwords a new password may not be."""

from __future__ import annotations

from functools import cache
from pathlib import Path

LIST_PATH = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    lines = LIST_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip())


def is_common(password: str) -> bool:
    return password.strip().casefold() in common_passwords()
