import os

from django.core.wsgi import get_wsgi_application

from panka_web.gc_tuning import tune_gc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panka_web.settings")
application = get_wsgi_application()
# After the app is loaded, so that what it loaded is frozen (panka_web/gc_tuning.py).
tune_gc()
