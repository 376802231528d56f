"""Tertulia settings, read from the environment with zero-set-up development defaults.

Without any variable set, Tertulia runs on a SQLite file and the in-memory channel layer, with
DEBUG on and only local host names allowed. See the README's "Configuration" table.
"""

import os
from pathlib import Path

from csp.constants import NONCE, NONE, SELF, UNSAFE_EVAL
from django.core.exceptions import ImproperlyConfigured

from site_config.stores import caches, channel_layers, databases, env_bool, env_list, storages

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", True)

# The development key is only ever used with DEBUG on; production must bring its own.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-tertulia-development-only-key"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# Behind a TLS-terminating proxy (the production default): the proxy says the request was
# HTTPS; cookies are secure, plain HTTP is redirected, and HSTS is sent. Each can be switched.
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 31_536_000 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", HTTPS)
# /healthz is polled by load balancers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

INSTALLED_APPS = [
    # daphne first: its runserver serves the ASGI app (HTTP and WebSocket). `make run` serves
    # with uvicorn instead, as production does (site_config/workers.py).
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "template_partials",
    "widget_tweaks",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "accounts",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "site_config.page_auth.PageAuthenticationMiddleware",  # Django's, remembering reads
    "accounts.middleware.PreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires (its lockout response)
]

# Log-in attempts are limited by django-axes: after AXES_FAILURE_LIMIT failures for one
# username from one address, that pair is locked out for AXES_COOLOFF_TIME hours. Failures from
# one address across usernames (password spraying) are limited by ACCOUNTS_LOGIN_FAILURE_RATE_LIMITS
# below: axes compares its largest count with one limit, so it cannot hold a higher one per address.
# Both read the client's address from REMOTE_ADDR: behind a proxy the ASGI server must be told to
# trust its X-Forwarded-For (docs/deployment.md), or every client is the proxy.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.ProfileModelBackend",  # Django's ModelBackend, reading the profile with the user
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Per client address, in the `limits` library's notation (";"-separated), counted in Redis when
# REDIS_URL is set (accounts/ratelimits.py): failed log-ins whatever the username, and accounts
# made. This machine's own addresses (loopback) are not limited.
ACCOUNTS_LOGIN_FAILURE_RATE_LIMITS = os.environ.get("ACCOUNTS_LOGIN_FAILURE_RATE_LIMITS", "30/hour")
ACCOUNTS_SIGNUP_RATE_LIMITS = os.environ.get("ACCOUNTS_SIGNUP_RATE_LIMITS", "5/hour")

ROOT_URLCONF = "site_config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {  # the log line's and presence's templates: Jinja2, rendered per message and connect (chat/templating.py)
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "OPTIONS": {"environment": "chat.templating.environment"},
    },
]

ASGI_APPLICATION = "site_config.asgi.application"

# The database, channel layer and cache (site_config/stores.py); sessions (site_config/sessions.py).
SESSION_ENGINE = "site_config.sessions"
DATABASES = databases(base_dir=BASE_DIR, debug=DEBUG)
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_SENTINELS = env_list("REDIS_SENTINELS", "")
CHANNEL_LAYERS = channel_layers(redis_url=REDIS_URL, sentinels=REDIS_SENTINELS)
CACHES = caches(base_dir=BASE_DIR, redis_url=REDIS_URL)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "chat:room_list"
LOGOUT_REDIRECT_URL = "accounts:login"

