# One image for the web server and the workers; the command chooses.
#   docker build -t panka-web .
#   docker run -p 8000:8000 --env-file panka.env panka-web                 # web (gunicorn)
#   docker run --env-file panka.env panka-web python manage.py worker      # a worker

FROM python:3.11-slim AS build
WORKDIR /app
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /venv
COPY pyproject.toml constraints.txt ./
# Only the pinned dependencies (the project itself is not a package), before the code is
# copied, so a code change does not invalidate this layer.
RUN /venv/bin/pip install -c constraints.txt .
COPY . .
ENV PANKA_STATIC_MANIFEST=true
RUN SECRET_KEY=collectstatic-only PANKA_DATA_DIR=/tmp/var /venv/bin/python manage.py collectstatic --no-input -v 0

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 panka
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build --chown=panka:panka /app /app
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PANKA_DATA_DIR=/app/var PANKA_STATIC_MANIFEST=true
USER panka
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["gunicorn", "panka_web.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", "--access-logfile", "-"]
