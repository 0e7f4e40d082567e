"""What the console refuses to do, and the HTTP status each refusal answers with.

Domain modules (handoff, stories, canned replies, analytics) raise subclasses of `Refusal`; the app
turns any of them into the error page with its status, so routes need not translate them."""

from __future__ import annotations


class Refusal(Exception):
    """A request the console will not carry out as asked; the message says why, for the staff member."""

    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
