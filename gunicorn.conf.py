"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py`.

Every value can be set from the environment; WEB_CONCURRENCY (workers) is read by gunicorn
itself. Workers are uvicorn's, from the `uvicorn-worker` package (the `uvicorn.workers` path
is deprecated), with the options of site_config/workers.py: uvicorn's sans-I/O websockets
protocol, frames capped at CHAT_FRAME_MAX_BYTES, and a deadline and size limit on each request
head (SERVER_HEADER_TIMEOUT_SECONDS, SERVER_HEADER_MAX_BYTES; gunicorn's own `limit_request_*`
settings apply only to its own HTTP parser, not to uvicorn's). On SIGTERM a worker stops
accepting, closes its WebSockets with 1012 ("service restart": htmx's ws extension reconnects,
to another worker) and exits within `graceful_timeout`.
"""

import multiprocessing
import os

wsgi_app = "site_config.asgi:application"
worker_class = "site_config.workers.TertuliaWorker"
bind = os.environ.get("GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "10"))
# A worker busy past this is restarted; WebSockets are long-lived, but the worker's heartbeat
# to the master is independent of them.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# How long an idle keep-alive connection waits for its next request (uvicorn's
# timeout_keep_alive); the request head then has SERVER_HEADER_TIMEOUT_SECONDS.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# One line per HTTP request and per WebSocket handshake, to standard error.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Trust X-Forwarded-* from the reverse proxy in front (same host by default).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
