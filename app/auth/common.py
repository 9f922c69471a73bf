"""What a new password may not be: a common one, or one a strength estimator guesses quickly."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from zxcvbn import zxcvbn

LIST_PATH = Path(__file__).with_name("common_passwords.txt")
# zxcvbn looks at no more than this many characters (it refuses longer passwords).
ESTIMATED_LENGTH = 72
# Words of this portal that a password made of them is quickly guessed with.
PORTAL_WORDS = ("torino", "reti", "comunità", "inclusione", "portale")

# zxcvbn keeps the user's words in a module-level dictionary while it scores: one at a time.
_estimator_lock = threading.Lock()


@cache
def common_passwords() -> frozenset[str]:
    lines = LIST_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip())


def is_common(password: str) -> bool:
    return password.strip().casefold() in common_passwords()


def strength(password: str, user_inputs: Iterable[str] = ()) -> tuple[int, str]:
    """zxcvbn's score (0 to 4) and its warning (English, empty if none) for `password`.

    `user_inputs` (the user's name, username...) count as words an attacker tries first.
    """
    words = [*PORTAL_WORDS]
    for value in user_inputs:
        words += [value, *value.replace(".", " ").replace("-", " ").split()]
    with _estimator_lock:
        result = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=[w for w in words if w])
    return int(result["score"]), str(result["feedback"]["warning"] or "")
