"""Benchmark of the editor's live-validation request (``make bench-editor``).

The whole server path of one keystroke batch: Django's request handling, session and
access checks, the draft autosave (a database write), validation of the whole stack
with the open file replaced, and the findings partial rendered — for the 20-component
stack of ``bench/spec_bench.py`` (goal: p95 under 50 ms). Printed next to the engine
alone on the same edits, so the ratio shows what the web layer adds.

Runs on a throwaway SQLite database under a temporary folder; not a test, it prints.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = tempfile.mkdtemp(prefix="panka-editor-bench-")
os.environ.update(
    PANKA_DATA_DIR=DATA, DJANGO_SETTINGS_MODULE="panka_web.settings", ALLOWED_HOSTS="testserver"
)
for name in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(name, None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from bench.spec_bench import generate  # noqa: E402
from deployments.services import create_stack, save_revision  # noqa: E402
from deployments.spec import validate  # noqa: E402

EDITS = 300


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from tenants.models import Membership, Role, Tenant

    tenant = Tenant.objects.create(slug="bench", display_name="Bench")
    user = get_user_model().objects.create_user("bench", password="x")
    Membership.objects.create(tenant=tenant, user=user, role=Role.DEPLOYER)
    files = generate(20)
    stack_name = "bench"
    stack = create_stack(tenant=tenant, name=stack_name, actor=user)
    save_revision(stack=stack, files=files, actor=user)
    path = next(p for p in sorted(files) if p.startswith("services/"))
    original = files[path]

    client = Client()
    client.force_login(user)
    client.get(f"/t/bench/stacks/{stack_name}/edit/?file={path}")
    url = f"/t/bench/stacks/{stack_name}/edit/validate/"

    server: list[float] = []
    engine: list[float] = []
    for i in range(EDITS):
        text = original + f"\n# edit {i}\n"
        started = time.perf_counter()
        response = client.post(url, {"path": path, "text": text}, HTTP_HX_REQUEST="true")
        server.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:200]
        started = time.perf_counter()
        validate({**files, path: text})
        engine.append(time.perf_counter() - started)

    def row(name: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        return (
            f"{name:<28} p50 {statistics.median(ms):7.2f} ms   p95 {percentile(ms, 0.95):7.2f} ms"
            f"   p99 {percentile(ms, 0.99):7.2f} ms"
        )

    print(f"live validation, 20-component stack ({len(files)} files), {EDITS} edits, one run")
    print(row("server request (full path)", server))
    print(row("engine alone (validate)", engine))
    ratio = statistics.median(server) / statistics.median(engine)
    print(f"server / engine (p50 ratio): {ratio:.2f}x   goal: server p95 < 50 ms")


if __name__ == "__main__":
    main()
