from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self):
        # signals connects the receivers; reactions registers its push's renderer (chat.variants).
        from . import reactions, signals  # noqa: F401
