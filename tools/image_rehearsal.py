"""Build the Dockerfile and run its image where there is no Docker (``make image-rehearsal``).

For machines like this project's, which have no Docker daemon and cannot reach Docker
Hub: podman builds the Dockerfile as it is (chroot isolation: no daemon, no cgroups),
from a base made with debootstrap from Debian's own packages (bookworm, python3 and
venv; the real base, python:3.11-slim-bookworm, is the same Debian release with another
build of Python 3.11). Then, as the compose example runs it but on this machine's
services: the image as ``web`` (migrating, bootstrapping the state bucket and lock
table) and as ``worker``, both on the PostgreSQL and Redis of 127.0.0.1 and the embedded
AWS emulator on a free port; each container's HEALTHCHECK command must pass, static
files must come compressed with far-future caching, and one deploy of the demo stack is
driven through the web container's pages to *Succeeded* by the worker container.

Needs root (apt-get, podman), Debian's package mirror (podman, debootstrap, runc) and
PyPI (the image's pip install). It downloads, so it is not part of ``make test``; run it
after changing the Dockerfile, deploy/entrypoint.sh or the dependencies. Leaves the
images (localhost/panka-base:bookworm, localhost/panka-web:rehearsal) for reuse and
removes its containers, database and emulator.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BASE_IMAGE = "localhost/panka-base:bookworm"
IMAGE = "localhost/panka-web:rehearsal"
DATABASE = "panka_image_rehearsal"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/12"
# crun refuses this machine's hybrid cgroup layout; runc with cgroupfs runs there.
PODMAN = ["podman", "--cgroup-manager", "cgroupfs"]


def sh(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(args), flush=True)
    return subprocess.run(args, check=True, text=True, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install_tools() -> None:
    missing = [tool for tool in ("podman", "debootstrap", "runc") if not shutil.which(tool)]
    if missing:
        sh("apt-get", "update", "-qq")
        sh("apt-get", "install", "-y", "-qq", "podman", "debootstrap", "runc",
           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip


def base_image() -> None:
    if subprocess.run([*PODMAN, "image", "exists", BASE_IMAGE]).returncode == 0:
        return
    with tempfile.TemporaryDirectory() as tmp:
        rootfs = Path(tmp) / "rootfs"
        sh("debootstrap", "--variant=minbase", "--include=python3,python3-venv", "bookworm",
           str(rootfs), "http://deb.debian.org/debian")  # fmt: skip
        (rootfs / "usr/local/bin/python").symlink_to("/usr/bin/python3")
        # This machine's CA bundle, for a TLS-inspecting proxy between it and PyPI; pip
        # reads certifi's own bundle unless PIP_CERT names one.
        shutil.copy("/etc/ssl/certs/ca-certificates.crt", rootfs / "etc/ssl/certs/")
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        sh(*PODMAN, "import", "--change", "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
           "-", BASE_IMAGE, stdin=tar.stdout)  # fmt: skip
        tar.wait()


def build() -> None:
    # --format docker keeps the HEALTHCHECK (the OCI format has none).
    sh(*PODMAN, "build", "--format", "docker", "--isolation", "chroot", "--network", "host",
       "--build-arg", f"PYTHON_IMAGE={BASE_IMAGE}", "-t", IMAGE, str(ROOT))  # fmt: skip


def run(name: str, env: dict[str, str], *command: str) -> None:
    limit = subprocess.run(["sh", "-c", "ulimit -Hn"], capture_output=True, text=True).stdout
    flags = [f"--env={k}={v}" for k, v in env.items()]
    # Limits no higher than this machine's (podman's defaults are refused), and no
    # health-check timer (podman keeps those in systemd, absent here): healthy() runs
    # the image's check command instead.
    sh(*PODMAN, "run", "-d", "--runtime", "runc", "--name", name, "--network", "host",
       f"--ulimit=nofile={limit.strip()}:{limit.strip()}", "--ulimit=nproc=4096:4096",
       "--no-healthcheck", *flags, IMAGE, *command)  # fmt: skip


def healthy(name: str, timeout: float = 120) -> str:
    """The image's HEALTHCHECK command, run in the container until it passes."""
    test = subprocess.run(
        [*PODMAN, "image", "inspect", "--format", "{{json .Config.Healthcheck.Test}}", IMAGE],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert '"python","-m","panka_web.probe"' in test.replace(" ", ""), test
    deadline = time.monotonic() + timeout
    while True:
        probe = subprocess.run([*PODMAN, "exec", name, "python", "-m", "panka_web.probe"],
                               capture_output=True, text=True)  # fmt: skip
        if probe.returncode == 0:
            return probe.stdout.strip() or probe.stderr.strip()
        if time.monotonic() > deadline:
            logs = subprocess.run([*PODMAN, "logs", name], capture_output=True, text=True)
            raise SystemExit(f"{name} never became healthy:\n{probe.stderr}\n{logs.stdout}")
        time.sleep(2)


def deploy(base: str) -> str:
    """The demo stack's development environment, planned and applied through the pages."""
    s = requests.Session()
    s.headers["Referer"] = base + "/"
    s.get(f"{base}/login/", timeout=30)
    s.post(f"{base}/login/", timeout=30, data={
        "username": "demo", "password": "panka-demo", "csrfmiddlewaretoken": s.cookies["csrftoken"],
    })  # fmt: skip
    queued = s.post(f"{base}/t/demo/stacks/shop/runs/new/", timeout=30, data={
        "kind": "apply", "environment": "development",
        "csrfmiddlewaretoken": s.cookies["csrftoken"],
    })  # fmt: skip
    run_url = queued.url
    assert "/runs/" in run_url, run_url

    def wait_for(*statuses: str) -> str:
        for _ in range(300):
            found = re.search(r'class="badge[^"]*">([A-Za-z ]+)<', s.get(run_url, timeout=30).text)
            if found and found.group(1) in statuses:
                return found.group(1)
            time.sleep(1)
        raise SystemExit(f"{run_url} never reached {statuses}")

    assert wait_for("Planned", "Failed") == "Planned"
    s.post(f"{run_url}apply/", timeout=30, data={"csrfmiddlewaretoken": s.cookies["csrftoken"]})
    return wait_for("Succeeded", "Failed", "Interrupted")


def main() -> int:
    if os.geteuid() != 0:
        raise SystemExit("run as root: it installs packages and runs podman")
    install_tools()
    base_image()
    build()
    size = subprocess.run([*PODMAN, "image", "inspect", "--format", "{{.Size}}", IMAGE],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    print(f"image {IMAGE}: {int(size) / 2**20:.0f} MiB")

    emulator_port, web_port = free_port(), free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "deployments.aws.emulator", "--port", str(emulator_port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    psql = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c"]
    sh(*psql, f"DROP DATABASE IF EXISTS {DATABASE}")
    sh(*psql, f"CREATE DATABASE {DATABASE}")
    env = {
        "SECRET_KEY": "image-rehearsal-only-" + os.urandom(24).hex(),
        "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
        "REDIS_URL": REDIS_URL,
        "PANKA_Q_NAME": "panka-image-rehearsal",
        "PANKA_AWS_ENDPOINT_URL": f"http://127.0.0.1:{emulator_port}",
        "AWS_ACCESS_KEY_ID": "rehearsal",
        "AWS_SECRET_ACCESS_KEY": "rehearsal",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORT": str(web_port),
    }
    names = ("panka-rehearsal-web", "panka-rehearsal-worker")
    subprocess.run([*PODMAN, "rm", "-f", *names], capture_output=True)  # an earlier run's
    try:
        run(names[0], {**env, "PANKA_MIGRATE": "true", "PANKA_AWS_BOOTSTRAP": "true"}, "web")
        print("web:", healthy(names[0]))
        run(names[1], env, "worker")
        print("worker:", healthy(names[1]))
        base = f"http://127.0.0.1:{web_port}"
        login = requests.get(f"{base}/login/", timeout=30).text
        css = re.search(r'/static/[^"]+\.css', login).group(0)
        static = requests.get(base + css, headers={"Accept-Encoding": "gzip"}, timeout=30)
        assert static.headers.get("Content-Encoding") == "gzip", static.headers
        assert "immutable" in static.headers.get("Cache-Control", ""), static.headers
        print(f"static: {css} gzip, {static.headers['Cache-Control']}")
        sh(*PODMAN, "exec", names[0], "python", "manage.py", "seed_demo")
        outcome = deploy(base)
        print(f"deploy of the demo stack through the containers: {outcome}")
        logs = subprocess.run([*PODMAN, "logs", names[0]], capture_output=True, text=True)
        errors = [line for line in (logs.stdout + logs.stderr).splitlines() if "[ERROR]" in line]
        assert not errors, errors
        return 0 if outcome == "Succeeded" else 1
    finally:
        subprocess.run([*PODMAN, "rm", "-f", *names], capture_output=True)
        subprocess.run([*psql, f"DROP DATABASE IF EXISTS {DATABASE}"])
        emulator.terminate()


if __name__ == "__main__":
    sys.exit(main())
