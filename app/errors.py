"""Domain errors: raised by operations, turned into a clear message by the web layer."""

from __future__ import annotations


class DomainError(Exception):
    """An action that the current state does not allow (answered with 409 and the message)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
