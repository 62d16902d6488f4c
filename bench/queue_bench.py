"""Benchmark of the run queue (``make bench-queue``).

20 stacks, each with one SQS queue already deployed (a first round of 20 applies, not
measured), then 200 deploys of the unchanged stacks (10 per stack) queued at once, as
the web app queues them (``runs.queue_run``: a row, an audit event, a task after
commit). Two real worker processes (``manage.py worker``, one django-q2 process each)
take them from the broker (the ORM broker on a SQLite file; Redis when REDIS_URL is set,
on a queue name of this run's own) and run each as a worker does: claim, take the
stack+environment lock in DynamoDB, read the state, refresh it against AWS (the
emulator), validate and plan, and end with "nothing to apply". Runs of one stack go one
at a time in queue order; different stacks run in parallel.

Printed: wall time from the first queued to the last finished run, deployments per
minute, and the lock acquire time: each worker logs how long its acquire call took
(``lock … acquired in N ms``), and the wait from queuing to holding the lock.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402
from bench.harness import STACK  # noqa: E402

QUEUE = """\
apiVersion: components.panka.io/v1
kind: SQS
metadata:
  name: jobs
spec:
  visibilityTimeout: 60
"""
ACQUIRED = re.compile(r"^lock \S+ acquired in ([0-9.]+) ms")


def wait_finished(runs, timeout: float, what: str, *, until=None) -> float:
    """Seconds until every run in ``runs`` (ids) is finished (or has a status in
    ``until``); exits on a timeout."""
    from deployments.models import Deployment

    started = time.monotonic()
    done = list(until or Deployment.TERMINAL)
    while time.monotonic() - started < timeout:
        left = Deployment.objects.filter(pk__in=runs).exclude(status__in=done).count()
        if not left:
            return time.monotonic() - started
        time.sleep(0.2)
    raise SystemExit(f"{what}: {left} run(s) not finished after {timeout:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stacks", type=int, default=20)
    parser.add_argument("--per-stack", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=240.0)
    args = parser.parse_args()

    env = harness.bench_env("queue", keep_broker=True)
    env.update(PANKA_WORKERS="1", PANKA_Q_NAME=f"panka-bench-{uuid.uuid4().hex[:8]}",
               SECRET_KEY=f"bench-{uuid.uuid4().hex}", PYTHONUNBUFFERED="1")  # fmt: skip
    with harness.Processes(env) as procs:
        harness.start_emulator(procs)
        harness.setup_django(procs.env)
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection

        from deployments import runs
        from deployments.aws import bootstrap
        from deployments.models import Deployment, RunLog
        from deployments.runtime import aws_settings
        from deployments.services import create_stack, save_revision
        from tenants.models import Membership, Role, Tenant

        broker = "Redis" if env.get("REDIS_URL") else f"ORM ({connection.vendor})"
        call_command("migrate", verbosity=0)
        bootstrap.ensure_state_bucket(aws_settings())
        bootstrap.ensure_lock_table(aws_settings())
        tenant = Tenant.objects.create(slug="bench", display_name="Bench")
        user = get_user_model().objects.create(username="bench")
        Membership.objects.create(tenant=tenant, user=user, role=Role.DEPLOYER)
        stacks = []
        for i in range(args.stacks):
            name = f"stack-{i:02d}"
            stack = create_stack(tenant=tenant, name=name, actor=user)
            revision, _ = save_revision(
                stack=stack,
                files={"stack.yaml": STACK.format(name=name), "services/work/jobs.yaml": QUEUE},
                actor=user,
            )
            stacks.append((stack, revision))

        def queue_round(per_stack: int) -> list[int]:
            ids = []
            for _ in range(per_stack):
                for stack, revision in stacks:
                    run = runs.queue_run(
                        stack=stack, revision=revision, environment="development",
                        kind=Deployment.Kind.APPLY, actor=user,
                    )  # fmt: skip
                    ids.append(run.pk)
            return ids

        for n in range(args.workers):
            procs.spawn(f"worker-{n}", harness.PYTHON, "manage.py", "worker")
        print(f"broker: {broker}; {args.workers} worker processes; {args.stacks} stacks")

        with harness.timed(f"first deploy of {args.stacks} stacks (creates the queues)"):
            first = queue_round(1)
            # A deploy with changes stops at its plan until someone confirms it.
            wait_finished(
                first, args.timeout, "the first plans", until=["planned", *Deployment.TERMINAL]
            )
            for run in Deployment.objects.filter(pk__in=first, status="planned"):
                runs.confirm_apply(run=run, actor=user, request=None)
            wait_finished(first, args.timeout, "the first round")
        failed = Deployment.objects.filter(pk__in=first).exclude(status="succeeded")
        if failed.exists():
            run = failed.first()
            raise SystemExit(f"run {run} did not succeed: {run.error}\n{procs.tail('worker-0')}")

        total = args.stacks * args.per_stack
        started = time.monotonic()
        ids = queue_round(args.per_stack)
        queued_in = time.monotonic() - started
        wait_finished(ids, args.timeout, "the measured round")
        wall = time.monotonic() - started

        done = Deployment.objects.filter(pk__in=ids)
        outcomes = {s: done.filter(status=s).count() for s in Deployment.TERMINAL}
        no_change = RunLog.objects.filter(deployment__in=ids, message="nothing to apply").count()
        errors = Counter(done.exclude(status="succeeded").values_list("error", flat=True))
        for error, n in errors.most_common(5):
            print(f"  {n} run(s) did not succeed: {error[:300]}")
        acquire_ms, wait_s = [], []
        created = dict(done.values_list("pk", "created_at"))
        for log in RunLog.objects.filter(deployment__in=ids, message__startswith="lock ").order_by(
            "id"
        ):
            found = ACQUIRED.match(log.message)
            if found:
                acquire_ms.append(float(found.group(1)))
                wait_s.append((log.at - created[log.deployment_id]).total_seconds())
        if len(acquire_ms) != total:
            print(f"note: {len(acquire_ms)} lock acquisitions logged for {total} runs")

        def p(values: list[float], q: float) -> float:
            return harness.percentile(values, q) if values else float("nan")

        print(
            f"\n{total} no-change deploys over {args.stacks} stacks "
            f"(queued in {queued_in:.1f}s): {outcomes}, 'nothing to apply' x{no_change}"
        )
        print(f"wall time, first queued to last finished: {wall:.1f}s")
        print(f"throughput: {total / wall * 60:.0f} deployments per minute")
        print(
            f"lock acquire call: p50 {statistics.median(acquire_ms):.1f} ms  "
            f"p95 {p(acquire_ms, 0.95):.1f} ms  (n={len(acquire_ms)})"
        )
        print(
            f"queued → lock held: p50 {statistics.median(wait_s):.1f} s  "
            f"p95 {p(wait_s, 0.95):.1f} s  (each stack's runs go one at a time)"
        )
        if errors:
            raise SystemExit(f"{sum(errors.values())} of {total} runs did not succeed")


if __name__ == "__main__":
    main()
