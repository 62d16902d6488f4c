"""Keyset ("seek") pagination by primary key, newest first.

``Paginator`` counts every matching row and skips ``OFFSET`` rows to reach a page, so its
cost grows with the table; a log of 100,000 events makes both visible. A keyset page is
one indexed query whatever the table's size or the page's depth: ``?before=<id>`` shows the
rows older than ``id``, ``?after=<id>`` the rows newer than it. There is no page count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet


@dataclass(frozen=True, slots=True)
class KeysetPage:
    items: list[Any]
    # The ``before`` / ``after`` values of the neighbouring pages; None when there is none.
    older: int | None
    newer: int | None

    def __iter__(self):  # noqa: ANN204 - templates loop over the page itself
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_other_pages(self) -> bool:
        return self.older is not None or self.newer is not None


def _id(params: Mapping[str, str], name: str) -> int | None:
    """A positive id from the query string; anything else is ignored (first page), never
    an error: a hand-edited link must not produce a 500."""
    value = params.get(name, "")
    if not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def _key(row: Any) -> int:
    """The id of a model instance or of a ``values()`` row."""
    return row["id"] if isinstance(row, dict) else row.id


def keyset_page(rows: QuerySet[Any], params: Mapping[str, str], *, size: int) -> KeysetPage:
    """One page of ``rows`` ordered by descending ``id``, positioned by ``before``/``after``.
    ``rows`` may yield model instances or ``values()`` dicts that include ``id``.

    One query: a page asks for one row more than it shows, which tells whether a page
    exists beyond it. Walking towards the newest rows (``after``) reads ascending and
    turns the result round.
    """
    before, after = _id(params, "before"), _id(params, "after")
    if after is not None and before is None:
        found = list(rows.filter(id__gt=after).order_by("id")[: size + 1])
        more_newer = len(found) > size
        items = found[:size][::-1]
        return KeysetPage(
            items=items,
            # Rows at or below ``after`` exist: the page that linked here showed them.
            older=_key(items[-1]) if items else after + 1,
            newer=_key(items[0]) if more_newer else None,
        )
    query = rows.order_by("-id")
    if before is not None:
        query = query.filter(id__lt=before)
    found = list(query[: size + 1])
    items = found[:size]
    return KeysetPage(
        items=items,
        older=_key(items[-1]) if len(found) > size else None,
        # A ``before`` link came from a newer page, so one exists.
        newer=(_key(items[0]) if items else before - 1) if before is not None else None,
    )
