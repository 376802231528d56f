from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Membership, Message, MessageRevision, Room
from .rooms import room_archive


class MembershipInline(admin.TabularInline):
    model = Membership
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "is_private",
        "is_direct",
        "archived_at",
        "created_by",
        "created_at",
        "last_message_at",
    ]
    search_fields = ["name", "slug"]
    list_filter = [
        "is_private",
        ("direct_key", admin.EmptyFieldListFilter),
        ("archived_at", admin.EmptyFieldListFilter),
        "created_at",
        "last_message_at",
    ]
    inlines = [MembershipInline]
    autocomplete_fields = ["created_by"]
    date_hierarchy = "created_at"
    readonly_fields = ["last_message_at", "archived_at"]
    actions = ["archive", "restore"]

    @admin.display(boolean=True, description=_("Direct"))
    def is_direct(self, room: Room) -> bool:
        return room.is_direct

    @admin.action(description=_("Archive selected rooms (read-only)"))
    def archive(self, request, queryset):
        with transaction.atomic():
            rooms = [room_archive(room=room) for room in queryset.filter(archived_at=None)]
        done = ngettext(
            "Archived %(count)d room: no one can post in it now.",
            "Archived %(count)d rooms: no one can post in them now.",
            len(rooms),
        )
        self.message_user(request, done % {"count": len(rooms)}, messages.SUCCESS)

    @admin.action(description=_("Restore selected archived rooms"))
    def restore(self, request, queryset):
        with transaction.atomic():
            rooms = [room_archive(room=room, archived=False) for room in queryset.exclude(archived_at=None)]
        done = ngettext("Restored %(count)d room.", "Restored %(count)d rooms.", len(rooms))
        self.message_user(request, done % {"count": len(rooms)}, messages.SUCCESS)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "room", "author", "created_at", "excerpt"]
    list_select_related = ["room", "author"]
    search_fields = ["body", "author__username", "room__name", "room__slug"]
    list_filter = ["room", "author", "created_at"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["room", "author"]
    ordering = ["-id"]

    @admin.display(description=_("Message"))
    def excerpt(self, message: Message) -> str:
        return message.body[:80]


class MessageRevisionInline(admin.TabularInline):
    """A message's edits and deletion, with the text before each: read-only (chat.edits writes them)."""

    model = MessageRevision
    fields = ["change_seq", "kind", "actor", "at", "body_before"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


MessageAdmin.inlines = [*MessageAdmin.inlines, MessageRevisionInline]


@admin.register(MessageRevision)
class MessageRevisionAdmin(admin.ModelAdmin):
    """Who changed which message, and what it said before: the audit trail, read-only."""

    list_display = ["at", "kind", "actor", "message", "room", "change_seq"]
    list_select_related = ["actor", "message__author", "message__room", "room"]
    list_filter = ["kind", "at"]
    search_fields = ["body_before", "actor__username", "room__slug"]
    date_hierarchy = "at"
    ordering = ["-id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
