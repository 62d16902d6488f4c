# One image for the web server and the workers; the first argument chooses
# (deploy/entrypoint.sh):
#   docker build -t panka-web .
#   docker run -p 8000:8000 --env-file panka.env panka-web              # web (gunicorn)
#   docker run --env-file panka.env panka-web worker                     # a worker
#   docker run --rm -it --env-file panka.env panka-web python manage.py createsuperuser
# A whole deployment (web, 2 workers, PostgreSQL, Redis): deploy/compose.example.yaml.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the virtualenv and the collected static files ----------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /venv
WORKDIR /app
# Only the pinned dependencies first (the project itself is not a package), so a code
# change does not invalidate this layer. Every dependency has a manylinux wheel
# (psycopg[binary] included): no compiler in this stage either.
COPY pyproject.toml constraints.txt ./
RUN /venv/bin/pip install -c constraints.txt .
COPY . .
# Hashed, compressed files for whitenoise's far-future caching. The key only lets the
# settings load; it is not in the final image's environment.
RUN PANKA_STATIC_MANIFEST=true SECRET_KEY=collectstatic-only-not-a-secret \
    PANKA_DATA_DIR=/tmp/var STATIC_ROOT=/app/staticfiles \
    /venv/bin/python manage.py collectstatic --no-input -v 0 \
 && rm -rf /tmp/var

# --- runtime: the venv and the app, run by an unprivileged user ----------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PANKA_DATA_DIR=/app/var \
    PANKA_STATIC_MANIFEST=true \
    STATIC_ROOT=/app/staticfiles \
    PORT=8000
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
    --shell /usr/sbin/nologin panka
WORKDIR /app
COPY --from=build /venv /venv
# The code stays root's and read-only to the app: only var/ (SQLite and the generated
# SECRET_KEY, when no DATABASE_URL / SECRET_KEY is given) is writable.
COPY --from=build /app /app
RUN mkdir -p /app/var && chown panka:panka /app/var
USER panka:panka
EXPOSE 8000
# python, not curl (the slim image has none): see panka_web/probe.py. The start period
# covers migrations (PANKA_MIGRATE=true) and the worker's AWS preflight.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-m", "panka_web.probe"]
# Through sh, so a checkout that lost the file's exec bit still starts; the script execs
# gunicorn or the worker, which then is PID 1 and gets Docker's SIGTERM itself.
ENTRYPOINT ["/bin/sh", "/app/deploy/entrypoint.sh"]
CMD ["web"]
