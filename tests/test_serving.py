"""Production serving: check --deploy, gunicorn + whitenoise for real, the image's parts.

The gunicorn test starts the image's own entry point (deploy/entrypoint.sh web) on a free
loopback port with production settings, and reads the answers byte for byte.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYTHON_BIN = str(Path(sys.executable).parent)
HOST = "panka.example.com"


def clean_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """This process's environment without any setting of ours, plus ``overrides``."""
    # DJANGO_ALLOW_ASYNC_UNSAFE: the browser tests set it in this process (check --deploy
    # rightly calls it an error in a deployment).
    ours = ("PANKA_", "DATABASE_", "REDIS_", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_", "DEBUG")
    ours += ("DJANGO_ALLOW_ASYNC_UNSAFE",)
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update(
        PANKA_DATA_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="panka_web.settings",
        PATH=f"{PYTHON_BIN}:{env.get('PATH', '')}",
    )
    env.update(overrides)
    return env


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """What README "Production" asks of a deployment behind a TLS proxy."""
    return clean_env(
        tmp_path,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
        PANKA_HTTPS="true",
        PANKA_BEHIND_TLS_PROXY="true",
        PANKA_HSTS_SECONDS="31536000",
        PANKA_HSTS_INCLUDE_SUBDOMAINS="true",
        PANKA_HSTS_PRELOAD="true",
        **overrides,
    )


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


# --- settings -------------------------------------------------------------------------


def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_laptop_defaults_still_run_over_plain_http(tmp_path):
    """`make run` serves http://127.0.0.1 with DEBUG off: no redirect, no Secure cookies
    (which a browser would drop over http), and check --deploy says what is missing."""
    env = clean_env(tmp_path)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_PROXY_SSL_HEADER, s.SECURE_HSTS_SECONDS)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.stdout.split() == ["False", "False", "False", "None", "0"], shown.stderr
    deploy = manage(env, "check", "--deploy")
    assert deploy.returncode == 0, deploy.stderr  # warnings, no errors: the app starts
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in deploy.stderr + deploy.stdout


def test_request_size_limits_follow_the_stack_limits(settings):
    from deployments.spec import limits

    # Any upload within the limits stays in memory, and Django lets as many files
    # through as a stack may have (its default of 100 would refuse a valid upload).
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE >= limits.MAX_ZIP_BYTES
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == limits.MAX_FILES
    # The editor posts one file's text: a paste up to a whole stack reaches the view and
    # its 413 message; the memory one request may take stays near the stack limit.
    assert limits.MAX_STACK_BYTES < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= limits.MAX_STACK_BYTES + 256 * 1024


@pytest.mark.django_db
def test_an_upload_of_as_many_files_as_a_stack_may_have_is_taken(client, personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from deployments.models import Stack
    from deployments.spec import limits

    client.force_login(personas.deployer)
    stack = "apiVersion: core.panka.io/v1\nkind: Stack\nmetadata:\n  name: many\n"
    files = [SimpleUploadedFile("stack.yaml", stack.encode())] + [
        SimpleUploadedFile(f"q{i}.yaml", f"kind: SQS\nmetadata:\n  name: q{i}\n".encode())
        for i in range(limits.MAX_FILES - 1)
    ]
    response = client.post("/t/acme/stacks/new/", {"name": "many", "files": files})
    assert response.status_code == 302, response.content[:500]
    assert len(Stack.objects.get(name="many").latest_revision().files) == limits.MAX_FILES

    # One more is refused with a 400, not a 500, and stores nothing.
    files.append(SimpleUploadedFile("extra.yaml", b"kind: SQS\n"))
    for upload in files:
        upload.seek(0)
    response = client.post("/t/acme/stacks/new/", {"name": "toomany", "files": files})
    assert response.status_code in (400, 413)
    assert not Stack.objects.filter(name="toomany").exists()


# --- gunicorn + whitenoise, through the image's entry point ---------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port: int, path: str, headers: dict[str, str] | None = None, *, https: bool = True):
    """GET as the TLS proxy would forward it (``https=False``: plain HTTP, as the probe)."""
    sent = {"Host": HOST, **({"X-Forwarded-Proto": "https"} if https else {}), **(headers or {})}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", path, headers=sent)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def wait_until_serving(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the web container exited with {process.returncode}")
        try:
            fetch(port, "/healthz", https=False)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"nothing answered on 127.0.0.1:{port} within {timeout:.0f}s")


