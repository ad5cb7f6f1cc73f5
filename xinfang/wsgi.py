"""WSGI entry point (`xinfang serve` runs it under gunicorn: `xinfang.wsgi:application`).

Static files are served by WhiteNoise from STATIC_ROOT (var/static, filled by `collectstatic`,
which `xinfang serve` runs at start), with compression and caching headers, so no separate file
server or CDN is needed. With DEBUG it rescans the folder on each request (autorefresh).
"""

import os

# The web entry point is production unless told otherwise: a missing or weak SECRET_KEY, or
# DEBUG, stops it at start (xinfang/settings.py).
os.environ.setdefault("XINFANG_PROFILE", "production")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")

from django.conf import settings  # read after DJANGO_SETTINGS_MODULE is set above
from django.core.wsgi import get_wsgi_application
from whitenoise import WhiteNoise

os.umask(0o077)  # before the settings load: files this process creates 0600, folders 0700

application = WhiteNoise(
    get_wsgi_application(),
    root=settings.STATIC_ROOT,
    prefix=settings.STATIC_URL,
    autorefresh=settings.DEBUG,
    max_age=3600,
)

# 答复知识库: the first request a web process serves starts loading (or building) the similar-reply
# index in the background, so no clerk's reply form waits for it (xinfang/answers/index.py)
from xinfang.answers.index import warming  # noqa: E402 - after Django is set up

application = warming(application)
