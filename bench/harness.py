"""What the load benchmarks share: a throwaway data folder, the embedded AWS emulator and
gunicorn (or workers) as real child processes, a login, and a closed-loop HTTP driver.

Every process listens on 127.0.0.1 on a free port, and every process started here is
stopped (its whole process group) when the ``Processes`` block ends, also on Ctrl-C.
The driver's request loops are bounded in time. Figures move with the machine's load:
they are measured on 2 cores shared with the server, the emulator and the driver itself.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

# The stack document the deploy benches share: one stack in us-east-1, named per bench.
STACK = """\
apiVersion: core.panka.io/v1
kind: Stack
metadata:
  name: {name}
spec:
  provider:
    name: aws
    region: us-east-1
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env(name: str, *, keep_broker: bool = False) -> dict[str, str]:
    """The environment of the bench and of every process it starts: a fresh data folder
    (SQLite file, secret key), plain HTTP on 127.0.0.1, a state bucket and lock table of
    its own. DATABASE_URL (and REDIS_URL with ``keep_broker``) pass through when set."""
    data = tempfile.mkdtemp(prefix=f"panka-{name}-")
    env = dict(os.environ)
    for var in ("PANKA_HTTPS", "PANKA_SSL_REDIRECT", "PANKA_BEHIND_TLS_PROXY", "DEBUG"):
        env.pop(var, None)
    if not keep_broker:
        env.pop("REDIS_URL", None)
    env.update(
        PANKA_DATA_DIR=data,
        DJANGO_SETTINGS_MODULE="panka_web.settings",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        PANKA_STATE_BUCKET="panka-bench-state",
        PANKA_LOCK_TABLE="panka-bench-locks",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def setup_django(env: dict[str, str]) -> None:
    """This process uses the same settings and database as the processes it starts."""
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


class Processes(contextlib.AbstractContextManager):
    """Child processes, each leading its own process group, all stopped on exit."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.logs = Path(env["PANKA_DATA_DIR"]) / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def spawn(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """``args`` as ``name``, with this run's environment plus ``env``."""
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [*args], cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.children.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # and whatever it forked
        proc.wait()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        for _, proc in reversed(self.children):
            self.stop(proc)
        data = self.env["PANKA_DATA_DIR"]
        if exc_type is None and not os.environ.get("PANKA_BENCH_KEEP"):
            shutil.rmtree(data, ignore_errors=True)
        else:
            print(f"data and process logs kept in {data}", file=sys.stderr)

    def cpu_seconds(self, name: str) -> float:
        """CPU time (user + system) used so far by the process group of child ``name``
        (gunicorn's master and workers; the emulator): what a request costs, whatever
        else the machine is doing."""
        leader = next(proc.pid for child, proc in self.children if child == name)
        return group_cpu_seconds(leader)

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes of process group ``pgid`` (Linux
    /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        # After the command: state, ppid, pgrp, ... utime is field 14, stime 15 (1-based).
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with status {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not answer at {url} within {timeout:.0f}s")


def start_emulator(procs: Processes) -> str:
    """The embedded AWS emulator as its own process; sets PANKA_AWS_ENDPOINT_URL."""
    port = free_port()
    data = Path(procs.env["PANKA_DATA_DIR"]) / "aws"
    proc = procs.spawn(
        "emulator", PYTHON, "-m", "deployments.aws.emulator", "--port", str(port),
        "--data-dir", str(data),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/moto-api/data.json", proc, "the AWS emulator")
    procs.env["PANKA_AWS_ENDPOINT_URL"] = url
    os.environ["PANKA_AWS_ENDPOINT_URL"] = url
    return url


def start_gunicorn(
    procs: Processes,
    *,
    workers: int = 2,
    threads: int = 1,
    name: str = "gunicorn",
    env: dict[str, str] | None = None,
) -> str:
    """gunicorn with explicit flags in the shape of panka_web/gunicorn.conf.py (sync
    workers, or gthread ones when ``threads`` > 1, with the conf's 5 s keep-alive), on a
    free port of 127.0.0.1; no access log, so the log does not cost time per request.
    ``name`` tells two apart; ``env`` adds settings."""
    port = free_port()
    worker = ["--worker-class", "sync"] if threads == 1 else [
        "--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "5",
    ]  # fmt: skip
    proc = procs.spawn(
        name, PYTHON, "-m", "gunicorn", "panka_web.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), *worker,
        "--timeout", "120", "--log-level", "warning", "--no-control-socket", env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/login/", proc, name)
    return base


def worker_shape(threads: int) -> str:
    """``sync``, or ``gthread x N``: what start_gunicorn runs for ``threads``."""
    return "sync" if threads == 1 else f"gthread x{threads}"


def describe_workers(workers: int, threads: int) -> str:
    return f"gunicorn {workers} {worker_shape(threads)} workers"


# --- HTTP ------------------------------------------------------------------------------


class Session:
    """One client: a keep-alive connection and its cookies (as a browser holds them)."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None, headers=None
    ) -> tuple[int, bytes]:
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        sent.update(headers or {})
        data = None
        if body is not None:
            data = urlencode(body).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Referer"] = f"http://{self.host}:{self.port}/"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=sent)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # The server closed a kept-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, payload

    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")

    def close(self) -> None:
        self.conn.close()


def login_all(base: str, credentials: list[tuple[str, str]]) -> list[Session]:
    """Sign each in at once (PBKDF2 makes a login slow on purpose)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda c: login(base, *c), credentials))


def login(base: str, username: str, password: str) -> Session:
    """Sign in through the login form, as a person does."""
    session = Session(base)
    status, page = session.request("GET", "/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or token is None:
        raise SystemExit(f"the login page answered {status}")
    status, _ = session.request(
        "POST", "/login/",
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1).decode()},
    )  # fmt: skip
    if status != 302 or "sessionid" not in session.cookies:
        raise SystemExit(f"logging in as {username} failed ({status})")
    return session


# --- the closed-loop driver ----------------------------------------------------------


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: dict[int, int] = field(default_factory=dict)  # status -> count
    first: float = 0.0
    sent: int = 0  # every request, warm-up included
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds used

    def cpu_ms(self, name: str) -> float:
        return self.cpu.get(name, 0.0) / self.sent * 1000 if self.sent else float("nan")

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def row(self, goal_ms: float) -> str:
        failed = sum(self.errors.values())
        verdict = "ok" if self.pct(0.95) < goal_ms and not failed else "OVER"
        errors = f"  errors {dict(self.errors)}" if failed else ""
        cpu = "".join(f"  {name} {self.cpu_ms(name):5.1f}" for name in self.cpu)
        return (
            f"{self.name:<34} p50 {self.pct(0.5):7.1f}"
            f"  p95 {self.pct(0.95):7.1f}  p99 {self.pct(0.99):7.1f} ms"
            f"  {self.rate:7.1f} req/s  n={len(self.latencies):<6}"
            f" first {self.first * 1000:6.0f} ms{cpu}  {verdict}{errors}"
        )


LEGEND = (
    "first: the page's first request, cold. gunicorn/emulator: CPU ms that process group "
    "spent per request (user + system, warm-up included): what a request costs whatever "
    "else the machine runs; 2 cores give at most 2000 / (their sum) requests per second."
)


def drive(
    name: str,
    sessions: list[Session],
    make_request: Callable[[Session, int], tuple[str, str, dict | None, dict | None]],
    *,
    seconds: float,
    warmup: float = 1.0,
    think: float = 0.0,
    check: Callable[[int, bytes], bool] = lambda status, body: status == 200,
    cpu: Callable[[], dict[str, float]] | None = None,
) -> Result:
    """Each session in its own thread sends requests back to back (after ``think``
    seconds between a response and the next request) for ``warmup`` + ``seconds``;
    only requests that start after the warm-up count. ``make_request(session, i)``
    gives (method, path, form, headers)."""
    result = Result(name=name, seconds=seconds)
    lock = threading.Lock()
    cpu_before = cpu() if cpu else {}
    # The driver's own CPU (this process: the client threads) shares the 2 cores with the
    # server; reported so its share of the machine is visible.
    driver_before = time.process_time()
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    # The page's first request, alone: what one visitor sees before anything is warm.
    method, path, form, headers = make_request(sessions[0], 0)
    t0 = time.perf_counter()
    status, body = sessions[0].request(method, path, form, headers)
    result.first = time.perf_counter() - t0
    if not check(status, body):
        raise SystemExit(f"{name}: {method} {path} answered {status}: {body[:300]!r}")

    def client(session: Session) -> None:
        i = 1
        while True:
            began = time.monotonic()
            if began >= stop_at:
                return
            method, path, form, headers = make_request(session, i)
            t0 = time.perf_counter()
            try:
                status, body = session.request(method, path, form, headers)
                ok = check(status, body)
            except (OSError, http.client.HTTPException):
                status, ok = -1, False
            took = time.perf_counter() - t0
            with lock:
                result.sent += 1
            if began >= measure_from:
                with lock:
                    if ok:
                        result.latencies.append(took)
                    else:
                        result.errors[status] = result.errors.get(status, 0) + 1
            i += 1
            if think:
                time.sleep(think)

    threads = [threading.Thread(target=client, args=(s,), daemon=True) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=warmup + seconds + 120)
    result.sent += 1  # the first request
    if cpu:
        after = cpu()
        result.cpu = {k: after[k] - cpu_before[k] for k in after}
        result.cpu["driver"] = time.process_time() - driver_before
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@contextlib.contextmanager
def timed(what: str) -> Iterator[None]:
    started = time.monotonic()
    print(f"{what}…", end=" ", flush=True)
    yield
    print(f"{time.monotonic() - started:.1f}s", flush=True)
