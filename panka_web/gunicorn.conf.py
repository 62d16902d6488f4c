"""gunicorn settings for production: ``gunicorn -c panka_web/gunicorn.conf.py``.

Everything comes from the environment, read as strictly as the Django settings (a bad
value stops gunicorn at start, naming the variable):

- ``PORT`` (8000) and ``PANKA_BIND_HOST`` (0.0.0.0, as a container needs; 127.0.0.1 on a
  shared host behind a local proxy).
- ``WEB_CONCURRENCY`` (4) worker processes, each serving one request at a time (gunicorn's
  sync workers). A page here is mostly CPU (the database answers in well under a
  millisecond; rendering takes the rest): threads of one CPython process only take turns
  on it, and kept-alive connections stay with one process however busy it is. ``make
  bench-pages --compare-threads 4`` (README, Benchmarks), 20 clients, one run with this
  file's 5 s keep-alive: about the same throughput from 2 sync workers as from 2 gthread
  workers of 4 threads, and a lower p95 on every page (89-106 ms against 100-207 ms on
  the eight database list pages; 391 against 562 ms on the locks page). The price: a
  request that waits on AWS (the state and lock pages) holds its process meanwhile,
  hence more processes than cores by default (the locks page, which waits on DynamoDB,
  served 75 requests/s from 4 sync workers, 62-84 from 2, in separate runs).
  ``PANKA_WEB_THREADS`` > 1 switches to gthread workers of that many threads. Sync
  workers read a slow client's request and write to it while holding the process, so
  they need a proxy in front that buffers both (nginx does by default); behind one that
  streams (Caddy does by default), run gthread workers (``PANKA_WEB_THREADS=4``).
- ``PANKA_WEB_TIMEOUT`` (60 s): a request that runs longer is killed (a sync worker with
  it). Deployments run in the workers, never in a request; a request's AWS calls give up
  within 42 s (deployments.aws.clients.REQUEST_CONFIG, the web process's default); the
  largest answer, an audit export, took 3 s for 100,000 events (34 MiB) here.
- ``FORWARDED_ALLOW_IPS`` (127.0.0.1,::1): the proxies whose X-Forwarded-* headers
  gunicorn believes; ``*`` only when the proxy is the sole way in (the compose example).
- ``LOG_LEVEL`` (INFO). The access log goes to stdout, one line per request with its
  duration in milliseconds; errors go to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

# gunicorn executes this file before it imports the app: make the project importable.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from panka_web.env import Env  # noqa: E402

_env = Env()

wsgi_app = "panka_web.wsgi:application"
bind = [
    f"{_env.str('PANKA_BIND_HOST', '0.0.0.0')}:{_env.int('PORT', 8000, minimum=1, maximum=65535)}"
]
workers = _env.int("WEB_CONCURRENCY", 4, minimum=1, maximum=64)
threads = _env.int("PANKA_WEB_THREADS", 1, minimum=1, maximum=64)
worker_class = "sync" if threads == 1 else "gthread"
timeout = _env.int("PANKA_WEB_TIMEOUT", 60, minimum=5, maximum=3600)
graceful_timeout = 30  # a stop lets requests in flight finish
keepalive = 5  # gthread only (sync workers close each connection): for a proxy that reuses them
# A fresh process now and then bounds any slow growth of memory; the jitter keeps the
# workers from restarting all at once.
max_requests = 5000
max_requests_jitter = 500
forwarded_allow_ips = _env.str("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = "-"
errorlog = "-"
loglevel = _env.str("LOG_LEVEL", "INFO").lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'

# The workers' heartbeat files: in memory where there is /dev/shm (a container's /tmp
# may sit on a slow overlay filesystem, which makes gunicorn think workers hang).
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"

# No control socket (gunicorn 25+'s ``gunicornc`` interface): by default it is created
# under $HOME, which in the image is the code's read-only directory (the master logged
# "Control server error: Permission denied" at every start, found by running the image:
# tools/image_rehearsal.sh). Workers are added and removed by restarting with another
# WEB_CONCURRENCY, or by the orchestrator.
control_socket_disable = True
