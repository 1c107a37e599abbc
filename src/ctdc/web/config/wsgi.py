import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctdc.web.config.settings.base")
application = get_wsgi_application()

# A production server with its keys in the data folder does not start (ctdc.web.security.checks, ctdc.E001).
from ctdc.web.security.checks import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()
