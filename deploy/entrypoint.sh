#!/bin/sh
# The image's entry point: one image, and the first argument says what this container is.
#   web [gunicorn options]     gunicorn on $PORT (PANKA_MIGRATE=true: migrate first)
#   worker [worker options]    a django-q2 worker (manage.py worker)
#   anything else              run as given, e.g. `python manage.py createsuperuser`
# The role goes to $PANKA_ROLE_FILE, where the HEALTHCHECK (panka_web/probe.py) reads it.
set -eu

role_file="${PANKA_ROLE_FILE:-/tmp/panka-role}"

is_true() {
  case "$(printf '%s' "${1:-}" | tr '[:upper:]' '[:lower:]')" in
    1 | true | yes | on) return 0 ;;
    *) return 1 ;;
  esac
}

case "${1:-web}" in
  web)
    [ "$#" -gt 0 ] && shift
    printf 'web\n' >"$role_file"
    if is_true "${PANKA_MIGRATE:-false}"; then
      # One service only (the compose example's web): two migrating at once can collide.
      python manage.py migrate --no-input
    fi
    if is_true "${PANKA_AWS_BOOTSTRAP:-false}"; then
      # Creates the state bucket and lock table if missing: needs the IAM rights to do so.
      python manage.py aws_bootstrap
    fi
    exec gunicorn -c panka_web/gunicorn.conf.py "$@"
    ;;
  worker)
    shift
    printf 'worker\n' >"$role_file"
    exec python manage.py worker "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
