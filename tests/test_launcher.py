"""``make run`` end to end: start, log in, see the demo stack, stop, start again.

This is the README's first command minus the virtualenv step, run against a fresh data
folder and free ports, so it checks what a new user gets.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(240)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """Whether a server could listen there now. SO_REUSEADDR, as servers set it, so that
    closed connections in TIME_WAIT don't count but a listener left running does."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Run:
    def __init__(self, data_dir: Path, web_port: int, emulator_port: int) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PANKA_", "DATABASE_", "REDIS_"))
        }
        env.update(
            PANKA_DATA_DIR=str(data_dir),
            PANKA_WEB_PORT=str(web_port),
            PANKA_EMULATOR_PORT=str(emulator_port),
            PYTHONUNBUFFERED="1",
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "panka_web.launcher"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []

    def wait_for_banner(self, timeout: float = 150) -> str:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if "Press Ctrl-C to stop" in line:
                return "".join(self.output)
        raise AssertionError("launcher did not start:\n" + "".join(self.output))

    def interrupt(self) -> int:
        # Ctrl-C in a terminal signals the whole foreground process group.
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout=40)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)


def _leftovers(data_dir: Path) -> list[int]:
    """Processes still running with this run's data folder: a stop must leave none
    (django-q2's cluster forks workers that outlive a parent killed alone)."""
    marker = f"PANKA_DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _log_in_and_open_demo_stack(banner: str) -> str:
    url = re.search(r"running at (http://\S+)", banner).group(1)
    user, password = re.search(r"Log in as\s+(\S+) / (\S+)", banner).groups()
    session = requests.Session()
    login = session.get(url + "login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    response = session.post(
        url + "login/",
        data={"username": user, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": url + "login/"},
        timeout=10,
    )
    assert response.status_code == 200 and "Demo Team" in response.text, response.text[:500]
    stack = session.get(url + "t/demo/stacks/shop/", timeout=10)
    assert stack.status_code == 200
    return stack.text


def test_run_command_starts_everything_persists_aws_data_and_restarts_cleanly(tmp_path):
    web_port, emulator_port = _free_port(), _free_port()
    first = Run(tmp_path, web_port, emulator_port)
    try:
        banner = first.wait_for_banner()
        page = _log_in_and_open_demo_stack(banner)
        assert "stack.yaml" in page
        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{emulator_port}",
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        key = "tenants/demo/v1/stacks/shop/development/state.json"
        for serial in (1, 2):
            s3.put_object(Bucket="panka-state", Key=key, Body=f'{{"serial": {serial}}}'.encode())
        before = s3.list_object_versions(Bucket="panka-state", Prefix=key)["Versions"]
    finally:
        assert first.interrupt() == 0, "".join(first.output)
    assert _port_is_free(web_port) and _port_is_free(emulator_port), "a port was left busy"
    assert _leftovers(tmp_path) == [], "every process the run started must be gone"

    second = Run(tmp_path, web_port, emulator_port)
    try:
        banner = second.wait_for_banner()
        assert "(unchanged)" in banner, "the second run must not seed again"
        _log_in_and_open_demo_stack(banner)
        after = s3.list_object_versions(Bucket="panka-state", Prefix=key)["Versions"]
        assert [(v["VersionId"], v["ETag"], v["LastModified"]) for v in after] == [
            (v["VersionId"], v["ETag"], v["LastModified"]) for v in before
        ]
        latest = s3.get_object(Bucket="panka-state", Key=key)["Body"].read()
        assert latest == b'{"serial": 2}'
    finally:
        assert second.interrupt() == 0, "".join(second.output)
    assert _port_is_free(web_port) and _port_is_free(emulator_port)
    assert _leftovers(tmp_path) == []
