"""Benchmark of the list pages with large data (``make bench-pages``).

Seeds a throwaway database (a SQLite file; the PostgreSQL of DATABASE_URL when set,
which must be a database you can throw away) with one tenant holding 1,000 stacks, a
stack with 10,000 runs and 1,000 revisions, 100,000 audit events (a valid hash chain,
see bench/seed.py), 200 members and 100 locks, and 2,000 state versions written through
StateStore into the embedded emulator. Then starts gunicorn (2 sync workers, as
panka_web/gunicorn.conf.py runs by default; explicit flags) on a free port of 127.0.0.1
and, for each list page in turn, 20 clients (threads, each signed in through the login
form) request the page back to back for a fixed time. ``--compare-threads N`` starts a
second gunicorn of as many gthread workers x N threads on the same data and measures each page
on both, one after the other: the two worker shapes compared in one run. ``--uncached``
likewise adds a gunicorn that lists from AWS on every view (PANKA_LIST_CACHE_SECONDS=0)
for the two pages that list from AWS (state history, locks).

Printed per page: p50/p95/p99 latency, requests per second, the first (cold) request,
and whether p95 is under the goal (150 ms). Deep pages (page 200 of the runs, an audit
page 50,000 events back) are measured too: keyset and indexed pages cost the same at
any depth. Everything runs on this machine's 2 cores: the server, the emulator and the
driver share them, so the figures are a floor for a real deployment, and noisy.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402

GOAL_P95_MS = 150.0
PASSWORD = "bench-password-1"


def _write_versions(count: int) -> None:
    """In the forked child: its own AWS clients (the parent's connections stay the
    parent's), no database, and an exit that runs none of the parent's clean-up."""
    from bench import seed
    from deployments.aws import clients
    from deployments.runtime import aws_settings

    clients.clear_cache()
    code = 1
    try:
        seed.state_versions(aws_settings(), "bench", "big", "development", count)
        code = 0
    finally:
        os._exit(code)


def seed_all(stack_count: int, runs: int, events: int, versions: int) -> dict[str, object]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from bench import seed
    from deployments.aws import bootstrap
    from deployments.aws.locks import LockManager, lock_key
    from deployments.models import Deployment, Stack, StackRevision
    from deployments.runtime import aws_settings
    from tenants.models import AuditEvent, Membership, Role, Tenant

    with harness.timed("migrating"):
        call_command("migrate", verbosity=0)
        bootstrap.ensure_state_bucket(aws_settings())
        bootstrap.ensure_lock_table(aws_settings())
    # The state versions go to the emulator from a forked process while this one fills
    # the database: both are CPU-bound client work, so they use both cores.
    writer = multiprocessing.get_context("fork").Process(
        target=_write_versions, args=(versions,), daemon=True
    )
    started = time.monotonic()
    writer.start()
    tenant = Tenant.objects.create(slug="bench", display_name="Bench", max_stacks=stack_count + 10)
    users = get_user_model()
    hashed = make_password(PASSWORD)  # once: PBKDF2 is slow on purpose
    admin = users.objects.create(username="bench-admin", password=hashed)
    Membership.objects.create(tenant=tenant, user=admin, role=Role.ADMIN)
    with harness.timed(f"{stack_count:,} stacks"):
        seed.stacks(tenant, stack_count - 1)
        big = Stack.objects.create(tenant=tenant, name="big", description="10,000 runs")
    with harness.timed(f"{runs:,} runs and 1,000 revisions"):
        seed.revisions(big, 1000, author=admin)
        revision = StackRevision.objects.filter(stack=big).order_by("-number").first()
        seed.runs(big, revision, runs, user=admin)
    with harness.timed(f"{events:,} audit events (hash chain)"):
        seed.audit_events(tenant, events, actor=admin)
    with harness.timed("200 members"):
        seed.members(tenant, 199)
    with harness.timed("100 locks"):
        manager = LockManager(aws_settings())
        for run in Deployment.objects.filter(stack=big).order_by("-number")[:100]:
            manager.acquire(
                lock_key("bench", f"stack-{run.number:05d}", "development"),
                owner="bench", reason="held for the benchmark", deployment_id=str(run.uid),
            )  # fmt: skip
    with harness.timed(f"{versions:,} state versions through StateStore (waiting)"):
        writer.join()
    if writer.exitcode != 0:
        raise SystemExit("writing the state versions failed (see above)")
    print(f"  ({versions:,} versions took {time.monotonic() - started:.0f}s in all)")
    middle = (
        AuditEvent.objects.filter(tenant=tenant)
        .order_by("-id")
        .values_list("id", flat=True)[events // 2]
    )
    return {"audit_middle": middle}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measured time per page")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker (1: sync workers)"
    )
    parser.add_argument(
        "--compare-threads",
        type=int,
        default=0,
        help="also measure every page on as many gthread workers of this many threads",
    )
    parser.add_argument(
        "--uncached",
        action="store_true",
        help="also measure the pages listed from AWS on a gunicorn that lists on every view "
        "(PANKA_LIST_CACHE_SECONDS=0)",
    )
    parser.add_argument(
        "--only", default="", help="measure only the pages whose name contains this text"
    )
    args = parser.parse_args()

    env = harness.bench_env("pages")
    with harness.Processes(env) as procs:
        started = time.monotonic()
        harness.start_emulator(procs)
        harness.setup_django(procs.env)
        from django.db import connection

        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        facts = seed_all(args.stacks, args.runs, args.events, args.versions)
        connection.close()
        # (short label, threads, settings, AWS pages only)
        servers = [(harness.worker_shape(args.threads), args.threads, {}, False)]
        if args.compare_threads:
            shape = harness.worker_shape(args.compare_threads)
            servers.append((shape, args.compare_threads, {}, False))
        if args.uncached:
            shape = harness.worker_shape(args.threads)
            servers.append(
                (f"{shape}, uncached", args.threads, {"PANKA_LIST_CACHE_SECONDS": "0"}, True)
            )
        targets = []  # (short label, process name, sessions, AWS pages only)
        for i, (label, threads, settings, aws_only) in enumerate(servers):
            name = f"gunicorn{i or ''}"
            base = harness.start_gunicorn(
                procs, workers=args.workers, threads=threads, name=name, env=settings
            )
            print(f"{harness.describe_workers(args.workers, threads)} ({label}) at {base}")
            sessions = harness.login_all(base, [("bench-admin", PASSWORD)] * args.clients)
            targets.append((label, name, sessions, aws_only))
        print(f"seeded and started in {time.monotonic() - started:.0f}s")

        stack = "/t/bench/stacks/big"
        pages = [
            ("tenant home (1,000 stacks)", "/t/bench/"),
            ("tenant home, page 20", "/t/bench/?page=20"),
            ("run list (10,000 runs)", f"{stack}/runs/"),
            ("run list, page 200", f"{stack}/runs/?page=200"),
            ("revision list (1,000)", f"{stack}/revisions/"),
            ("audit log (100,000 events)", "/t/bench/audit/"),
            ("audit log, 50,000 back", f"/t/bench/audit/?before={facts['audit_middle']}"),
            ("state history (2,000 versions)", f"{stack}/state/development/"),
            ("member list (200)", "/t/bench/members/"),
            ("locks (100)", "/t/bench/locks/"),
        ]
        from_aws = {"state history (2,000 versions)", "locks (100)"}
        print(
            f"\n{args.clients} concurrent clients, closed loop (no pause), "
            f"{args.seconds:.0f}s per page after 1s warm-up\n"
        )
        print(harness.LEGEND + "\n")

        results = []  # the first server's: the goal is judged on it
        for page, path in pages:
            if args.only not in page:
                continue
            for label, name, sessions, aws_only in targets:
                if aws_only and page not in from_aws:
                    continue

                def cpu(name: str = name) -> dict[str, float]:
                    return {
                        "gunicorn": procs.cpu_seconds(name),
                        "emulator": procs.cpu_seconds("emulator"),
                    }

                title = page if len(targets) == 1 else f"{page} [{label}]"
                result = harness.drive(
                    title, sessions, lambda s, i, path=path: ("GET", path, None, None),
                    seconds=args.seconds, cpu=cpu,
                )  # fmt: skip
                if name == "gunicorn":
                    results.append(result)
                print(result.row(GOAL_P95_MS), flush=True)
        over = [r.name for r in results if r.pct(0.95) >= GOAL_P95_MS or r.errors]
        print(
            f"\ngoal: p95 < {GOAL_P95_MS:.0f} ms on every page — "
            + ("met" if not over else f"NOT met on {len(over)}: {', '.join(over)}")
        )
        print(f"total {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
