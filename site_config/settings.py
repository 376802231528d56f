"""Tertulia settings, read from the environment with zero-set-up development defaults.

Without any variable set, Tertulia runs on a SQLite file and the in-memory channel layer, with
DEBUG on and only local host names allowed. See the README's "Configuration" table.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable ("1/true/yes/on" or "0/false/no/off")."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {value!r}")


def env_list(name: str, default: str) -> list[str]:
    """Read a comma-separated environment variable into a list of non-empty items."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


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
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns locked-out log-ins into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# Log-in attempts are limited by django-axes: after AXES_FAILURE_LIMIT failures for one
# username from one address, that pair is locked out for AXES_COOLOFF_TIME hours. Failures from
# one address across usernames (password spraying) are limited by ACCOUNTS_LOGIN_FAILURE_RATE_LIMITS
# below: axes compares its largest count with one limit, so it cannot hold a higher one per address.
# Both read the client's address from REMOTE_ADDR: behind a proxy the ASGI server must be told to
# trust its X-Forwarded-For (docs/deployment.md), or every client is the proxy.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
]

ASGI_APPLICATION = "site_config.asgi.application"

# Under ASGI every request runs its queries on a thread of its own choosing, so persistent
# connections (CONN_MAX_AGE > 0) are not reused reliably and pile up: Django's docs advise 0
# in async mode, with the database's pool instead (DJANGO_DB_POOL, PostgreSQL) or a pooler.
# Writes are explicit transactions in the services (chat/rooms.py, chat/messages.py, ...), so ATOMIC_REQUESTS stays off.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
    )
}
_engine = DATABASES["default"]["ENGINE"]
if _engine == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while a message is written; IMMEDIATE takes the write lock at
        # BEGIN, so two workers writing at once wait for each other instead of failing.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory: the browser tests' live servers run in other processes.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test_db.sqlite3")}
elif _engine == "django.db.backends.postgresql":
    # psycopg's pool: without it every database_sync_to_async call (one per message) opened a
    # new connection, measured as the first cost of a loaded server. Off with DEBUG on, where
    # tests fork live servers that must not inherit pooled sockets.
    if env_bool("DJANGO_DB_POOL", not DEBUG):
        DATABASES["default"]["OPTIONS"] = {
            "pool": {"min_size": 1, "max_size": int(os.environ.get("DJANGO_DB_POOL_MAX_SIZE", "10"))}
        }
elif _engine == "django.db.backends.mysql":
    # utf8mb4: MySQL's "utf8" holds only three bytes a character, and emoji take four.
    DATABASES["default"]["OPTIONS"] = {
        "charset": "utf8mb4",
        "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
    }
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}

# The channel layer. REDIS_URL (redis:// or TLS rediss://) selects channels-redis; with
# REDIS_SENTINELS ("host:port,host:port") and REDIS_SENTINEL_MASTER it finds Redis through
# Sentinel instead. RedisPubSubChannelLayer is the default, on measurements (bench/layers.py
# and the README's "Channel layer" section): one PUBLISH per message and no silent drops, where
# RedisChannelLayer drops over its per-channel capacity. REDIS_CHANNEL_LAYER=core switches.
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_SENTINELS = env_list("REDIS_SENTINELS", "")
if REDIS_URL or REDIS_SENTINELS:
    if REDIS_SENTINELS:
        _redis_host = {
            "sentinels": [tuple(h.rsplit(":", 1)) for h in REDIS_SENTINELS],
            "master_name": os.environ.get("REDIS_SENTINEL_MASTER", "mymaster"),
        }
    else:
        _redis_host = REDIS_URL
    _layer = os.environ.get("REDIS_CHANNEL_LAYER", "pubsub")
    if _layer == "pubsub":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [_redis_host]},
            }
        }
    elif _layer == "core":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [_redis_host],
                    "capacity": int(os.environ.get("REDIS_LAYER_CAPACITY", "1000")),
                    "expiry": 60,
                    # Sockets live longer than channels-redis' 24-hour default: a member still
                    # connected after it would silently stop receiving.
                    "group_expiry": int(os.environ.get("REDIS_LAYER_GROUP_EXPIRY", 7 * 86_400)),
                },
            }
        }
    else:
        raise ImproperlyConfigured("REDIS_CHANNEL_LAYER must be 'pubsub' or 'core'.")
else:
    # One process only: the in-memory layer does not reach other processes, by design.
    # Channels' own, with its expiry sweep made periodic (site_config/layers.py).
    CHANNEL_LAYERS = {"default": {"BACKEND": "site_config.layers.InMemoryChannelLayer"}}

# The cache: shared by every process, because sockets compare per-user access versions in it
# (chat/access.py): Redis with REDIS_URL; otherwise files on this machine, so that a change made
# from another process (manage.py shell, a second server) still reaches the open sockets.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer within a second is taken as away (chat/access.py).
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("DJANGO_CACHE_DIR", str(BASE_DIR / ".cache")),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "chat:room_list"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Production serves collected files, compressed and with hashed names (cached forever);
# development serves them straight from the apps' and project's static folders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
if not DEBUG:
    # In development runserver serves static files itself.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# How many of the latest messages the room page opens on (and the most a reconnecting page
# is sent to append: past that, its log is replaced by the latest ones).
CHAT_HISTORY_LIMIT = int(os.environ.get("CHAT_HISTORY_LIMIT", "50"))
# How often an open room page re-sends its cursor, so that a message whose live event was lost
# (with no later one to reveal the gap) still arrives within this many seconds.
CHAT_SYNC_SECONDS = int(os.environ.get("CHAT_SYNC_SECONDS", "25"))
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

# Content-Security-Policy (django-csp): only this site's own scripts, styles, images, sockets
# ('self' covers same-origin ws: and wss: in CSP Level 3 browsers) and form targets; no inline
# script, no eval. The one inline style (the room page's per-reader rules) carries the request's
# nonce: `<style nonce="{{ request.csp_nonce }}">`. htmx's own indicator style is switched off
# in templates/base.html.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "connect-src": [SELF],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
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
