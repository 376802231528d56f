from django.conf import settings
from django.db import migrations, models


def number_existing_messages(apps, schema_editor):
    """Give each room's existing messages seq 1, 2, 3... in id order."""
    Room = apps.get_model("chat", "Room")
    Message = apps.get_model("chat", "Message")
    for room in Room.objects.all():
        seq = 0
        for message in Message.objects.filter(room=room).order_by("id").only("id"):
            seq += 1
            Message.objects.filter(pk=message.pk).update(seq=seq)
        Room.objects.filter(pk=room.pk).update(last_seq=seq)


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="message", name="chat_message_room_id"),
        migrations.AlterModelOptions(name="message", options={"ordering": ["room", "seq"]}),
        migrations.AddField(
            model_name="room",
            name="last_seq",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="message",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="message",
            name="client_key",
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(number_existing_messages, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="message",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(fields=("room", "seq"), name="chat_message_room_seq"),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(
                fields=("author", "client_key"), name="chat_message_author_client_key"
            ),
        ),
    ]
