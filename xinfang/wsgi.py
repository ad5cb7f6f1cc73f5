"""WSGI entry point (`xinfang serve` runs it under gunicorn: `xinfang.wsgi:application`).

Static files are served by WhiteNoise from STATIC_ROOT (var/static, filled by `collectstatic`,
which `xinfang serve` runs at start), with compression and caching headers, so no separate file
server or CDN is needed. With DEBUG it rescans the folder on each request (autorefresh).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")

from django.conf import settings  # read after DJANGO_SETTINGS_MODULE is set above
from django.core.wsgi import get_wsgi_application
from whitenoise import WhiteNoise

application = WhiteNoise(
    get_wsgi_application(),
    root=settings.STATIC_ROOT,
    prefix=settings.STATIC_URL,
    autorefresh=settings.DEBUG,
    max_age=3600,
)
