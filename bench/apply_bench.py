"""Benchmark of applying a stack (``make bench-apply``).

A generated 60-component stack (3 services x 4 levels x 5: SQS queues on levels 0 and 2,
SNS topics subscribed to the queue below them on levels 1 and 3, so 15 components per
level) is applied with :class:`deployments.aws.executor.Applier` on a private embedded
emulator, with no Django and no lock (a no-op lease). Every *mutating* AWS call (not
Get/Describe/List/Head) is made 200 ms slower by a botocore ``before-call`` hook on every
client the AWS layer builds: the emulator answers in milliseconds, and real AWS does not.

Printed, in one run:

- wall time of the apply with parallelism 8 and with parallelism 1, and their ratio
  (goal: parallel <= 0.35x sequential). The delay applies to the state bucket's PutObject
  after each component too; those saves run one at a time under the executor's state lock
  (architecture.md: the state is written after each component), so the table also shows
  the time spent inside them, and the time spent building boto3 clients (one per thread
  and service: every apply starts a new thread pool). ``--services-only`` adds a second
  pair with the delay on SQS and SNS calls only;
- a re-apply of the unchanged stack: load the state, validate, plan (all no-op) and run
  the executor, which must make no AWS call (goal: under 5 s in all).

Each apply uses a stack of its own name, so nothing has to be destroyed in between.
Timings are wall-clock and move with the load of the machine. Not a test: it prints; it
checks only that every apply succeeded.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import STACK  # noqa: E402
from deployments import spec  # noqa: E402
from deployments.aws import bootstrap  # noqa: E402
from deployments.aws.clients import AwsSettings  # noqa: E402
from deployments.aws.emulator import EmbeddedEmulator  # noqa: E402
from deployments.aws.executor import Applier  # noqa: E402
from deployments.aws.state import LoadedState, SavedState, StateStore, StoredState  # noqa: E402

TENANT = "bench"
ENVIRONMENT = "development"
LATENCY_SECONDS = 0.2
SERVICES = ("orders", "billing", "audit")
LEVELS = 4
COLUMNS = 5  # components per level and service
READ_PREFIXES = ("Get", "Describe", "List", "Head")
GOAL_RATIO = 0.35
GOAL_NOOP_SECONDS = 5.0


QUEUE = """\
apiVersion: components.panka.io/v1
kind: SQS
metadata:
  name: {name}
spec:
  visibilityTimeout: 60
{depends}"""

TOPIC = """\
apiVersion: components.panka.io/v1
kind: SNS
metadata:
  name: {name}
spec:
  displayName: Topic {name}
  subscriptions:
    - protocol: sqs
      component: {below}
"""


def stack_files(name: str, columns: int = COLUMNS) -> dict[str, str]:
    """``3 x 4 x columns`` components in 4 levels: a chain of 4 per (service, column),
    alternating SQS and SNS; a topic's subscription and a queue's ``dependsOn`` name the
    component below it."""
    files = {"stack.yaml": STACK.format(name=name)}
    for service in SERVICES:
        docs = []
        for level in range(LEVELS):
            for column in range(columns):
                component = f"{service}-l{level}-{column}"
                below = f"{service}-l{level - 1}-{column}"
                if level % 2:
                    docs.append(TOPIC.format(name=component, below=below))
                else:
                    depends = f"  dependsOn: [{below}]\n" if level else ""
                    docs.append(QUEUE.format(name=component, depends=depends))
        files[f"services/{service}/components.yaml"] = "---\n".join(docs)
    return files


class Meter:
    """Counts AWS calls and adds the latency: a botocore ``before-call`` handler on every
    client built, which sleeps before mutating calls of the chosen services while on.
    Also adds up the time spent building clients."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.services: frozenset[str] | None = None  # None: every service
        self.calls = 0
        self.mutating = 0
        self.clients = 0
        self.client_seconds = 0.0
        self._lock = threading.Lock()

    def __call__(self, model: Any, **_: Any) -> None:
        mutating = not model.name.startswith(READ_PREFIXES)
        with self._lock:
            self.calls += 1
            self.mutating += mutating
        service = model.service_model.service_name
        if mutating and self.seconds and (self.services is None or service in self.services):
            time.sleep(self.seconds)

    def built(self, seconds: float) -> None:
        with self._lock:
            self.clients += 1
            self.client_seconds += seconds

    def delay(self, seconds: float, services: frozenset[str] | None = None) -> None:
        self.seconds, self.services = seconds, services


METER = Meter()


