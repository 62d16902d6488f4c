"""Benchmark of the stack-format engine (``make bench-spec``).

Generates folder-layout stacks of 20, 200 and 1,000 components (every deployable kind,
stack and service variables, ``${service.VAR}``, dependsOn, valueFrom, subscriptions,
triggers, targets, service-level dependsOn) and prints, in one run:

- validate + plan time per stack, next to the time PyYAML's C loader (CSafeLoader)
  takes just to *compose* the same files: the reference the engine is measured against
  (goal: 1,000 components within 2x);
- the 20-component stack in absolute terms (goal: under 10 ms);
- the editor's live-validation path: the 20-component stack validated again with one
  file replaced, p50/p95 over many edits (goal: p95 under 50 ms);
- peak memory of validate + plan of the 1,000-component stack (goal: under 150 MB).

Stack timings are CPU time (``time.process_time``) of interleaved repeats, so another
process on a shared machine disturbs them less; the ratio is the median of the
per-repeat ratios, each pair measured back to back. Other processes still slow both
sides through the shared caches, and not equally: C compose (allocation-heavy) loses
more than the engine, so a busy machine flatters the ratio. Hence the load average in
the header and, next to the median ratio, the ratio of the two fastest runs, which is
what a quiet machine shows. Every repeat validates from the text (the engine keeps
nothing between calls) and garbage collection runs as it would in a request: the
engine's own collector pause (deployments/spec/gcpause.py) starts and ends inside the
timed call, so the collection it makes at its start is timed too. The editor path is wall-clock latency. Not a test: it prints, it does
not assert.
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deployments.spec import plan, schema, validate  # noqa: E402
from deployments.spec.loader import NodeBudget, load_text  # noqa: E402

PER_SERVICE = 20

STACK = """\
apiVersion: core.panka.io/v1
kind: Stack
metadata:
  name: bench
  labels: {{team: platform}}
spec:
  provider:
    name: aws
    region: us-east-1
  variables:
    VERSION: "1.{n}.0"
    LOG_LEVEL: info
    RETENTION: 345600
"""

SERVICE = """\
apiVersion: core.panka.io/v1
kind: Service
metadata:
  name: {svc}
spec:
  variables:
    REPLICAS: "2"
    BATCH: "10"
{depends}"""

# One block of 11 components, one per deployable kind; {p} is the block's name prefix
# and references point backwards inside the block, so any prefix of a block is valid.
KINDS = [
    """\
apiVersion: components.panka.io/v1
kind: SQS
metadata:
  name: {p}-0
  labels: {{purpose: jobs}}
spec:
  visibilityTimeout: 60
  messageRetentionPeriod: ${{RETENTION}}
  deadLetterQueue:
    enabled: true
    maxReceiveCount: 3
""",
    """\
apiVersion: components.panka.io/v1
kind: DynamoDB
metadata:
  name: {p}-1
spec:
  hashKey: {{name: id, type: S}}
  rangeKey: {{name: ts, type: N}}
  stream: {{enabled: true, viewType: NEW_IMAGE}}
  ttl: {{enabled: true, attributeName: expiresAt}}
""",
    """\
apiVersion: components.panka.io/v1
kind: S3
metadata:
  name: {p}-2
spec:
  versioning: {{enabled: true}}
  lifecycle:
    - id: expire
      expiration: {{days: 30}}
""",
    """\
apiVersion: components.panka.io/v1
kind: SNS
metadata:
  name: {p}-3
spec:
  displayName: Topic {p}
  subscriptions:
    - protocol: sqs
      component: {p}-0
""",
    """\
apiVersion: components.panka.io/v1
kind: Lambda
metadata:
  name: {p}-4
spec:
  runtime: python3.12
  handler: index.handler
  code:
    zipFile: |
      def handler(event, context):
          return {{"ok": True}}
  environment:
    LOG_LEVEL: ${{LOG_LEVEL}}
    TABLE:
      valueFrom: {{component: {p}-1, output: tableName}}
  triggers:
    - type: sqs
      source: {{component: {p}-0}}
      batchSize: ${{BATCH}}
""",
    """\
apiVersion: components.panka.io/v1
kind: MicroService
metadata:
  name: {p}-5
spec:
  image:
    repository: registry.example.com/{p}
    tag: ${{VERSION}}
  runtime: {{cpu: 256, memory: 512}}
  replicas: ${{{svc}.REPLICAS}}
  ports:
    - name: http
      port: 8080
  environment:
    - name: LOG_LEVEL
      value: ${{LOG_LEVEL}}
    - name: QUEUE_URL
      valueFrom: {{component: {p}-0, output: queue_url}}
    - name: TABLE
      valueFrom: {{component: {p}-1, output: tableName}}
  secrets:
    - name: api-key
      secretRef: bench/{p}/api-key
  dependsOn: [{p}-2]
""",
    """\
apiVersion: components.panka.io/v1
kind: Worker
metadata:
  name: {p}-6
spec:
  image:
    repository: registry.example.com/{p}-worker
    tag: v${{VERSION}}
  environment:
    - name: TOPIC
      valueFrom: {{component: {p}-3, output: topicArn}}
""",
    """\
apiVersion: components.panka.io/v1
kind: CronJob
metadata:
  name: {p}-7
spec:
  schedule: rate(5 minutes)
  lambda: {{component: {p}-4}}
""",
    """\
apiVersion: components.panka.io/v1
kind: EventBridge
metadata:
  name: {p}-8
spec:
  schedule: rate(1 hour)
  targets:
    - component: {p}-0
""",
    """\
apiVersion: components.panka.io/v1
kind: RDS
metadata:
  name: {p}-9
spec:
  engine: {{type: postgres, version: "16"}}
  instance:
    class: db.t3.micro
    storage: {{allocatedGB: 20}}
  database:
    name: app
    username: app_admin
    passwordSecret: {{ref: bench/{p}/db}}
