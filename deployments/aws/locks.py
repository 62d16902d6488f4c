"""Stack+environment locks in DynamoDB, shared with the panka CLI (format.md §9).

A lock is a lease: the holder must heartbeat before ``expiresAt`` or anyone may take the
lock over. DynamoDB's TTL deletes expired items lazily (days later), so expiry is judged
by comparing ``expiresAt`` with the clock, never by the item being gone.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .clients import AwsSettings, client
from .errors import AwsError, LockHeld, LockLost
from .timefmt import from_unix

log = logging.getLogger(__name__)

DEFAULT_LEASE = 300
DEFAULT_INTERVAL = 30
DEFAULT_SKEW = 30
_CONDITION_FAILED = "ConditionalCheckFailedException"
# Read-back attempts when a conditional put fails but the holder it collided with is gone.
_ACQUIRE_ATTEMPTS = 3

Item = dict[str, dict[str, Any]]


def lock_key(tenant: str, stack: str, environment: str) -> str:
    """``tenant:<tenant>:stack:<stack>:env:<environment>``; parts may not contain ``:``,
    or two different stacks could map to the same key."""
    for name, part in (("tenant", tenant), ("stack", stack), ("environment", environment)):
        if not part or ":" in part:
            raise ValueError(f"{name} {part!r} cannot be part of a lock key")
    return f"tenant:{tenant}:stack:{stack}:env:{environment}"


def tenant_prefix(tenant: str) -> str:
    """The key prefix of every lock of one tenant, for :meth:`LockManager.list_prefix`."""
    if not tenant or ":" in tenant:
        raise ValueError(f"tenant {tenant!r} cannot be part of a lock key")
    return f"tenant:{tenant}:"


def _s(item: Item, name: str) -> str | None:
    value = item.get(name, {})
    return value.get("S") if isinstance(value, dict) else None


def _n(item: Item, name: str) -> float | None:
    value = item.get(name, {})
    raw = value.get("N") if isinstance(value, dict) else None
    try:
        return float(Decimal(raw)) if raw is not None else None
    except (InvalidOperation, ValueError):
        return None


def _time(item: Item, name: str) -> datetime | None:
    seconds = _n(item, name)
    try:
        return from_unix(seconds) if seconds is not None else None
    except (OverflowError, OSError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class LockInfo:
    """A lock item as read at ``observed_at``.

    Items written by the panka CLI carry only ``lockKey, lockID, owner, acquiredAt,
    expiresAt, ttl``; the Panka Web fields are then empty/None.
    """

    key: str
    lock_id: str
    owner: str
    acquired_at: datetime | None
    expires_at: datetime | None
    lease_seconds: int | None
    reason: str
    deployment_id: str | None
    heartbeat_at: datetime | None
    rvn: str | None
    observed_at: datetime
    heartbeat_interval: float = DEFAULT_INTERVAL

    @classmethod
    def from_item(
        cls, item: Item, *, now: float, heartbeat_interval: float = DEFAULT_INTERVAL
    ) -> LockInfo:
        lease = _n(item, "ttl")
        return cls(
            key=_s(item, "lockKey") or "",
            lock_id=_s(item, "lockID") or "",
            owner=_s(item, "owner") or "",
            acquired_at=_time(item, "acquiredAt"),
            expires_at=_time(item, "expiresAt"),
            lease_seconds=int(lease) if lease is not None else None,
            reason=_s(item, "reason") or "",
            deployment_id=_s(item, "deploymentId"),
            heartbeat_at=_time(item, "heartbeatAt"),
            rvn=_s(item, "rvn"),
            observed_at=from_unix(now),
            heartbeat_interval=heartbeat_interval,
        )

    @property
    def holder(self) -> str:
        return self.owner

    @property
    def expired(self) -> bool:
        """``expiresAt`` had passed when read (an item without one cannot be judged)."""
        return self.expires_at is not None and self.observed_at > self.expires_at

    @property
    def stale(self) -> bool:
        """Expired, or its holder missed two heartbeats: probably dead, though only
        expiry lets another worker take over. CLI items (no ``heartbeatAt``) are judged by
        expiry alone."""
        if self.expired:
            return True
        if self.heartbeat_at is None:
            return False
        return self.observed_at - self.heartbeat_at > timedelta(seconds=2 * self.heartbeat_interval)

    @property
    def age(self) -> timedelta | None:
        return self.observed_at - self.acquired_at if self.acquired_at else None


@dataclass(eq=False)
class Lease:
    """A lock we hold. ``expires_at`` and ``rvn`` move with each heartbeat; ``lost`` is
    set once the lock is known not to be ours any more, and stays set."""

    key: str
    lock_id: str
    owner: str
    reason: str
    deployment_id: str | None
    lease_seconds: int
    acquired_at: float
    expires_at: float
    rvn: str
    clock: Callable[[], float] = field(repr=False)
    heartbeat_at: float | None = None
    released: bool = False
    lost: threading.Event = field(default_factory=threading.Event, repr=False)

    def ensure_held(self) -> None:
        """Raise LockLost unless the lock is still ours; call before every AWS call of an
        apply. A lease past its local ``expires_at`` counts as lost even when no heartbeat
        has failed yet (e.g. a heartbeat stuck in retries), since others may take it."""
        if self.released:
            raise LockLost(self.key, self.lock_id, "the lease was released")
        if not self.lost.is_set() and self.clock() >= self.expires_at:
            self.lost.set()
        if self.lost.is_set():
            raise LockLost(self.key, self.lock_id, "a heartbeat failed or the lease ran out")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class LockManager:
    """Acquire, heartbeat, release and inspect locks in the lock table."""

    def __init__(
        self,
        settings: AwsSettings,
        *,
        clock: Callable[[], float] = time.time,
        skew: int = DEFAULT_SKEW,
        heartbeat_interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.skew = skew
        self.heartbeat_interval = heartbeat_interval

    @property
    def _ddb(self) -> Any:
        # Looked up per call: clients are per thread, and the heartbeat runs in its own.
        return client(self.settings, "dynamodb")

    def _info(self, item: Item) -> LockInfo:
        return LockInfo.from_item(
            item, now=self.clock(), heartbeat_interval=self.heartbeat_interval
        )

    def _get_item(self, key: str) -> Item | None:
        response = self._ddb.get_item(
            TableName=self.settings.lock_table,
            Key={"lockKey": {"S": key}},
            ConsistentRead=True,
        )
        return response.get("Item")

    def _holder_after_condition_failure(self, exc: ClientError, key: str) -> Item | None:
        """The item that failed our condition: returned with the error (ALL_OLD), or read."""
        if exc.response.get("Item"):
            return exc.response["Item"]
        try:
            return self._get_item(key)
        except (ClientError, BotoCoreError) as read_error:
            raise AwsError(f"lock {key} is taken; reading its holder failed: {read_error}") from exc

    def acquire(
        self,
        key: str,
        *,
        owner: str,
        reason: str,
        deployment_id: str | None = None,
        lease: int = DEFAULT_LEASE,
    ) -> Lease:
        """Take the lock if it is free or its holder's lease ended more than ``skew``
        seconds ago. Raises LockHeld (with the holder) otherwise.

        When the outcome is ambiguous (timeout, connection lost, 5xx after retries, or
        botocore retrying a put that had landed and then failing its own condition), the
        item is read back consistently: if it carries our ``lockID``, we hold the lock.
        """
        if lease <= 0:
            raise ValueError("lease must be a positive number of seconds")
        now = self.clock()
        # Integer seconds: the CLI parses these attributes with strconv.ParseInt.
        start = int(now)
        held = Lease(
            key=key,
            lock_id=str(uuid.uuid4()),
            owner=owner,
            reason=reason,
            deployment_id=deployment_id,
            lease_seconds=int(lease),
            acquired_at=start,
            expires_at=start + int(lease),
            rvn=str(uuid.uuid4()),
            clock=self.clock,
            heartbeat_at=start,
        )
        item: Item = {
            "lockKey": {"S": key},
            "lockID": {"S": held.lock_id},
            "owner": {"S": owner},
            "acquiredAt": {"N": str(start)},
            "expiresAt": {"N": str(int(held.expires_at))},
            "ttl": {"N": str(int(lease))},
            "reason": {"S": reason},
            "heartbeatAt": {"N": str(start)},
            "rvn": {"S": held.rvn},
        }
        if deployment_id:
            item["deploymentId"] = {"S": deployment_id}

        for _ in range(_ACQUIRE_ATTEMPTS):
            try:
                self._ddb.put_item(
                    TableName=self.settings.lock_table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(lockKey) OR expiresAt < :cutoff",
                    ExpressionAttributeValues={":cutoff": {"N": str(start - self.skew)}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return held
            except ClientError as exc:
                if _code(exc) != _CONDITION_FAILED:
                    return self._read_back(held, exc)
                current = self._holder_after_condition_failure(exc, key)
            except BotoCoreError as exc:
                return self._read_back(held, exc)
            if current is None:
                continue  # the holder released between our put and our read: try again
            if _s(current, "lockID") == held.lock_id:
                # Our first attempt landed, its response was lost, and botocore's retry
                # then collided with our own item.
                log.warning("lock %s: acquired on a retried request", key)
                return held
            raise LockHeld(key, self._info(current))
        raise LockHeld(key, None)

    def _read_back(self, held: Lease, error: Exception) -> Lease:
        try:
            current = self._get_item(held.key)
        except (ClientError, BotoCoreError) as read_error:
            raise AwsError(
                f"acquiring lock {held.key} failed ({error}) and reading it back failed "
                f"too ({read_error}); if the put landed, the lock expires by itself at "
                f"{from_unix(held.expires_at).isoformat()}"
            ) from error
        if current is not None and _s(current, "lockID") == held.lock_id:
            log.warning("lock %s: acquired although the put reported %s", held.key, error)
            return held
        if current is not None:
            raise LockHeld(held.key, self._info(current)) from error
        raise AwsError(f"acquiring lock {held.key} failed: {error}") from error

    def heartbeat(self, lease: Lease) -> None:
        """Extend the lease by its length from now and rotate ``rvn``, if the item still
        carries our ``lockID``. Raises LockLost (and sets ``lease.lost``) if it does not,
        AwsError on a transient failure (the lease is then unchanged)."""
        if lease.released or lease.lost.is_set():
            raise LockLost(lease.key, lease.lock_id, "the lease was already lost or released")
        now = int(self.clock())
        expires = now + lease.lease_seconds
        rvn = str(uuid.uuid4())
        try:
            self._ddb.update_item(
                TableName=self.settings.lock_table,
                Key={"lockKey": {"S": lease.key}},
                UpdateExpression="SET expiresAt = :expires, heartbeatAt = :now, rvn = :rvn",
                ConditionExpression="lockID = :id",
                ExpressionAttributeValues={
                    ":expires": {"N": str(expires)},
                    ":now": {"N": str(now)},
                    ":rvn": {"S": rvn},
                    ":id": {"S": lease.lock_id},
                },
            )
        except ClientError as exc:
            if _code(exc) == _CONDITION_FAILED:
                lease.lost.set()
                raise LockLost(
                    lease.key, lease.lock_id, "the item has another lockID or is gone"
                ) from None
            raise AwsError(f"heartbeat of lock {lease.key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise AwsError(f"heartbeat of lock {lease.key} failed: {exc}") from exc
        lease.expires_at, lease.rvn, lease.heartbeat_at = expires, rvn, now

    def release(self, lease: Lease) -> None:
        """Delete the lock if it still carries our ``lockID``; LockLost if it is gone or
        changed. Tried even for a lease already marked lost, so an expired but untaken
        lock is not left behind. If botocore retries a delete whose response was lost,
        the retry reports LockLost although our delete worked: either way nothing of
        ours is left."""
        try:
            self._ddb.delete_item(
                TableName=self.settings.lock_table,
                Key={"lockKey": {"S": lease.key}},
                ConditionExpression="lockID = :id",
                ExpressionAttributeValues={":id": {"S": lease.lock_id}},
            )
        except ClientError as exc:
            if _code(exc) == _CONDITION_FAILED:
                raise LockLost(
                    lease.key, lease.lock_id, "the item has another lockID or is gone"
                ) from None
            raise AwsError(f"releasing lock {lease.key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise AwsError(f"releasing lock {lease.key} failed: {exc}") from exc
        finally:
            # Whatever happened, this lease must not be used for further work.
            lease.released = True
            lease.lost.set()

    def force_release(self, key: str, lock_id: str) -> bool:
        """Admin unlock of the lock the admin saw (``lock_id``). True if deleted, False if
        there was no lock any more; LockHeld if a newer holder has it now, which is never
        removed."""
        try:
            self._ddb.delete_item(
                TableName=self.settings.lock_table,
                Key={"lockKey": {"S": key}},
                ConditionExpression="lockID = :id",
                ExpressionAttributeValues={":id": {"S": lock_id}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _code(exc) != _CONDITION_FAILED:
                raise AwsError(f"force-releasing lock {key} failed: {exc}") from exc
            current = self._holder_after_condition_failure(exc, key)
            if current is None:
                return False
            raise LockHeld(key, self._info(current)) from None
        except BotoCoreError as exc:
            raise AwsError(f"force-releasing lock {key} failed: {exc}") from exc
        return True

    def get(self, key: str) -> LockInfo | None:
        """The lock item (consistent read), or None when there is none."""
        try:
            item = self._get_item(key)
        except (ClientError, BotoCoreError) as exc:
            raise AwsError(f"reading lock {key} failed: {exc}") from exc
        return self._info(item) if item is not None else None

    def list_prefix(
        self, prefix: str, *, page_size: int = 50, start_key: str | None = None
    ) -> tuple[list[LockInfo], str | None]:
        """One page of locks whose key starts with ``prefix`` (e.g. ``tenant:acme:``),
        in scan order, and the ``start_key`` of the next page or None.

        The next key is always the key of the last lock on this page, never DynamoDB's
        LastEvaluatedKey, which may name another tenant's lock.
        """
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")
        if start_key is not None and not start_key.startswith(prefix):
            raise ValueError("start_key does not belong to this prefix")
        # Limit: unbounded, a scan reads (and the client parses) up to 1 MB per call, every
        # lock of every tenant, to show one page. Limit counts the locks read, not those
        # that match the prefix, so it doubles with each further call: a tenant whose
        # locks are few among many is still found in a handful of calls.
        kwargs: dict[str, Any] = {"TableName": self.settings.lock_table, "Limit": page_size + 1}
        if prefix:
            kwargs["FilterExpression"] = "begins_with(lockKey, :prefix)"
            kwargs["ExpressionAttributeValues"] = {":prefix": {"S": prefix}}
        if start_key:
            kwargs["ExclusiveStartKey"] = {"lockKey": {"S": start_key}}
        found: list[Item] = []
        try:
            # One lock more than a page tells whether a next page exists.
            while len(found) <= page_size:
                response = self._ddb.scan(**kwargs)
                found.extend(response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    break
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
                kwargs["Limit"] = min(kwargs["Limit"] * 2, 1000)
        except (ClientError, BotoCoreError) as exc:
            raise AwsError(f"listing locks under {prefix!r} failed: {exc}") from exc
        page = [self._info(item) for item in found[:page_size]]
        next_key = page[-1].key if len(found) > page_size else None
        return page, next_key


class Heartbeat:
    """Keeps a lease alive from a background thread until stopped or lost.

    A LockLost sets ``lease.lost`` and ends the thread. A transient failure is retried at
    the next beat while more than one interval of lease is left, then counts as lost: a
    holder that cannot reach DynamoDB must stop before its lease could be taken over.
    """

    def __init__(self, manager: LockManager, lease: Lease, *, interval: float | None = None):
        self.manager = manager
        self.lease = lease
        self.interval = interval if interval is not None else manager.heartbeat_interval
        if not 0 < self.interval < lease.lease_seconds / 2:
            # One missed beat must still leave time for the next before the lease ends.
            raise ValueError(
                f"interval {self.interval}s is too long for a {lease.lease_seconds}s lease"
            )
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat {lease.key}", daemon=True
        )

    @property
    def lost(self) -> threading.Event:
        return self.lease.lost

    def beat(self) -> bool:
        """One heartbeat; False once the lease is lost."""
        try:
            self.manager.heartbeat(self.lease)
            return True
        except LockLost as exc:
            self.error = exc
        except AwsError as exc:
            self.error = exc
            if self.manager.clock() + self.interval < self.lease.expires_at:
                log.warning("lock %s: heartbeat failed, will retry: %s", self.lease.key, exc)
                return True
        except Exception as exc:  # a bug must not silently leave the apply running unfenced
            self.error = exc
            log.exception("lock %s: heartbeat crashed", self.lease.key)
        self.lease.lost.set()
        return False

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.beat():
                return

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self.join()
