"""Benchmark of the editor's live validation under load (``make bench-validate-load``).

20 typists (20 deployers, each signed in through the login form, each with its own
connection) edit one 50-component stack at once; every edit is the request the editor
sends, ``POST …/edit/validate/`` with the open file's text: the draft autosave (a
database write) and a validation of the whole stack, answered with the findings panel.
The server is gunicorn, 2 sync workers (``--threads N``: gthread workers of N threads),
on 127.0.0.1, with explicit flags in the shape of panka_web/gunicorn.conf.py.

Two rounds: typing, where each typist sends its next edit 300 ms after the previous
answer (the editor's htmx trigger waits 300 ms after the last keystroke, so no typist
sends faster), and flat out, where every typist sends the next edit as soon as the
answer arrives (the server's saturation: latency is then mostly queueing). Printed:
p50/p95/p99, requests per second, goal p95 < 100 ms while typing; for reference, the
engine alone validating the same stack in this process (the web layer's ratio).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402

GOAL_P95_MS = 100.0
PASSWORD = "bench-password-1"
TYPING_PAUSE = 0.3  # the editor's `delay:300ms`


def seed(typists: int, components: int) -> tuple[str, str, dict[str, str]]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from bench.spec_bench import generate
    from deployments.services import create_stack, save_revision
    from deployments.validation import summary_counts, validate_files
    from tenants.models import Membership, Role, Tenant

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(slug="bench", display_name="Bench")
    hashed = make_password(PASSWORD)
    users = get_user_model()
    typists_ = [
        users.objects.create(username=f"typist-{i:02d}", password=hashed) for i in range(typists)
    ]
    for user in typists_:
        Membership.objects.create(tenant=tenant, user=user, role=Role.DEPLOYER)
    files = generate(components)
    result = validate_files(files, tenant=tenant)
    if not result.ok:
        raise SystemExit(f"the generated stack is not valid: {result.errors[:3]}")
    stack = create_stack(tenant=tenant, name="fifty", actor=typists_[0])
    save_revision(stack=stack, files=files, actor=typists_[0], counts=summary_counts(result))
    path = next(p for p in sorted(files) if p.endswith("components.yaml"))
    return stack.name, path, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per round")
    parser.add_argument("--typists", type=int, default=20)
    parser.add_argument("--components", type=int, default=50)
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker (1: sync workers)"
    )
    args = parser.parse_args()

    env = harness.bench_env("validate-load")
    with harness.Processes(env) as procs:
        harness.start_emulator(procs)  # the worker-free web app still checks AWS settings
        harness.setup_django(procs.env)
        from django.db import connection

        stack, path, files = seed(args.typists, args.components)
        connection.close()
        base = harness.start_gunicorn(procs, workers=2, threads=args.threads)
        sessions = harness.login_all(
            base, [(f"typist-{i:02d}", PASSWORD) for i in range(args.typists)]
        )
        editor = f"/t/bench/stacks/{stack}/edit/?file={path}"
        for session in sessions:  # opens each typist's draft, as the page does
            status, _ = session.request("GET", editor)
            assert status == 200, status
        url = f"/t/bench/stacks/{stack}/edit/validate/"
        original = files[path]

        def edit(session: harness.Session, i: int):
            text = original + f"\n# keystroke batch {i}\n"
            headers = {"HX-Request": "true", "X-CSRFToken": session.csrf()}
            return "POST", url, {"path": path, "text": text}, headers

        def valid(status: int, body: bytes) -> bool:
            return status == 200 and b'id="findings"' in body

        print(
            f"{args.typists} typists, one {args.components}-component stack "
            f"({len(files)} files), {harness.describe_workers(2, args.threads)}, "
            f"{args.seconds:.0f}s per round\n"
        )
        print(harness.LEGEND + "\n")

        def cpu() -> dict[str, float]:
            return {"gunicorn": procs.cpu_seconds("gunicorn")}

        typing = harness.drive(
            f"typing (next edit {TYPING_PAUSE * 1000:.0f} ms after answer)", sessions, edit,
            seconds=args.seconds, think=TYPING_PAUSE, check=valid, cpu=cpu,
        )  # fmt: skip
        print(typing.row(GOAL_P95_MS), flush=True)
        flat = harness.drive(
            "flat out (no pause)", sessions, edit, seconds=args.seconds, check=valid, cpu=cpu
        )
        print(flat.row(GOAL_P95_MS), flush=True)

        from deployments.spec import validate

        engine = []
        for i in range(50):
            started = time.perf_counter()
            validate({**files, path: original + f"\n# {i}\n"})
            engine.append(time.perf_counter() - started)
        engine_ms = statistics.median(engine) * 1000
        print(f"\nengine alone (validate, one thread, no load): p50 {engine_ms:.1f} ms")
        print(
            f"typing p50 / engine p50: {typing.pct(0.5) / engine_ms:.1f}x; "
            f"goal: typing p95 < {GOAL_P95_MS:.0f} ms — "
            + ("met" if typing.pct(0.95) < GOAL_P95_MS and not typing.errors else "NOT met")
        )


if __name__ == "__main__":
    main()
