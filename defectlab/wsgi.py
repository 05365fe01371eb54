import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectlab.settings")
application = get_wsgi_application()
# The loaded code and settings live as long as the process: keep them out of the cyclic collector's full passes,
# which a large request (a big annotation's save or load, bench/geometry_abuse.py) would otherwise make traverse.
gc.freeze()
