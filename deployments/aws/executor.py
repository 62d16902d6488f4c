"""Carrying out a plan on AWS: level by level, components of a level in parallel.

architecture.md, "A deployment, step by step" (4–5):

- creates, updates and replaces run by level; the components of one level have no edge
  between them, so they run on a bounded thread pool;
- deletes run afterwards, in the plan's (reverse level) order, one level at a time;
- the state is saved as soon as a component finishes, so a crash never loses the record
  of a resource that AWS created. Saves are *group commits*: workers record their results
  in memory and the coordinating thread writes the state, once for every component that
  finished since its last write. A slow state write then never holds up the components
  still running (the fencing of format.md §8 makes the writes sequential anyway);
- cancel takes effect between levels; the first failure stops new work, lets the
  components in flight finish, saves what they did and fails the run naming the
  component and the AWS error;
- a failed state write counts as such a failure, but AWS already holds what it records:
  the state it meant to write is returned (``ApplyResult.unsaved_state``) for the caller
  to keep, never dropped; later writes of the same apply retry it (they write everything
  recorded so far);
- every AWS call checks the lock lease first (``Context.call``), so a holder that lost
  its lease stops before its next call.

No Django here: the caller passes callbacks for logging and cancellation.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from .clients import AwsSettings
from .errors import AwsError
from .provisioners import Context, Outcome, provisioner_for
from .state import LoadedState, SavedState, StateStore, StoredState, empty_state, successor
from .timefmt import now_rfc3339

Log = Callable[[str, str], None]  # (component or "", message)


@dataclass(frozen=True, slots=True)
class StepAction:
    """The part of a plan action the executor needs (``spec.plan.Action`` fits)."""

    component: str
    kind: str
    service: str
    action: str
    level: int
    depends_on: tuple[str, ...]
    config: dict[str, Any] | None
    config_hash: str | None
    reconcile: bool = False  # drifted: compare with AWS, not with the recorded config


@dataclass(frozen=True, slots=True)
class ApplyResult:
    status: str  # "succeeded", "failed" or "cancelled"
    saved: StoredState | None  # the last state version written (or loaded, if none)
    failed_component: str = ""
    error: str = ""
    mutating_calls: int = 0
    applied: int = 0
    # Set when the last state write failed: the full state that S3 should hold (serial =
    # ``saved.serial + 1``), and why it could not be written. ``saved`` is its base.
    unsaved_state: dict[str, Any] | None = None
    save_error: str = ""


class Applier:
    def __init__(
        self,
        *,
        aws: AwsSettings,
        store: StateStore,
        tenant: str,
        stack: str,
        environment: str,
        deployment_id: str,
        deployed_by: str,
        revision: str,
        labels: Mapping[str, Mapping[str, str]] | None = None,
        ensure_lease: Callable[[], None] = lambda: None,
        log: Log = lambda component, message: None,
        should_cancel: Callable[[], bool] = lambda: False,
        parallelism: int = 4,
        context_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.aws = aws
        self.store = store
        self.tenant, self.stack, self.environment = tenant, stack, environment
        self.deployment_id, self.deployed_by, self.revision = deployment_id, deployed_by, revision
        self.labels = labels or {}
        self.ensure_lease = ensure_lease
        self.log = log
        self.should_cancel = should_cancel
        self.parallelism = max(1, parallelism)
        self.context_options = dict(context_options or {})
        self._state_lock = threading.Lock()
        self._dirty = False
        self._save_error = ""  # why the last state write failed; "" once one succeeds
        self._mutating = 0

    # --- public ------------------------------------------------------------------------

    def apply(self, actions: Iterable[StepAction], loaded: LoadedState | None) -> ApplyResult:
        work = [a for a in actions if a.action != "no-op"]
        self._previous: StoredState | None = loaded
        self._state = (
            successor(loaded.state)
            if loaded
            else successor(empty_state(self.tenant, self.stack, self.environment))
        )
        forward = [a for a in work if a.action != "delete"]
        deletes = [a for a in work if a.action == "delete"]
        batches = [list(group) for _, group in groupby(forward, key=lambda a: a.level)]
        batches += [list(group) for _, group in groupby(deletes, key=lambda a: -a.level)]
        applied = 0
        failure: tuple[str, str] | None = None
        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="apply") as pool:
            for batch in batches:
                if self.should_cancel():
                    self.log("", "cancelled: no further components are started")
                    return self._result("cancelled", applied=applied)
                failure, done = self._run_batch(pool, batch)
                applied += done
                if failure:
                    break
        if failure:
            component, error = failure
            return self._result("failed", failed_component=component, error=error, applied=applied)
        return self._result("succeeded", applied=applied)

    # --- one level -----------------------------------------------------------------------

    def _run_batch(
        self, pool: ThreadPoolExecutor, batch: list[StepAction]
    ) -> tuple[tuple[str, str] | None, int]:
        snapshot = self._resources_snapshot()
        futures: dict[Future[int], StepAction] = {
            pool.submit(self._run_action, action, snapshot): action for action in batch
        }
        failure: tuple[str, str] | None = None
        done_count = 0
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                action = futures[future]
                try:
                    self._mutating += future.result()
                    done_count += 1
                except AwsError as exc:
                    self.log(action.component, f"failed: {exc}")
                    self._mark_failed(action)
                    failure = failure or (action.component, str(exc))
                except Exception as exc:  # a bug must still fail the run cleanly
                    self.log(action.component, f"failed: {type(exc).__name__}: {exc}")
                    self._mark_failed(action)
                    failure = failure or (action.component, f"{type(exc).__name__}: {exc}")
            if not self._flush():
                # Stop starting components: each would add resources S3 does not record.
                failure = failure or ("", f"saving the state failed: {self._save_error}")
        return failure, done_count

    def _run_action(self, action: StepAction, resources: Mapping[str, Mapping[str, Any]]) -> int:
        ctx = Context(
            aws=self.aws,
            tenant=self.tenant,
            stack=self.stack,
            environment=self.environment,
            service=action.service,
            component=action.component,
            kind=action.kind,
            labels=self.labels.get(action.component, {}),
            resources=resources,
            log=lambda message: self.log(action.component, message),
            ensure_lease=self.ensure_lease,
            **self.context_options,
        )
        provisioner = provisioner_for(action.kind)
        previous = resources.get(action.component)
        spec = _kind_config(action.config)
        if action.action == "delete":
            self.log(action.component, f"deleting {action.kind}")
            provisioner.delete(ctx, _for_provisioner(previous or {}))
            self._record_delete(action.component)
            self.log(action.component, "deleted")
            return ctx.mutating_calls
        if action.action == "replace" and previous:
            self.log(action.component, f"replacing {action.kind}: deleting the old one first")
            provisioner.delete(ctx, _for_provisioner(previous))
            self._record_delete(action.component)
            previous = None
        if previous is None or action.action in ("create", "replace"):
            self.log(action.component, f"creating {action.kind}")
            outcome = provisioner.create(ctx, spec)
        else:
            self.log(action.component, f"updating {action.kind}")
            recorded = _for_provisioner(previous)
            if action.reconcile:
                recorded["config"] = {}  # unknown: provisioners then compare with AWS itself
            outcome = provisioner.update(ctx, spec, recorded)
        self._record(action, outcome, created=previous is None)
        self.log(action.component, f"{action.action} done ({outcome.id})")
        return ctx.mutating_calls

    # --- state ---------------------------------------------------------------------------

    def _resources_snapshot(self) -> dict[str, Mapping[str, Any]]:
        with self._state_lock:
            return {k: dict(v) for k, v in self._state.get("resources", {}).items()}

    def _record(self, action: StepAction, outcome: Outcome, *, created: bool) -> None:
        now = now_rfc3339(time.time())
        with self._state_lock:
            resources = self._state.setdefault("resources", {})
            old = resources.get(action.component, {})
            resources[action.component] = {
                "id": outcome.id,
                "type": action.kind,
                "name": action.component,
                "provider": "aws",
                "status": "ready",
                "attributes": outcome.attributes,
                "depends_on": list(action.depends_on),
                "created_at": old.get("created_at")
                if not created and old.get("created_at")
                else now,
                "updated_at": now,
                "service": action.service,
                "config_hash": action.config_hash,
                "config": action.config,
            }
            self._set_outputs(action.component, outcome.attributes)
            self._dirty = True

    def _record_delete(self, component: str) -> None:
        with self._state_lock:
            self._state.setdefault("resources", {}).pop(component, None)
            self._set_outputs(component, {})
            self._dirty = True

    def _mark_failed(self, action: StepAction) -> None:
        with self._state_lock:
            entry = self._state.get("resources", {}).get(action.component)
            if entry is None:
                return
            entry["status"] = "failed"
            entry["updated_at"] = now_rfc3339(time.time())
            self._dirty = True

    def _set_outputs(self, component: str, attributes: Mapping[str, Any]) -> None:
        outputs = self._state.setdefault("outputs", {})
        for key in [k for k in outputs if k.startswith(component + ".")]:
            del outputs[key]
        for name, value in attributes.items():
            outputs[f"{component}.{name}"] = value

    def _flush(self) -> bool:
        """Write the state as the next version if anything changed (coordinating thread);
        False if that write failed (the reason is in ``_save_error``).

        The S3 write happens outside the state lock, so workers keep recording meanwhile;
        what they record goes into the next write. A failed write leaves the state dirty,
        so the next flush writes it again with whatever was recorded since.
        """
        with self._state_lock:
            if not self._dirty:
                return True
            snapshot = copy.deepcopy(self._state)
            self._dirty = False
        try:
            # A lost lease is a failed write too: fencing would refuse it anyway.
            self.ensure_lease()
            saved: SavedState = self.store.save(
                self._previous,
                snapshot,
                deployment_id=self.deployment_id,
                deployed_by=self.deployed_by,
                revision=self.revision,
            )
        except AwsError as exc:
            self.log(
                "", f"saving the state (serial {snapshot['metadata']['serial']}) failed: {exc}"
            )
            with self._state_lock:
                self._dirty = True
            self._save_error = str(exc)
            return False
        self._save_error = ""
        self._previous = saved
        with self._state_lock:
            # Keep what the save set (lineage, times) and move on to the next serial.
            self._state["metadata"] = {**saved.state["metadata"], "serial": saved.serial + 1}
            self._state["last_update"] = saved.state.get("last_update", "")
        return True

    def _result(self, status: str, **kwargs: Any) -> ApplyResult:
        if not self._flush():
            with self._state_lock:
                unsaved = copy.deepcopy(self._state)
            if status == "succeeded":
                status = "failed"
                kwargs["error"] = f"saving the state failed: {self._save_error}"
            return ApplyResult(
                status=status,
                saved=self._previous,
                mutating_calls=self._mutating,
                unsaved_state=unsaved,
                save_error=self._save_error,
                **kwargs,
            )
        return ApplyResult(
            status=status, saved=self._previous, mutating_calls=self._mutating, **kwargs
        )


def _kind_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The kind's own config inside the plan's resource config (``spec.plan.resource_config``)."""
    if not config:
        return {}
    spec = config.get("spec")
    return dict(spec) if isinstance(spec, Mapping) else dict(config)


def _for_provisioner(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A state entry as provisioners see it: ``config`` is the kind's own config."""
    return {**entry, "config": _kind_config(entry.get("config"))}
