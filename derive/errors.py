"""The one exception type the command line turns into a clean message."""

from __future__ import annotations

import difflib


def printable(text: str) -> str:
    """``text`` with every control, surrogate or other unprintable character written as an escape.

    Messages quote file names and keys from the user's file; escaping keeps every
    message on one line and always encodable, whatever those contain.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable():
            out.append(char)
        elif char in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[char])
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


class DeriveError(Exception):
    """A problem with the user's input or environment, reported without a traceback.

    ``where`` names the file (and, when known, the key inside it); ``problem``
    says what is wrong in words a student understands. Both are kept printable
    and on one line.
    """

    def __init__(self, where: str, problem: str):
        self.where = printable(str(where))
        self.problem = printable(str(problem))
        super().__init__(f"{self.where}: {self.problem}")


def _normal(word: str) -> str:
    """The form two names are compared in: case, dashes and spaces do not count."""
    return word.strip().lower().replace("-", "_").replace(" ", "_")


def suggestion(word: str, choices) -> str:
    """A ' (did you mean ...?)' hint naming the nearest valid choice, or ''."""
    word = str(word)
    if not word or len(word) > 100:  # a long word is not a typo of a short name
        return ""
    by_normal = {_normal(str(c)): str(c) for c in sorted(choices, key=str)}
    if _normal(word) in by_normal:
        return f" (did you mean '{by_normal[_normal(word)]}'?)"
    close = difflib.get_close_matches(_normal(word), sorted(by_normal), n=1, cutoff=0.5)
    return f" (did you mean '{by_normal[close[0]]}'?)" if close else ""
