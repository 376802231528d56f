from django.contrib import admin, messages
from django.db import transaction

from .models import Membership, Message, Room
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

    @admin.display(boolean=True, description="Direct")
    def is_direct(self, room: Room) -> bool:
        return room.is_direct

    @admin.action(description="Archive selected rooms (read-only)")
    def archive(self, request, queryset):
        with transaction.atomic():
            rooms = [room_archive(room=room) for room in queryset.filter(archived_at=None)]
        self.message_user(request, f"Archived {len(rooms)} room(s): no one can post in them now.", messages.SUCCESS)

    @admin.action(description="Restore selected archived rooms")
    def restore(self, request, queryset):
        with transaction.atomic():
            rooms = [room_archive(room=room, archived=False) for room in queryset.exclude(archived_at=None)]
        self.message_user(request, f"Restored {len(rooms)} room(s).", messages.SUCCESS)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "room", "author", "created_at", "excerpt"]
    list_select_related = ["room", "author"]
    search_fields = ["body", "author__username", "room__name", "room__slug"]
    list_filter = ["room", "author", "created_at"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["room", "author"]
    ordering = ["-id"]

    @admin.display(description="Message")
    def excerpt(self, message: Message) -> str:
        return message.body[:80]
