"""Where Tertulia keeps things, from the environment: the database, the channel layer and the
cache (settings.py calls these once). With nothing set: a SQLite file, the in-memory channel
layer and a file cache, for one process. See the README's "Configuration" table."""

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


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


def databases(*, base_dir: Path, debug: bool) -> dict:
    """DATABASES from DATABASE_URL (default: `base_dir`/db.sqlite3), with each engine's options.

    Under ASGI every request runs its queries on a thread of its own choosing, so persistent
    connections (CONN_MAX_AGE > 0) are not reused reliably and pile up: Django's docs advise 0
    in async mode, with the database's pool instead (DJANGO_DB_POOL, PostgreSQL) or a pooler.
    Writes are explicit transactions in the services, so ATOMIC_REQUESTS stays off.
    """
    default = dj_database_url.config(
        default=f"sqlite:///{base_dir / 'db.sqlite3'}", conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0"))
    )
    engine = default["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        default["OPTIONS"] = {
            # WAL lets readers work while a message is written; IMMEDIATE takes the write lock at
            # BEGIN, so two workers writing at once wait for each other instead of failing.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # A file, not memory: the browser tests' live servers run in other processes.
        default["TEST"] = {"NAME": str(base_dir / "test_db.sqlite3")}
    elif engine == "django.db.backends.postgresql":
        # psycopg's pool: without it every database_sync_to_async call (one per message) opened a
        # new connection, measured as the first cost of a loaded server. Off with DEBUG on, where
        # tests fork live servers that must not inherit pooled sockets.
        if env_bool("DJANGO_DB_POOL", not debug):
            max_size = int(os.environ.get("DJANGO_DB_POOL_MAX_SIZE", "10"))
            default["OPTIONS"] = {"pool": {"min_size": 1, "max_size": max_size}}
    elif engine == "django.db.backends.mysql":
        # utf8mb4: MySQL's "utf8" holds only three bytes a character, and emoji take four.
        default["OPTIONS"] = {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
        default["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return {"default": default}


# Events a process's hub channel (chat.hub) may hold unread: every event for all of its sockets
# goes through it, so it needs far more room than Channels' default of 100 a channel.
HUB_CAPACITY = 100_000


def channel_layers(*, redis_url: str, sentinels: list[str]) -> dict:
    """CHANNEL_LAYERS: channels-redis with `redis_url` (redis:// or TLS rediss://) or, with
    `sentinels` ("host:port" each) and REDIS_SENTINEL_MASTER, through Sentinel; otherwise the
    in-memory layer, which reaches only this process, by design.

    RedisPubSubChannelLayer is the default, on measurements (bench/layers.py, docs/deployment.md):
    one PUBLISH per message and no silent drops, where RedisChannelLayer drops over its
    per-channel capacity. REDIS_CHANNEL_LAYER=core switches.
    """
    if not (redis_url or sentinels):
        # Channels' own, with its expiry sweep made periodic (site_config/layers.py).
        # One channel per process takes every event for its sockets (chat.hub): room for bursts.
        config = {"channel_capacity": {"hub.*": HUB_CAPACITY}}
        return {"default": {"BACKEND": "site_config.layers.InMemoryChannelLayer", "CONFIG": config}}
    if sentinels:
        master = os.environ.get("REDIS_SENTINEL_MASTER", "mymaster")
        host = {"sentinels": [tuple(h.rsplit(":", 1)) for h in sentinels], "master_name": master}
    else:
        host = redis_url
    # Redis's pub/sub channels are shared by all its databases: prefix them with the database's
    # number, so that two sites (or test runs) on one Redis in different databases stay apart.
    database = urlsplit(redis_url).path.strip("/") if redis_url else ""
    prefix = "asgi" if database in ("", "0") else f"asgi-db{database}"
    layer = os.environ.get("REDIS_CHANNEL_LAYER", "pubsub")
    if layer == "pubsub":
        config = {"hosts": [host], "prefix": prefix}
        return {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": config}}
    if layer != "core":
        raise ImproperlyConfigured("REDIS_CHANNEL_LAYER must be 'pubsub' or 'core'.")
    config = {
        "hosts": [host],
        "prefix": prefix,
        "capacity": int(os.environ.get("REDIS_LAYER_CAPACITY", "1000")),
        "channel_capacity": {"hub.*": HUB_CAPACITY},
        "expiry": 60,
        # Sockets live longer than channels-redis' 24-hour default: a member still connected
        # after it would silently stop receiving.
        "group_expiry": int(os.environ.get("REDIS_LAYER_GROUP_EXPIRY", 7 * 86_400)),
    }
    return {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": config}}


def caches(*, base_dir: Path, redis_url: str) -> dict:
    """CACHES: shared by every process, because sockets compare per-user access versions in it
    (chat/access.py): Redis with `redis_url`; otherwise files on this machine, so that a change
    made from another process (manage.py shell, a second server) still reaches the sockets."""
    if redis_url:
        # A Redis that does not answer within a second is taken as away (chat/access.py).
        options = {"socket_timeout": 1, "socket_connect_timeout": 1}
        return {
            "default": {
                "BACKEND": "site_config.redis_cache.RedisCache",  # a client per pool, kept
                "LOCATION": redis_url,
                "OPTIONS": options,
            }
        }
    location = os.environ.get("DJANGO_CACHE_DIR", str(base_dir / ".cache"))
    backend = "site_config.file_cache.FileBasedCache"  # Django's, culled at most every 10 s
    return {"default": {"BACKEND": backend, "LOCATION": location, "OPTIONS": {"MAX_ENTRIES": 100_000}}}


def storages(*, base_dir: Path, debug: bool) -> dict:
    """STORAGES: static files (collected, compressed and hash-named unless `debug`) and the default
    storage, where attachments go: files under `base_dir`/media (DJANGO_MEDIA_ROOT to move it),
    or any storage class named by DJANGO_DEFAULT_STORAGE with the JSON object
    DJANGO_DEFAULT_STORAGE_OPTIONS as its options, e.g. django-storages' S3 backend
    ("storages.backends.s3.S3Storage"; docs/deployment.md, "Attachments"). Attachments are
    never served from the storage's own URLs (chat.attachment_views checks the reader)."""
    backend = os.environ.get("DJANGO_DEFAULT_STORAGE", "")
    if backend:
        options = json.loads(os.environ.get("DJANGO_DEFAULT_STORAGE_OPTIONS", "{}"))
        default = {"BACKEND": backend, "OPTIONS": options}
    else:
        location = os.environ.get("DJANGO_MEDIA_ROOT") or str(base_dir / "media")
        default = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": location}}
    static = "django.contrib.staticfiles.storage.StaticFilesStorage"
    if not debug:
        static = "whitenoise.storage.CompressedManifestStaticFilesStorage"
    return {"default": default, "staticfiles": {"BACKEND": static}}