@pytest.fixture(scope="module")
def web_container(tmp_path_factory, emulator):
    """`deploy/entrypoint.sh web` as the image runs it: collected static files, hashed and
    compressed; migrations on start; gunicorn from panka_web/gunicorn.conf.py. One for the
    module (it takes ~25 s), with its own bucket and table on the shared emulator."""
    from deployments.aws import bootstrap
    from deployments.aws.clients import AwsSettings

    tmp_path = tmp_path_factory.mktemp("web")
    aws = AwsSettings(
        region="us-east-1",
        state_bucket="panka-serving-test",
        lock_table="panka-serving-test",
        endpoint_url=emulator.url,
    )
    bootstrap.ensure_state_bucket(aws)
    bootstrap.ensure_lock_table(aws)
    static_root = tmp_path / "staticfiles"
    port = free_port()
    env = production_env(
        tmp_path,
        PANKA_STATIC_MANIFEST="true",
        STATIC_ROOT=str(static_root),
        PANKA_AWS_ENDPOINT_URL=aws.endpoint_url,
        PANKA_STATE_BUCKET=aws.state_bucket,
        PANKA_LOCK_TABLE=aws.lock_table,
        PANKA_ROLE_FILE=str(tmp_path / "role"),
        PANKA_MIGRATE="true",
        PANKA_BIND_HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        PANKA_WEB_THREADS="1",  # the default: sync workers
    )
    collected = manage(env, "collectstatic", "--no-input", "-v", "0")
    assert collected.returncode == 0, collected.stderr
    log = (tmp_path / "gunicorn.log").open("w+")
    process = subprocess.Popen(
        [str(ROOT / "deploy" / "entrypoint.sh"), "web"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_serving(port, process)
        yield {"port": port, "env": env, "static_root": static_root, "log": log, "tmp": tmp_path}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def test_gunicorn_serves_hashed_static_files_compressed_and_cached_for_ever(web_container):
    port, static_root = web_container["port"], web_container["static_root"]
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    for name in ("vendor/editor/panka-editor.js", "css/panka.css"):
        hashed = manifest[name]
        assert re.search(r"\.[0-9a-f]{12}\.(js|css)$", hashed), hashed
        status, headers, body = fetch(port, f"/static/{hashed}", {"Accept-Encoding": "gzip, br"})
        assert status == 200
        assert headers["Content-Encoding"] in ("gzip", "br")
        assert "immutable" in headers["Cache-Control"]
        assert "max-age=315360000" in headers["Cache-Control"]
        assert "Accept-Encoding" in headers["Vary"]
        if headers["Content-Encoding"] == "gzip":
            assert gzip.decompress(body) == (static_root / hashed).read_bytes()
        assert len(body) < (static_root / hashed).stat().st_size
    # The unhashed name may change under the same URL: short caching only.
    status, headers, _ = fetch(port, "/static/css/panka.css")
    assert status == 200
    assert "immutable" not in headers["Cache-Control"]
    # Every page names the icon (else browsers ask /favicon.ico, a 404 in their console).
    _, _, login = fetch(port, "/login/")
    icon = re.search(rb'<link rel="icon" href="([^"]+)"', login).group(1).decode()
    assert icon == f"/static/{manifest['img/favicon.svg']}"
    assert fetch(port, icon)[0] == 200


def test_gunicorn_pages_carry_the_policy_and_security_headers(web_container):
    port = web_container["port"]
    status, headers, body = fetch(port, "/login/")
    assert status == 200
    policy = headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([A-Za-z0-9+/=]+)'", policy).group(1)
    assert f'<meta name="csp-nonce" content="{nonce}">' in body.decode()
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("csrftoken=") and "Secure" in cookie
    # Static files carry the policy too: every response has it.
    assert "Content-Security-Policy" in fetch(port, "/static/css/panka.css")[1]

    # Plain HTTP (the proxy did not say https) is sent to https://, except the health check,
    # which the container's probe asks over plain HTTP.
    status, headers, _ = fetch(port, "/login/", https=False)
    assert status == 301
    assert headers["Location"] == f"https://{HOST}/login/"
    status, headers, body = fetch(port, "/healthz", https=False)
    assert status == 200, body
    assert json.loads(body)["healthy"] is True


def test_the_image_health_probe_passes_and_the_access_log_shows_requests(web_container):
    env, tmp_path = web_container["env"], web_container["tmp"]
    probe = subprocess.run(
        [sys.executable, "-m", "panka_web.probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert probe.returncode == 0, probe.stdout + probe.stderr
    assert "/healthz answered 200" in probe.stdout
    assert (tmp_path / "role").read_text().strip() == "web"
    log = web_container["log"]
    log.flush()
    access = Path(log.name).read_text()
    assert re.search(r'"GET /healthz HTTP/1.1" 200 \d+ \d+ms', access), access[-2000:]


# --- the probe on its own -------------------------------------------------------------


def run_probe(tmp_path: Path, role: str | None, **env: str) -> subprocess.CompletedProcess[str]:
    role_file = tmp_path / "role"
    if role is not None:
        role_file.write_text(role + "\n")
    return subprocess.run(
        [sys.executable, "-m", "panka_web.probe"],
        cwd=ROOT,
        env=clean_env(tmp_path, PANKA_ROLE_FILE=str(role_file), **env),
        capture_output=True,
        text=True,
        timeout=30,
    )


def _gunicorn_settings(monkeypatch, **env: str) -> dict:
    """panka_web/gunicorn.conf.py's settings, read as gunicorn reads the file."""
    import runpy

    for name in ("WEB_CONCURRENCY", "PANKA_WEB_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "panka_web" / "gunicorn.conf.py"))


def test_gunicorn_starts_without_an_error(web_container):
    """Nothing at start logs an error: the image's master once logged one at every start
    (a control socket under its read-only $HOME), which root on a test machine would not."""
    log = web_container["log"]
    log.flush()
    log.seek(0)
    started = log.read()
    assert "Booting worker" in started
    assert "[ERROR]" not in started, started


def test_gunicorn_makes_no_control_socket(monkeypatch):
    assert _gunicorn_settings(monkeypatch)["control_socket_disable"] is True


def test_gunicorn_runs_sync_workers_unless_threads_are_asked_for(monkeypatch):
    default = _gunicorn_settings(monkeypatch)
    assert (default["worker_class"], default["workers"], default["threads"]) == ("sync", 4, 1)
    threaded = _gunicorn_settings(monkeypatch, PANKA_WEB_THREADS="4", WEB_CONCURRENCY="2")
    assert (threaded["worker_class"], threaded["workers"], threaded["threads"]) == (
        "gthread",
        2,
        4,
    )


def test_the_web_process_aws_calls_end_inside_the_request_timeout(tmp_path, monkeypatch):
    """A sync worker that overruns gunicorn's timeout is killed mid-request: the web
    process's AWS calls (locks, state pages) give up well before it; workers keep their
    patient retries."""
    from deployments.aws import clients

    timeout = _gunicorn_settings(monkeypatch)["timeout"]
    assert clients.worst_case_seconds(clients.REQUEST_CONFIG) < timeout
    assert clients.worst_case_seconds(clients._BOTO_CONFIG) > timeout, "workers stay patient"
    code = (
        "import panka_web.wsgi; from deployments.aws import clients; "
        "from deployments.runtime import aws_settings; "
        "c = clients.client(aws_settings(), 's3').meta.config; "
        "print(c.retries['total_max_attempts'], c.connect_timeout, c.read_timeout)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(tmp_path, PANKA_AWS_ENDPOINT_URL="http://127.0.0.1:9"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.stdout.split() == ["3", "3", "10"], shown.stderr


def test_the_probe_fails_a_web_container_that_does_not_answer(tmp_path):
    result = run_probe(tmp_path, "web", PORT=str(free_port()))
    assert result.returncode == 1
    assert "no answer on 127.0.0.1" in result.stdout


def test_the_probe_passes_a_one_off_command(tmp_path):
    assert run_probe(tmp_path, None).returncode == 0


def test_the_probe_checks_that_a_worker_still_has_its_cluster(tmp_path):
    # A stand-in for `manage.py worker`: a parent with children, then one without.
    parent = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & wait"], start_new_session=True)
    lonely = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        time.sleep(0.5)
        ok = run_probe(tmp_path, "worker", PANKA_PROBE_PID=str(parent.pid))
        assert ok.returncode == 0, ok.stdout
        assert "2 cluster processes" in ok.stdout
        dead = run_probe(tmp_path, "worker", PANKA_PROBE_PID=str(lonely.pid))
        assert dead.returncode == 1
        assert "no cluster processes" in dead.stdout
    finally:
        for process in (parent, lonely):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_entry_point_runs_any_other_command_as_given(tmp_path):
    result = subprocess.run(
        [str(ROOT / "deploy" / "entrypoint.sh"), "python", "-c", "print('as given')"],
        cwd=ROOT,
        env=clean_env(tmp_path, PANKA_ROLE_FILE=str(tmp_path / "role")),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "as given"
    assert not (tmp_path / "role").exists(), "a one-off command is no web or worker"


# --- the image and the compose example (read: no Docker daemon in CI) -------------------


def test_the_dockerfile_is_multi_stage_non_root_and_health_checked():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)$", text, flags=re.M)
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    assert "collectstatic" in text.split("AS runtime", 1)[0]
    assert re.search(r"^USER panka", runtime, flags=re.M)
    assert "COPY --from=build /venv /venv" in runtime
    assert 'CMD ["python", "-m", "panka_web.probe"]' in runtime
    assert 'ENTRYPOINT ["/bin/sh", "/app/deploy/entrypoint.sh"]' in runtime
    assert "apt-get" not in runtime, "nothing installed in the runtime image"
    ignored = (ROOT / ".dockerignore").read_text().split()
    for secret_or_local in (".env", ".venv", "var", ".git"):
        assert secret_or_local in ignored


def test_the_image_needs_no_emulator(tmp_path):
    """The image installs the project without the `emulator` extra: the web app, the
    worker and the management commands import and answer `check --deploy` without moto."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith(("moto", "time-machine"))]
    assert {"moto", "time-machine"} <= {
        re.split(r"[\[<>=]", d)[0] for d in project["optional-dependencies"]["emulator"]
    }
    code = (
        "import sys; sys.modules['moto'] = sys.modules['time_machine'] = None\n"
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'panka_web.settings'\n"
        "django.setup()\n"
        "import panka_web.wsgi, panka_web.urls, panka_web.probe, deployments.tasks, "
        "deployments.network_tasks, deployments.management.commands.worker\n"
        "from django.core.management import call_command; call_command('check', deploy=True)\n"
        "print('imported without moto')"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=production_env(tmp_path),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "imported without moto" in shown.stdout


def test_the_compose_example_runs_web_two_workers_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.example.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker"}
    assert services["web"]["command"] == ["web"]
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["web"]["environment"]["PANKA_MIGRATE"] == "true"
    assert "PANKA_MIGRATE" not in services["worker"]["environment"]
    for name, service in services.items():
        assert "test" in service["healthcheck"], name
    web_deps = services["web"]["depends_on"]
    assert {k: v["condition"] for k, v in web_deps.items()} == {
        "postgres": "service_healthy",
        "redis": "service_healthy",
    }
    assert services["worker"]["depends_on"]["web"]["condition"] == "service_healthy"
    env = services["worker"]["environment"]
    assert (
        env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    )
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert "PANKA_AWS_ENDPOINT_URL" not in env, "the example deploys to real AWS"
    # Every variable of ours the example sets is one the code reads.
    code = "".join(
        (ROOT / path).read_text()
        for path in (
            "panka_web/settings.py",
            "panka_web/gunicorn.conf.py",
            "deploy/entrypoint.sh",
        )
    )
    for name in {*services["web"]["environment"], *env}:
        if name.startswith(("PANKA_", "WEB_", "FORWARDED_")):
            assert f'"{name}"' in code or f"{name}:" in code or f"'{name}'" in code, name