""",
    """\
apiVersion: components.panka.io/v1
kind: ElastiCacheRedis
metadata:
  name: {p}-10
spec:
  engine: {{version: "7.0"}}
  cluster: {{nodeType: cache.t3.micro, numNodes: 1}}
""",
]


def generate(n: int, *, variant: int = 0) -> dict[str, str]:
    """A folder-layout stack of ``n`` components in services of PER_SERVICE."""
    files = {"stack.yaml": STACK.format(n=variant)}
    for s in range((n + PER_SERVICE - 1) // PER_SERVICE):
        svc = f"svc{s}"
        depends = f"  dependsOn: [svc{s - 1}]\n" if s % 5 == 4 else ""
        files[f"services/{svc}/service.yaml"] = SERVICE.format(svc=svc, depends=depends)
        docs = []
        for i in range(s * PER_SERVICE, min(n, (s + 1) * PER_SERVICE)):
            block, k = divmod(i, len(KINDS))
            docs.append(KINDS[k].format(p=f"c{block}", svc=svc))
        files[f"services/{svc}/components.yaml"] = "---\n".join(docs)
    return files


def compose_all(files: dict[str, str]) -> None:
    for text in files.values():
        list(yaml.compose_all(text, Loader=yaml.CSafeLoader))


def validate_and_plan(files: dict[str, str]) -> None:
    result = validate(files)
    if not result.ok:
        raise SystemExit(f"generated stack is invalid: {result.errors[:3]}")
    plan(result, None, environment="production")


def interleaved(
    a: Callable[[], None], b: Callable[[], None], repeats: int
) -> tuple[list[float], list[float]]:
    times_a, times_b = [], []
    for _ in range(repeats):
        for fn, times in ((a, times_a), (b, times_b)):
            gc.collect()
            start = time.process_time()
            fn()
            times.append(time.process_time() - start)
    return times_a, times_b


def breakdown(files: dict[str, str]) -> None:
    """Where the time of the 1,000-component stack goes, each part against compose."""
    kinds = schema.kinds()
    result = validate(files)
    # In the order validation runs them: one kind after the other.
    components = sorted(result.stack.components.values(), key=lambda c: c.kind)

    def events_only() -> None:  # the floor for any loader built on libyaml's events
        for text in files.values():
            parser = yaml.CSafeLoader(text)
            while parser.get_event() is not None:
                pass
            parser.dispose()

    parts: dict[str, Callable[[], object]] = {
        "C compose (reference)": lambda: compose_all(files),
        "libyaml events alone": events_only,
        "loader (positions, limits)": lambda: [
            load_text(name, text, NodeBudget()) for name, text in files.items()
        ],
        "kind schemas (pydantic)": lambda: [
            kinds.validate_spec(c.kind, c.spec, nulls=c.doc.nulls) for c in components
        ],
        "validate, all layers": lambda: validate(files),
        "plan": lambda: plan(result, None, environment="production"),
    }
    times: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(9):
        for name, fn in parts.items():
            gc.collect()
            start = time.process_time()
            fn()
            times[name].append(time.process_time() - start)
    reference = statistics.median(times["C compose (reference)"])
    print("where the time goes, 1,000 components (CPU time, medians):")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<28} {ms(median)}  {median / reference:5.2f}x")
    print()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def main() -> None:
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Python {sys.version.split()[0]}, PyYAML {yaml.__version__} "
        f"(libyaml: {yaml.__with_libyaml__}); {os.cpu_count()} CPUs, load average {load}"
    )
    print()
    print(
        f"{'components':>10} {'files':>5} {'KiB':>6} {'C compose':>12} "
        f"{'validate+plan':>14} {'ratio':>6} {'fastest':>8}  (CPU time, medians)"
    )
    for n, repeats in ((20, 60), (200, 20), (1000, 15)):
        files = generate(n)
        validate_and_plan(files)  # warm-up: imports, pydantic schemas
        compose, engine = interleaved(
            lambda f=files: compose_all(f), lambda f=files: validate_and_plan(f), repeats
        )
        c, e = statistics.median(compose), statistics.median(engine)
        ratio = statistics.median(b / a for a, b in zip(compose, engine, strict=True))
        fastest = min(engine) / min(compose)
        size = sum(len(t.encode()) for t in files.values()) / 1024
        print(
            f"{n:>10} {len(files):>5} {size:>6.0f} {ms(c):>12} {ms(e):>14} {ratio:>5.2f}x "
            f"{fastest:>7.2f}x"
        )
    print("  ratio: median of the per-pair ratios; fastest: fastest engine / fastest compose")
    print()

    # The editor: the same 20-component stack, one file replaced by a fresh edit each time.
    base = generate(20)
    target = "services/svc0/components.yaml"
    edits = []
    for i in range(300):
        files = dict(base)
        files[target] = base[target].replace(
            "visibilityTimeout: 60", f"visibilityTimeout: {60 + i}"
        )
        edits.append(files)
    times = []
    for files in edits:
        start = time.perf_counter()
        validate(files)
        times.append(time.perf_counter() - start)
    times.sort()
    p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
    print(
        f"editor path (20 components, one file replaced, validate): p50 {ms(p50).strip()}, "
        f"p95 {ms(p95).strip()}  (goal p95 < 50 ms)"
    )
    print()

    breakdown(generate(1000))

    files = generate(1000)
    gc.collect()
    tracemalloc.start()
    validate_and_plan(files)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        f"memory (1,000 components): tracemalloc peak {peak / 2**20:.1f} MiB during "
        f"validate + plan; process max RSS {rss:.0f} MiB  (goal < 150 MB)"
    )


if __name__ == "__main__":
    main()