def install_hook() -> None:
    """Hook every client ``deployments.aws.clients.client`` builds from now on. It makes a
    ``boto3.session.Session()`` per thread and service, so a session class that registers
    the handler on the clients it makes reaches all of them, in every thread."""

    class MeteredSession(boto3.session.Session):
        def client(self, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            made = super().client(*args, **kwargs)
            made.meta.events.register("before-call", METER)
            METER.built(time.perf_counter() - started)
            return made

    boto3.session.Session = MeteredSession  # type: ignore[misc]


class TimedStore(StateStore):
    """The real state store, adding up the time spent in ``save``."""

    def __init__(self, settings: AwsSettings) -> None:
        super().__init__(settings)
        self.save_seconds = 0.0
        self.saves = 0

    def save(
        self, previous: StoredState | None, new_state: dict[str, Any], **kwargs: Any
    ) -> SavedState:
        started = time.perf_counter()
        try:
            return super().save(previous, new_state, **kwargs)
        finally:
            self.save_seconds += time.perf_counter() - started
            self.saves += 1


@dataclass
class Measured:
    seconds: float
    mutating_calls: int
    saves: int
    save_seconds: float
    clients: int
    client_seconds: float


def applier(aws: AwsSettings, store: StateStore, stack: str, parallelism: int) -> Applier:
    return Applier(
        aws=aws,
        store=store,
        tenant=TENANT,
        stack=stack,
        environment=ENVIRONMENT,
        deployment_id=f"bench-{stack}",
        deployed_by="bench",
        revision="1",
        parallelism=parallelism,
    )


def plan_for(stack: str, loaded: LoadedState | None, columns: int = COLUMNS) -> spec.Plan:
    result = spec.validate(stack_files(stack, columns))
    if not result.ok:
        raise SystemExit(f"the generated stack is invalid: {result.errors[0].message}")
    return spec.plan(result, loaded.state if loaded else None, environment=ENVIRONMENT)


def apply_new(aws: AwsSettings, stack: str, parallelism: int, columns: int = COLUMNS) -> Measured:
    """Apply the whole stack into an empty state (planning is not timed)."""
    the_plan = plan_for(stack, None, columns)
    store = TimedStore(aws)
    calls, clients, client_seconds = METER.mutating, METER.clients, METER.client_seconds
    started = time.perf_counter()
    result = applier(aws, store, stack, parallelism).apply(the_plan.actions, None)
    seconds = time.perf_counter() - started
    expected = len(the_plan.actions)
    if result.status != "succeeded" or result.applied != expected:
        raise SystemExit(
            f"{stack}: apply {result.status} after {result.applied}/{expected} components: "
            f"{result.failed_component} {result.error}"
        )
    return Measured(
        seconds=seconds,
        mutating_calls=METER.mutating - calls,
        saves=store.saves,
        save_seconds=store.save_seconds,
        clients=METER.clients - clients,
        client_seconds=METER.client_seconds - client_seconds,
    )


def reapply_unchanged(aws: AwsSettings, stack: str) -> tuple[float, int, int]:
    """(wall time of load + validate + plan + apply, AWS calls the executor made, actions
    that are not no-op) for a stack whose state already matches its files."""
    store = StateStore(aws)
    started = time.perf_counter()
    loaded = store.load(TENANT, stack, ENVIRONMENT)
    the_plan = plan_for(stack, loaded)
    calls = METER.calls
    result = applier(aws, store, stack, 8).apply(the_plan.actions, loaded)
    executor_calls = METER.calls - calls
    seconds = time.perf_counter() - started
    if result.status != "succeeded":
        raise SystemExit(f"{stack}: re-apply {result.status}: {result.error}")
    changed = sum(1 for a in the_plan.actions if a.action != "no-op")
    return seconds, executor_calls, changed


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--services-only",
        action="store_true",
        help="also measure with the delay on SQS and SNS calls only (about 45 s more)",
    )
    args = parser.parse_args()

    install_hook()
    emulator = EmbeddedEmulator(port=0).start()
    pairs: list[tuple[str, Measured, Measured]] = []
    try:
        aws = AwsSettings(
            region="us-east-1",
            state_bucket="panka-bench-state",
            lock_table="panka-bench-locks",
            endpoint_url=emulator.url,
        )
        bootstrap.ensure_state_bucket(aws)
        bootstrap.ensure_lock_table(aws)
        apply_new(aws, "warmup", 8, columns=1)  # imports and schemas: not measured

        variants: list[tuple[str, frozenset[str] | None, str]] = [
            ("every mutating call", None, "all")
        ]
        if args.services_only:
            variants.append(("SQS and SNS calls only", frozenset({"sqs", "sns"}), "svc"))
        for label, services, prefix in variants:
            METER.delay(LATENCY_SECONDS, services)
            parallel = apply_new(aws, f"{prefix}-p8", 8)
            sequential = apply_new(aws, f"{prefix}-p1", 1)
            pairs.append((label, parallel, sequential))

        METER.delay(LATENCY_SECONDS)
        noop_seconds, executor_calls, changed = reapply_unchanged(aws, "all-p8")
    finally:
        emulator.stop()

    components = len(SERVICES) * LEVELS * COLUMNS
    print(
        f"Apply of {components} components in {LEVELS} levels (SQS + SNS) on the embedded "
        f"emulator, +{LATENCY_SECONDS * 1000:.0f} ms per mutating AWS call"
    )
    for label, parallel, sequential in pairs:
        print()
        print(f"delay on {label}")
        print(f"  {'':<16}{'wall':>9}{'mutating':>10}{'state saves':>20}{'boto3 clients':>22}")
        for name, m in (("parallelism 8", parallel), ("parallelism 1", sequential)):
            print(
                f"  {name:<16}{m.seconds:>8.2f}s{m.mutating_calls:>10}"
                f"{m.saves:>8} in {m.save_seconds:>6.2f}s"
                f"{m.clients:>9} in {m.client_seconds:>6.2f}s"
            )
        ratio = parallel.seconds / sequential.seconds
        print(f"  ratio {ratio:.2f}x   goal <= {GOAL_RATIO}x: {verdict(ratio <= GOAL_RATIO)}")
    print()
    ok = noop_seconds < GOAL_NOOP_SECONDS and executor_calls == 0 and changed == 0
    print(
        f"re-apply unchanged (load + validate + plan + apply): {noop_seconds:.2f}s, "
        f"{changed} actions, {executor_calls} AWS calls by the executor   "
        f"goal < {GOAL_NOOP_SECONDS:.0f} s, 0 calls: {verdict(ok)}"
    )
    print()
    print(
        "state saves: time inside StateStore.save (group commits: one write for all components finished since the last);\n"
        "boto3 clients: time building clients during the apply (one per service per process)."
    )


if __name__ == "__main__":
    main()