# Email (password reset links): through the SMTP server DJANGO_EMAIL_HOST when it is set;
# without it, printed on the console in development, and in production handed to Django's
# default, a mail server on this machine (localhost:25). A failed send is logged, not shown.
if os.environ.get("DJANGO_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["DJANGO_EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", True)
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Tertulia <noreply@localhost>")

LANGUAGE_CODE = "en-us"
LANGUAGES = [("es", "Español"), ("en", "English")]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]  # compiled by the Makefile; message times: site_config/formats/
FORMAT_MODULE_PATH = ["site_config.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Production serves collected files, compressed, hash-named and cached forever; development, the
# sources. Attachments go to the default storage: media/, or what the environment names.
STORAGES = storages(base_dir=BASE_DIR, debug=DEBUG)
if not DEBUG:
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CRISPY_ALLOWED_TEMPLATE_PACKS = CRISPY_TEMPLATE_PACK = "bootstrap5"

# How many of the latest messages the room page opens on (and the most a reconnecting page
# is sent to append: past that, its log is replaced by the latest ones).
CHAT_HISTORY_LIMIT = int(os.environ.get("CHAT_HISTORY_LIMIT", "50"))
# How often an open room page re-sends its cursor, so that a message whose live event was lost
# (with no later one to reveal the gap) still arrives within this many seconds.
CHAT_SYNC_SECONDS = int(os.environ.get("CHAT_SYNC_SECONDS", "25"))
# How often each open room page is told, fresh, that its socket is alive and who is online; a
# page that hears nothing for twice that and 5 s more says "Reconnecting…" (chat/heartbeat.py).
CHAT_HEARTBEAT_SECONDS = float(os.environ.get("CHAT_HEARTBEAT_SECONDS", "10"))
# How long a socket stays "online" in a room after its last heartbeat (its page's sync, every
# CHAT_SYNC_SECONDS): long enough for a background tab, whose timers browsers slow to once a
# minute; short enough that the sockets of a crashed worker soon stop counting.
CHAT_PRESENCE_TTL_SECONDS = int(os.environ.get("CHAT_PRESENCE_TTL_SECONDS", "90"))
# A room's "online now" pushes, per process: at least this many seconds apart, and at most this
# many copies (one per socket on the room's page) a second, so that they stay cheap in big rooms.
CHAT_PRESENCE_PUSH_SECONDS = float(os.environ.get("CHAT_PRESENCE_PUSH_SECONDS", "0.5"))
CHAT_PRESENCE_PUSH_RATE = float(os.environ.get("CHAT_PRESENCE_PUSH_RATE", "200"))
# A frame larger than this is refused with an error (a 4,000-character message in 4-byte
# characters, with its JSON, fits).
CHAT_FRAME_MAX_BYTES = int(os.environ.get("CHAT_FRAME_MAX_BYTES", "32768"))
# Frames one room socket may send: a sustained rate a second and a burst. Frames over it are
# dropped; a socket that goes on sending as many again with none left is closed (1008).
CHAT_FRAME_RATE = float(os.environ.get("CHAT_FRAME_RATE", "10"))
CHAT_FRAME_BURST = int(os.environ.get("CHAT_FRAME_BURST", "40"))
# At most one "is typing" push per user and room this often, from each process.
CHAT_TYPING_SECONDS = float(os.environ.get("CHAT_TYPING_SECONDS", "2.5"))
# Per-user posting limits, a burst and a sustained rate (`limits` notation, ";"-separated).
CHAT_MESSAGE_RATE_LIMITS = os.environ.get("CHAT_MESSAGE_RATE_LIMITS", "5/5seconds;30/minute")
# Rooms created and invitations sent, per user and per client address (`limits` notation).
CHAT_ROOM_CREATE_RATE_LIMITS = os.environ.get("CHAT_ROOM_CREATE_RATE_LIMITS", "10/hour")
CHAT_INVITE_RATE_LIMITS = os.environ.get("CHAT_INVITE_RATE_LIMITS", "60/hour")
# How long /healthz waits for the database and for a channel-layer round trip, each.
HEALTHZ_TIMEOUT_SECONDS = float(os.environ.get("HEALTHZ_TIMEOUT_SECONDS", "1"))

# Limits on each HTTP request's head (request line and headers; a WebSocket handshake is one),
# which uvicorn lacks and site_config/workers.py adds: the seconds a client has to send it (from
# connecting, or from the previous response), and its size in bytes.
SERVER_HEADER_TIMEOUT_SECONDS = float(os.environ.get("SERVER_HEADER_TIMEOUT_SECONDS", "10"))
SERVER_HEADER_MAX_BYTES = int(os.environ.get("SERVER_HEADER_MAX_BYTES", "32768"))
# Whether sockets may compress their frames (permessage-deflate, which browsers offer): a 2 KB
# message push goes as 0.7 KB, and as far less once the socket's context has seen others like
# it; but each copy of a message is compressed for its socket alone, and only uncompressed
# sockets take the hub's direct writes (chat/express.py). In a 1,000-member room: 40 µs of
# server CPU a copy with it, 15 without (docs/performance.md).
SERVER_WS_COMPRESSION = env_bool("SERVER_WS_COMPRESSION", True)

# Content-Security-Policy (django-csp): only this site's own scripts, styles, images, sockets
# ('self' covers same-origin ws: and wss: in CSP Level 3 browsers) and form targets; no inline
# script. 'unsafe-eval' lets htmx compile our templates' hx-trigger filters and hx-on statements
# (README, "No JavaScript of ours"); user text never becomes an attribute. The inline style
# carries the request's nonce; htmx's own indicator style is off (templates/base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        **{"default-src": [SELF], "script-src": [SELF, UNSAFE_EVAL], "style-src": [SELF, NONCE]},
        **{"connect-src": [SELF], "img-src": [SELF, "data:"], "form-action": [SELF]},
        **{"frame-ancestors": [NONE], "base-uri": [NONE], "object-src": [NONE]},
    }
}

# Logs to standard error, for the process manager to collect: requests (the server's access
# log), WebSocket connects and disconnects (chat.consumers) and refused origins (site_config).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "chat": {"level": os.environ.get("TERTULIA_LOG_LEVEL", "INFO")},
        "site_config": {"level": os.environ.get("TERTULIA_LOG_LEVEL", "INFO")},
    },
}
