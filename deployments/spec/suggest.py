""" "Did you mean …?" for names, kinds, fields and outputs."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Each suggestion compares a word with every candidate. A hostile upload with tens of
# thousands of unknown names would spend seconds here, so one validation gets a budget
# of suggestions (a context variable: safe across threads and tasks); past it, findings
# are still reported, without the hint.
_budget: ContextVar[list[int] | None] = ContextVar("suggestion_budget", default=None)
SUGGESTIONS_PER_VALIDATION = 200


@contextmanager
def limited(count: int = SUGGESTIONS_PER_VALIDATION) -> Iterator[None]:
    token = _budget.set([count])
    try:
        yield
    finally:
        _budget.reset(token)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The most similar candidate, compared case-insensitively, or None."""
    left = _budget.get()
    if left is not None:
        if left[0] <= 0:
            return None
        left[0] -= 1
    options = {c.lower(): c for c in candidates}
    if word.lower() in options:  # a case slip: ``sqs`` → ``SQS``
        return options[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(options), n=1, cutoff=0.6)
    return options[match[0]] if match else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean `x`?)`` or an empty string, ready to append to a message."""
    best = closest(word, candidates)
    return f" (did you mean `{best}`?)" if best else ""
