import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "chat.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://chat.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with `env` over this one's (less the DJANGO_* ones)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=Path(settings.BASE_DIR),
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_under_the_production_environment():
    """`check --deploy` finds nothing to warn about, not even a warning."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_secret_key_refuses_to_start():
    """With DEBUG off there is no default key: a clear error instead."""
    env = {**PRODUCTION, "DJANGO_SECRET_KEY": ""}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off" in result.stderr


def test_production_behind_tls_proxy_sets_secure_cookies_hsts_and_redirect():
    script = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER)"
    )
    on = manage("shell", "--verbosity", "0", "-c", script, **PRODUCTION)
    off = manage("shell", "--verbosity", "0", "-c", script, **PRODUCTION, DJANGO_HTTPS="false")
    assert on.stdout.split() == ["True", "True", "True", "31536000", "('HTTP_X_FORWARDED_PROTO',", "'https')"]
    assert off.stdout.split()[:4] == ["False", "False", "False", "0"]


@pytest.mark.parametrize(("value", "deflate"), [("", "True"), ("false", "False")])
def test_socket_compression_follows_server_ws_compression(value, deflate):
    """SERVER_WS_COMPRESSION decides whether uvicorn offers permessage-deflate (on by default)."""
    code = "from site_config import workers; print(workers.uvicorn_options()['ws_per_message_deflate'])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(settings.BASE_DIR),
        env={**os.environ, "SERVER_WS_COMPRESSION": value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == deflate, result.stderr
