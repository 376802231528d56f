from django.urls import path

from . import views

app_name = "chat"
urlpatterns = [
    path("", views.room_list, name="room_list"),
    path("direct/", views.direct_start, name="direct_start"),
    path("<slug:slug>/", views.room_detail, name="room_detail"),
    path("<slug:slug>/older/", views.room_older, name="room_older"),
    path("<slug:slug>/messages/", views.message_post, name="message_post"),
    path("<slug:slug>/settings/", views.room_settings, name="room_settings"),
    path("<slug:slug>/invite/", views.room_invite, name="room_invite"),
    path("<slug:slug>/members/<int:user_id>/remove/", views.room_member_remove, name="room_member_remove"),
]
