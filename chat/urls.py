from django.urls import path

from . import attachment_views, edit_views, finding_views, member_views, reaction_views, views

app_name = "chat"
urlpatterns = [
    path("", views.room_list, name="room_list"),
    path("direct/", member_views.direct_start, name="direct_start"),
    path("search/", finding_views.search, name="search"),
    path("mentions/", finding_views.mentions, name="mentions"),
    path("<slug:slug>/", views.room_detail, name="room_detail"),
    path("<slug:slug>/older/", views.room_older, name="room_older"),
    path("<slug:slug>/newer/", views.room_newer, name="room_newer"),
    path("<slug:slug>/m/<int:seq>/", views.message_permalink, name="message_permalink"),
    path("<slug:slug>/m/<int:seq>/edit/", edit_views.message_edit_view, name="message_edit"),
    path("<slug:slug>/m/<int:seq>/delete/", edit_views.message_delete_view, name="message_delete"),
    path("<slug:slug>/messages/", views.message_post, name="message_post"),
    path("<slug:slug>/settings/", views.room_settings, name="room_settings"),
    path("<slug:slug>/invite/", member_views.room_invite, name="room_invite"),
    path("<slug:slug>/mentions/suggest/", finding_views.mention_suggestions, name="mention_suggestions"),
    path("<slug:slug>/reactions/", reaction_views.message_react, name="reaction_toggle"),
    path("<slug:slug>/members/<int:user_id>/remove/", member_views.room_member_remove, name="room_member_remove"),
    path("<slug:slug>/members/remove/", member_views.room_member_remove, name="room_member_remove_posted"),
    path("<slug:slug>/files/", attachment_views.attachment_post_view, name="attachment_post"),
    path("<slug:slug>/files/<int:attachment_id>/", attachment_views.attachment_file, name="attachment_file"),
    path(
        "<slug:slug>/files/<int:attachment_id>/thumb/",
        attachment_views.attachment_file,
        {"thumbnail": True},
        name="attachment_thumbnail",
    ),
]
