import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def patient_health_check(settings):
    """A loaded CI machine can take over the production 1 s for the healthy part."""
    settings.HEALTHZ_TIMEOUT_SECONDS = 5


CLOSED_PORT = 1  # Nothing listens on port 1 here: connections are refused at once.


def test_healthz_is_200_when_database_and_channel_layer_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


@pytest.mark.parametrize(
    "backend", ["channels_redis.pubsub.RedisPubSubChannelLayer", "channels_redis.core.RedisChannelLayer"]
)
def test_healthz_is_503_naming_the_channel_layer_when_redis_is_unreachable(client, settings, backend):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": backend, "CONFIG": {"hosts": [f"redis://127.0.0.1:{CLOSED_PORT}/0"]}}
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["channel_layer"].startswith("failed")


def test_healthz_is_503_naming_the_database_when_it_is_unreachable():
    """A process whose database is down answers 503 with the database named (and the layer ok)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/tertulia",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "HEALTHZ_TIMEOUT_SECONDS": "5",
    }
    env.pop("REDIS_URL", None)
    script = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz'); print(r.status_code); print(r.content.decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(settings.BASE_DIR),
        env={**env, "DJANGO_SETTINGS_MODULE": "site_config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    status, body = result.stdout.strip().splitlines()[-2:]
    assert status == "503", result.stderr
    body = json.loads(body)
    assert body["database"] == "failed"
    assert body["channel_layer"] == "ok"
