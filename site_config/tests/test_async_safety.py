"""Django's async-safety guard is on for every test but the browser tests (which turn it off in
their own process while Chromium runs, e2e/conftest.py), whatever else the run collected: with it
off, a synchronous query in a consumer would pass the suite."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import SynchronousOnlyOperation


@pytest.mark.django_db
async def test_a_synchronous_query_from_async_code_is_refused():
    """The ORM refuses to run in a thread with a running event loop, as in a consumer."""
    with pytest.raises(SynchronousOnlyOperation):
        get_user_model().objects.count()
