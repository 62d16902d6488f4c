"""Django settings, read from the environment (see README "Configuration").

Defaults suit a laptop: SQLite and the django-q2 ORM broker under ``var/``. Every value
is parsed strictly by :mod:`panka_web.env`, so a bad one stops the app at start.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .env import Env

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

DATA_DIR = Path(env.str("PANKA_DATA_DIR", str(BASE_DIR / "var")))


def _secret_key() -> str:
    """SECRET_KEY from the environment; on a laptop, one generated once and kept in var/."""
    value = env.optional_str("SECRET_KEY")
    if value:
        return value
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env.bool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    "csp",
    "tenants",
    "deployments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before whitenoise, so static files carry the policy too: every response has it.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a form value: text with a NUL is refused with a 400.
    "panka_web.nul_input.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A 503 page, not a traceback, while PostgreSQL or Redis is unreachable.
    "panka_web.unavailable.ServiceUnavailableMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with its own response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while a lockout lasts
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one username from one address lock that pair out for 15 minutes
# (django-axes: a maintained library rather than a hand-written counter).
AXES_FAILURE_LIMIT = env.int("PANKA_LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Sessions end after 12 hours (or PANKA_SESSION_HOURS), and with the browser.
SESSION_COOKIE_AGE = env.int("PANKA_SESSION_HOURS", 12, minimum=1, maximum=24 * 30) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

ROOT_URLCONF = "panka_web.urls"
WSGI_APPLICATION = "panka_web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.tenant_switcher",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = env.optional_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'panka.sqlite3'}"
    try:
        # A connection is kept this long (PANKA_DB_CONN_MAX_AGE, seconds; 0 = one per
        # request) and checked before reuse: no connect + PRAGMAs/TLS handshake per request.
        config = dj_database_url.parse(
            url,
            conn_max_age=env.int("PANKA_DB_CONN_MAX_AGE", 60, maximum=24 * 3600),
            conn_health_checks=True,
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not usable: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # The web server and the worker write to one file: WAL lets readers go on while
        # one writes, and IMMEDIATE transactions queue writers instead of failing them.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        Path(str(config["NAME"])).parent.mkdir(parents=True, exist_ok=True)
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# PANKA_STATIC_MANIFEST (the Docker image sets it, before collectstatic and at run time):
# hashed, compressed files served with far-future caching. Without it (make run, tests)
# whitenoise serves straight from the app and project folders.
STATIC_MANIFEST = env.bool("PANKA_STATIC_MANIFEST", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
if not STATIC_MANIFEST:
    # whitenoise warns on every request about a missing STATIC_ROOT; an empty one is fine.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- serving: HTTPS, security headers, request sizes (README "Production") ------------
# Off by default so `make run` works over plain http://127.0.0.1; a production deployment
# turns them on by environment (`manage.py check --deploy` then reports nothing).
# PANKA_HTTPS: browsers reach the site over https://, so cookies are Secure and plain
# http:// requests are redirected (PANKA_SSL_REDIRECT=false leaves redirects to the proxy).
PANKA_HTTPS = env.bool("PANKA_HTTPS", False)
SESSION_COOKIE_SECURE = PANKA_HTTPS
CSRF_COOKIE_SECURE = PANKA_HTTPS
SECURE_SSL_REDIRECT = env.bool("PANKA_SSL_REDIRECT", PANKA_HTTPS)
# The container's health probe asks over plain HTTP on 127.0.0.1: it must get an answer,
# not a redirect to an https:// it cannot follow.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# PANKA_BEHIND_TLS_PROXY: TLS ends at a proxy that sets X-Forwarded-Proto. Only when that
# proxy is the sole way in and overwrites the header, or a client could claim https.
if env.bool("PANKA_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies append to X-Forwarded-For in front of the app (1 behind a TLS proxy): the
# login lockout counts failures per browser address, not per proxy (panka_web/client_ip.py).
PANKA_PROXY_COUNT = env.int(
    "PANKA_PROXY_COUNT", 1 if env.bool("PANKA_BEHIND_TLS_PROXY", False) else 0, maximum=5
)
AXES_CLIENT_IP_CALLABLE = "panka_web.client_ip.client_ip"
# HSTS: browsers refuse plain HTTP for this long once they have seen the header over HTTPS.
# Start small (300), then raise to a year (31536000) once HTTPS is known to work.
SECURE_HSTS_SECONDS = env.int("PANKA_HSTS_SECONDS", 0, maximum=2 * 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("PANKA_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.bool("PANKA_HSTS_PRELOAD", False)
# Django's defaults, spelt out because check --deploy and the tests rely on them.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Request sizes, from the stack limits (deployments/spec/limits.py, format.md §7; not
# imported here: that would load the format engine with the settings; tests/test_serving.py
# checks these against it). Form fields: the editor posts one file's text, so up to a whole stack (2 MiB)
# still reaches the view, which answers 413 with a message; beyond that Django's 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024 + 64 * 1024
# Uploads: any upload within the limits (a 2 MiB zip) stays in memory; a bigger one
# spills to a temporary file and is refused after reading one byte past its limit.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# A stack may have 200 files (Django's default, 100, would refuse a valid upload).
DATA_UPLOAD_MAX_NUMBER_FILES = 200

# Content-Security-Policy (django-csp): our own scripts and styles only; no inline script
# at all, and the only inline <style> is CodeMirror's, which carries the per-request nonce
# (templates/base.html puts it in <meta name="csp-nonce">). htmx's indicator styles are in
# panka.css instead (htmx-config includeIndicatorStyles=false).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- the job queue (django-q2) -------------------------------------------------------
# At-least-once delivery (README "Queue and delivery"): a task may arrive twice, never
# zero times. Duplicates are no-ops (tasks._claim); lost ones are re-sent by the reaper.
REDIS_URL = env.url("REDIS_URL", schemes=("redis", "rediss", "unix"))
# One phase (a plan, or an apply of every level) may take this long; past it, django-q2
# stops the task and the run fails saying so. One RDS wait is at most 40 minutes.
PANKA_TASK_TIMEOUT = env.int("PANKA_TASK_TIMEOUT", 3600, minimum=60, maximum=24 * 3600)
# Times a run may be taken by a worker (plan and apply are one each; waiting for a lock
# someone else holds does not count) before it fails instead of looping on a poison task.
PANKA_MAX_ATTEMPTS = env.int("PANKA_MAX_ATTEMPTS", 5, minimum=2, maximum=100)
# A run that could be taken but was not, this long after it was sent, with no task for it
# in the broker (a worker died holding it, SECRET_KEY changed) is sent again by the reaper.
PANKA_RESEND_AFTER_SECONDS = env.int("PANKA_RESEND_AFTER_SECONDS", 120, minimum=5)
Q_CLUSTER: dict[str, object] = {
    # Also the Redis key prefix and the signing salt: web and workers must agree on it.
    "name": env.name("PANKA_Q_NAME", "panka", pattern=r"[A-Za-z0-9_.-]{1,64}", what="queue name"),
    "workers": env.int("PANKA_WORKERS", 2, minimum=1, maximum=64),
    "timeout": PANKA_TASK_TIMEOUT,
    # retry must exceed timeout, or a long apply would be delivered twice while running.
    "retry": PANKA_TASK_TIMEOUT + 300,
    # django-q2 counts only attempts that ended; ours (PANKA_MAX_ATTEMPTS) count the rest.
    "max_attempts": 1,
    "catch_up": False,
    "ack_failures": True,
    "label": "Jobs",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5

# --- AWS: the state bucket and lock table (format.md §8–9) ----------------------------
PANKA_AWS_ENDPOINT_URL = env.url("PANKA_AWS_ENDPOINT_URL", schemes=("http", "https"))
PANKA_AWS_REGION = env.name(
    "PANKA_AWS_REGION", "us-east-1", pattern=r"[a-z]{2}(-[a-z]+)+-\d", what="AWS region"
)
PANKA_STATE_BUCKET = env.name(
    "PANKA_STATE_BUCKET",
    "panka-state",
    pattern=r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
    what="S3 bucket name",
)
PANKA_LOCK_TABLE = env.name(
    "PANKA_LOCK_TABLE", "panka-locks", pattern=r"[A-Za-z0-9_.-]{3,255}", what="DynamoDB table name"
)
# How long a page listed from AWS (state history, locks) is reused by one web process
# (deployments/listing_cache.py); 0 asks AWS on every view.
PANKA_LIST_CACHE_SECONDS = env.int("PANKA_LIST_CACHE_SECONDS", 1, minimum=0, maximum=60)
# Components of one graph level applied at once, per run.
PANKA_APPLY_PARALLELISM = env.int("PANKA_APPLY_PARALLELISM", 4, minimum=1, maximum=32)
# The stack lock's lease (the reaper waits this long) and its heartbeat, which must leave
# room for one missed beat: under half the lease.
PANKA_LOCK_LEASE_SECONDS = env.int("PANKA_LOCK_LEASE_SECONDS", 300, minimum=10)
PANKA_LOCK_HEARTBEAT_SECONDS = env.int(
    "PANKA_LOCK_HEARTBEAT_SECONDS",
    min(30, PANKA_LOCK_LEASE_SECONDS // 3),
    minimum=1,
    maximum=(PANKA_LOCK_LEASE_SECONDS - 1) // 2,
)
PANKA_RUN_TASKS_INLINE = False  # tests: run tasks in the committing thread
PANKA_EMULATOR_PORT = env.int("PANKA_EMULATOR_PORT", 5055, minimum=1, maximum=65535)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {"botocore": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}
