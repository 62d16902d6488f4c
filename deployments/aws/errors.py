"""Exceptions of the AWS layer: callers never need to catch botocore's types."""


class AwsError(Exception):
    """An AWS call failed in a way the caller should report."""


class PreflightError(AwsError):
    """The state bucket or lock table is unusable; the app must not deploy."""


class LockHeld(AwsError):
    """Someone else holds the lock; ``holder`` is their lock as read (None if it vanished)."""

    def __init__(self, key: str, holder: object | None) -> None:
        self.key = key
        self.holder = holder
        who = getattr(holder, "owner", None) or "another holder"
        super().__init__(f"lock {key} is held by {who}")


class LockLost(AwsError):
    """The lock this lease stood for is no longer ours: expired and taken, force-released,
    or already released. The holder must stop before its next AWS call."""

    def __init__(self, key: str, lock_id: str, detail: str = "") -> None:
        self.key = key
        self.lock_id = lock_id
        super().__init__(
            f"lock {key} (lockID {lock_id}) is no longer held" + (f": {detail}" if detail else "")
        )


class StateConflict(AwsError):
    """A state save was refused because the stored state is not the one it was based on
    (stale ETag, wrong serial or another lineage). Nothing was written."""


class StateCorrupt(AwsError):
    """A stored state version cannot be read as a Panka state (bad JSON or shape)."""
