import os

from django.core.wsgi import get_wsgi_application

from deployments.aws.clients import serve_requests
from panka_web.gc_tuning import tune_gc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panka_web.settings")
application = get_wsgi_application()
# This process answers people: its AWS calls must end inside gunicorn's request timeout.
serve_requests()
# After the app is loaded, so that what it loaded is frozen (panka_web/gc_tuning.py).
tune_gc()
