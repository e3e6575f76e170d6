"""The one exception type the command line turns into a clean message."""

from __future__ import annotations

import difflib


class DeriveError(Exception):
    """A problem with the user's input or environment, reported without a traceback.

    ``where`` names the file (and, when known, the key inside it); ``problem``
    says what is wrong in words a student understands.
    """

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def suggestion(word: str, choices) -> str:
    """A ' (did you mean ...?)' hint naming the nearest valid choice, or ''."""
    close = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
