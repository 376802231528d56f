"""model_rows: instances made from a written-out statement's rows equal the ORM's, on every database."""

import datetime

import pytest
from django.utils import timezone

from chat.models import Room
from chat.rooms import room_get_or_create
from site_config.model_rows import ModelRows, rows_read


@pytest.mark.django_db
def test_a_row_becomes_the_instance_the_orm_would_make():
    """Every field's value and type (the backend's converters: SQLite's datetimes and booleans,
    MariaDB's booleans), loaded from the database, not adding."""
    room = room_get_or_create(name="Café")[0]
    Room.objects.filter(pk=room.pk).update(archived_at=timezone.now() - datetime.timedelta(days=1), last_seq=7)
    rows = ModelRows(Room)
    sql = f"SELECT {rows.columns('r')} FROM {Room._meta.db_table} r WHERE r.id = %s"
    made = rows.make(rows_read(sql, [room.pk])[0])
    orm = Room.objects.get(pk=room.pk)
    for field in Room._meta.concrete_fields:
        assert getattr(made, field.attname) == getattr(orm, field.attname), field.name
        assert type(getattr(made, field.attname)) is type(getattr(orm, field.attname)), field.name
    assert made.is_archived and made.archived_at.tzinfo is not None
    assert made._state.adding is False and made._state.db == "default"


@pytest.mark.django_db
def test_no_row_no_instance():
    rows = ModelRows(Room)
    assert rows_read(f"SELECT {rows.columns('r')} FROM {Room._meta.db_table} r WHERE r.id = %s", [-1]) == []
