"""``make run``: the whole product on one laptop, in one terminal.

Starts, in order: the embedded AWS emulator (unless ``PANKA_REAL_AWS`` is set), database
migrations, the state bucket and lock table, the demo seed, one django-q2 worker and the
web server. Prints the URL and the demo login. Ctrl-C (or SIGTERM) stops every process it
started, so running it again at once finds every port free.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_for_http(
    url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with status {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered: that is all we wait for
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not answer at {url} within {timeout:.0f}s")


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(proc.pid, sig)


class Launcher:
    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.env = dict(os.environ)
        self.env.setdefault("DJANGO_SETTINGS_MODULE", "panka_web.settings")
        self.data_dir = Path(self.env.get("PANKA_DATA_DIR", ROOT / "var"))
        self.web_port = int(self.env.get("PANKA_WEB_PORT", "8000"))
        self.emulator_port = int(self.env.get("PANKA_EMULATOR_PORT", "5055"))

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        # Each child leads its own process group, so stopping it also stops what it forked
        # (django-q2's cluster forks its workers); Ctrl-C reaches only this launcher.
        proc = subprocess.Popen([PYTHON, *args], cwd=ROOT, env=self.env, start_new_session=True)
        self.children.append((name, proc))
        return proc

    def manage(self, *args: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def start(self) -> None:
        started = time.monotonic()
        ports = [self.web_port]
        use_emulator = not _env_flag("PANKA_REAL_AWS") and not self.env.get(
            "PANKA_AWS_ENDPOINT_URL"
        )
        if use_emulator:
            ports.append(self.emulator_port)
        busy = [p for p in ports if not _port_free(p)]
        if busy:
            raise SystemExit(
                f"port(s) {', '.join(map(str, busy))} on 127.0.0.1 are in use; stop what uses "
                "them or set PANKA_WEB_PORT / PANKA_EMULATOR_PORT"
            )
        if use_emulator:
            emulator = self.spawn(
                "emulator",
                "-m",
                "deployments.aws.emulator",
                "--port",
                str(self.emulator_port),
                "--data-dir",
                str(self.data_dir / "aws"),
            )
            url = f"http://127.0.0.1:{self.emulator_port}"
            _wait_for_http(f"{url}/moto-api/data.json", emulator, "the AWS emulator")
            self.env["PANKA_AWS_ENDPOINT_URL"] = url

        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("aws_bootstrap")
        self.manage("seed_demo")
        self.spawn("worker", "manage.py", "worker")
        web = self.spawn(
            "web", "manage.py", "runserver", f"127.0.0.1:{self.web_port}", "--noreload"
        )
        _wait_for_http(f"http://127.0.0.1:{self.web_port}/login/", web, "the web server")

        from deployments.demo import DEMO_PASSWORD, DEMO_USER

        aws = self.env.get("PANKA_AWS_ENDPOINT_URL") or "real AWS (credential chain)"
        print(
            "\n"
            f"  Panka Web is running at http://127.0.0.1:{self.web_port}/\n"
            f"  Log in as  {DEMO_USER} / {DEMO_PASSWORD}\n"
            f"  AWS:       {aws}\n"
            f"  Data:      {self.data_dir}\n"
            f"  Started in {time.monotonic() - started:.1f}s. Press Ctrl-C to stop.\n",
            flush=True,
        )

    def wait(self) -> int:
        while True:
            for name, proc in self.children:
                if proc.poll() is not None:
                    print(f"{name} exited with status {proc.returncode}; stopping", flush=True)
                    return proc.returncode or 1
            time.sleep(0.5)

    def stop(self) -> None:
        for _, proc in reversed(self.children):
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, proc in reversed(self.children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in time; killing it", flush=True)
            # Whatever the leader left behind (forked workers) goes too.
            _signal_group(proc, signal.SIGKILL)
            proc.wait()


def main() -> int:
    launcher = Launcher()

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        launcher.start()
        return launcher.wait()
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"setup step failed: {' '.join(map(str, exc.cmd))}", file=sys.stderr)
        return exc.returncode or 1
    finally:
        launcher.stop()


if __name__ == "__main__":
    sys.exit(main())
