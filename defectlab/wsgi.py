import os

from django.core.wsgi import get_wsgi_application

from defectlab.serving import collector_tune_for_serving

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectlab.settings")
application = get_wsgi_application()
collector_tune_for_serving()
