from django.contrib import admin

from .models import Membership, Message, Room


class MembershipInline(admin.TabularInline):
    model = Membership
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_private", "created_by", "created_at", "last_message_at"]
    search_fields = ["name", "slug"]
    list_filter = ["is_private", "created_at", "last_message_at"]
    inlines = [MembershipInline]
    autocomplete_fields = ["created_by"]
    date_hierarchy = "created_at"
    readonly_fields = ["last_message_at"]


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
