""""Did you mean …?" for names, kinds, fields and outputs."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The most similar candidate, compared case-insensitively, or None."""
    options = {c.lower(): c for c in candidates}
    if word.lower() in options:  # a case slip: ``sqs`` → ``SQS``
        return options[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(options), n=1, cutoff=0.6)
    return options[match[0]] if match else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean `x`?)`` or an empty string, ready to append to a message."""
    best = closest(word, candidates)
    return f" (did you mean `{best}`?)" if best else ""
