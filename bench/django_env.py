"""Tertulia's Django for the bench scripts, which run outside manage.py.

    import django_env
    django_env.setup()  # before importing any model

Puts the repository root on sys.path, defaults DJANGO_SETTINGS_MODULE to site_config.settings
(the database is the environment's DATABASE_URL, as for manage.py) and calls django.setup()
once.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
