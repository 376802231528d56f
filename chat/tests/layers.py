"""Channel layers that misbehave on purpose, as real ones can (channels-redis drops over
capacity and does not promise order across senders): for the reliability tests."""

from channels.layers import InMemoryChannelLayer


class LossyLayer(InMemoryChannelLayer):
    """Loses every second `chat.message` group event."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.message_events = 0

    async def group_send(self, group, message):
        if message.get("type") == "chat.message":
            self.message_events += 1
            if self.message_events % 2 == 0:
                return
        await super().group_send(group, message)


class ReorderingLayer(InMemoryChannelLayer):
    """Holds each odd `chat.message` group event back and delivers it after the next one."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.held = None

    async def group_send(self, group, message):
        if message.get("type") != "chat.message":
            await super().group_send(group, message)
        elif self.held is None:
            self.held = (group, message)
        else:
            await super().group_send(group, message)
            await super().group_send(*self.held)
            self.held = None
