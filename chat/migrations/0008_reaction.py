"""Reactions: one row per (message, user, emoji).

On MariaDB the emoji column compares byte for byte: the database's utf8mb4_unicode_ci weighs
every character outside the BMP alike, so "👍" = "😂" and the unique constraint would refuse a
second, different reaction (the column is remade with its index).
"""

import importlib

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

SEARCH = importlib.import_module("chat.migrations.0005_message_search")
EMOJI_BINARY = "ALTER TABLE chat_reaction MODIFY emoji varchar(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0007_message_body_html_mention"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Reaction",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("emoji", models.CharField(max_length=32)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="reactions", to="chat.message"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reactions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("message", "user", "emoji"), name="chat_reaction_message_user_emoji"
                    )
                ],
            },
        ),
        SEARCH.RunSQLOn("mysql", EMOJI_BINARY, migrations.RunSQL.noop),
    ]
