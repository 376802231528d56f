"""ASGI entry point: HTTP goes to Django, WebSockets to the chat consumers.

WebSockets pass the origin check (the Origin header must be one of the site's own origins:
site_config/websocket.py) and Django's session authentication (site_config/socket_auth.py) before
they reach a consumer.
"""

import gc
import os

from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")
# Django must be set up before anything imports models (the consumers do).
django_asgi_app = get_asgi_application()
if settings.DEBUG:
    # Development under any ASGI server serves static files itself; production has whitenoise.
    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from site_config.socket_auth import HandshakeAuthStack  # noqa: E402
from site_config.websocket import OriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(HandshakeAuthStack(URLRouter(websocket_urlpatterns))),
    }
)

# What start-up made (Django, the apps, the URL and template machinery: some 126,000 objects)
# lives as long as the process: moved out of the cyclic garbage collector's sight, each full
# collection no longer walks it (31 ms of CPU each here, a stall every busy second or so).
# The standard library's advice for long-running servers (gc.freeze); new objects are
# collected as before.
gc.freeze()

# Python 3.11's collector walks its youngest generation every 700 net new container objects,
# and everything (a full collection) whenever what survived since the last full one passes a
# quarter of the long-lived: while a crowd of sockets arrives (about 200 tracked objects each,
# kept open) that is a full walk every second or so, 0.5 s long at 3,000 sockets, and about 4
# walks of each socket's objects in all. With a young generation of 10,000 a full collection
# waits for a million net new objects: 3,000 first connects cost 1.49 ms of server CPU each
# instead of 1.95 (9 full collections, 2.1 s, gone), memory unchanged; a middle collection
# (at most 100,000 objects) takes 40–50 ms. docs/performance.md, "Session 24".
gc.set_threshold(10_000, 10, 10)
