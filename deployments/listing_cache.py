"""A second's memory for the pages that list from AWS: the state history and the locks.

Every view of those pages asked S3 or DynamoDB again, so twenty people watching one
stack's history made twenty listings a second, each costing more than the whole page
around it (``make bench-pages``). Here an answer, with what the page derives from it
(the runs the locks and versions name, the versions' metadata), is reused for
``PANKA_LIST_CACHE_SECONDS`` (1 s; 0 turns this off) per process, and the page says when
it was read. What this
process changes (a restore, a manual lock, a force-unlock) forgets the answers it makes
stale at once; a change made elsewhere (a worker, another web process, the panka CLI)
shows within that second. Nothing that decides anything reads from here: plans, applies,
restores and unlocks read S3 and DynamoDB themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

from .aws.locks import tenant_prefix

T = TypeVar("T")


def read(scope: str, page: str, fetch: Callable[[], T]) -> tuple[T, datetime]:
    """``fetch()``'s answer for one page of ``scope``, and when it was read: from the
    cache while it is fresh, else fetched (errors are not kept)."""
    seconds = settings.PANKA_LIST_CACHE_SECONDS
    if seconds <= 0:
        return fetch(), datetime.now(UTC)
    # The page comes from the query string: hashed, so any text makes a valid key
    # for every cache backend (memcached refuses spaces, control characters, length).
    marker = hashlib.blake2b(page.encode(), digest_size=16).hexdigest()
    key = f"panka:list:{scope}:{_generation(scope)}:{marker}"
    kept = cache.get(key)
    if kept is not None:
        return kept
    answer = (fetch(), datetime.now(UTC))
    cache.set(key, answer, seconds)
    return answer


def forget(scope: str) -> None:
    """Make every page of ``scope`` read afresh (in this process's cache)."""
    try:
        cache.incr(_generation_key(scope))
    except ValueError:  # no generation yet: nothing is cached under it either
        cache.set(_generation_key(scope), 1, None)


def _generation(scope: str) -> int:
    return cache.get(_generation_key(scope), 0)


def _generation_key(scope: str) -> str:
    return f"panka:list-generation:{scope}"


def state_scope(bucket: str, tenant: str, stack: str, environment: str) -> str:
    return f"state:{bucket}:{tenant}/{stack}/{environment}"


def lock_scope(table: str, prefix: str) -> str:
    return f"locks:{table}:{prefix}"


def forget_state(bucket: str, tenant: str, stack: str, environment: str) -> None:
    """After this process wrote a state version."""
    forget(state_scope(bucket, tenant, stack, environment))


def forget_locks(table: str, tenant: str) -> None:
    """After this process took or removed a lock of ``tenant``: its page and the platform's."""
    forget(lock_scope(table, tenant_prefix(tenant)))
    forget(lock_scope(table, ""))
