"""Messages keep their formatted HTML (Message.body_html), and who they mention (Mention).

Existing messages are formatted here, without mentions (they named no one when they were sent),
in batches: about 0.5 ms a message, so some ten minutes for a million. SQLite remakes
chat_message to add a NOT NULL column, which drops the search triggers of 0005: they are made
again (chat/tests/test_search.py checks). PostgreSQL and SQLite get an index on
LOWER(auth_user.username), for finding the people a message mentions whatever the case.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SEARCH = importlib.import_module("chat.migrations.0005_message_search")
BATCH = 1000


def format_existing(apps, schema_editor):
    """Fill body_html for every message stored before this migration."""
    from chat.formatting import message_html

    Message = apps.get_model("chat", "Message")
    unformatted = Message.objects.using(schema_editor.connection.alias).filter(body_html="").only("pk", "body")
    batch = []
    for message in unformatted.iterator(chunk_size=BATCH):
        message.body_html = message_html(message.body)
        batch.append(message)
        if len(batch) == BATCH:
            Message.objects.bulk_update(batch, ["body_html"])
            batch = []
    Message.objects.bulk_update(batch, ["body_html"])


TRIGGERS = [
    sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS") for sql in SEARCH.SQLITE.sql if "TRIGGER" in sql
]
# Made again after the column is added, and (migrating back) after it is removed.
SQLITE_TRIGGERS = SEARCH.RunSQLOn("sqlite", TRIGGERS, migrations.RunSQL.noop)
SQLITE_TRIGGERS_BACK = SEARCH.RunSQLOn("sqlite", migrations.RunSQL.noop, TRIGGERS)


# mentions_find looks members up by LOWER(username); MariaDB's case-insensitive collation uses the
# username's own index instead.
USERNAME_LOWER = "CREATE INDEX IF NOT EXISTS chat_auth_user_username_lower ON auth_user (LOWER(username))"
USERNAME_LOWER_DROP = "DROP INDEX IF EXISTS chat_auth_user_username_lower"


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0006_room_last_author"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        SQLITE_TRIGGERS_BACK,
        migrations.AddField(
            model_name="message",
            name="body_html",
            field=models.TextField(db_default="", default="", editable=False),
        ),
        SQLITE_TRIGGERS,
        SEARCH.RunSQLOn("postgresql", USERNAME_LOWER, USERNAME_LOWER_DROP),
        SEARCH.RunSQLOn("sqlite", USERNAME_LOWER, USERNAME_LOWER_DROP),
        migrations.RunPython(format_existing, migrations.RunPython.noop, elidable=True),
        migrations.CreateModel(
            name="Mention",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.PositiveBigIntegerField()),
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="mentions", to="chat.message"
                    ),
                ),
                (
                    "room",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="chat.room"),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mentions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["user", "room", "seq"], name="chat_mention_user_room_seq")],
                "constraints": [models.UniqueConstraint(fields=("user", "message"), name="chat_mention_user_message")],
            },
        ),
    ]
