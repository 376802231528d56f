from django.urls import path

from . import views

app_name = "chat"
urlpatterns = [
    path("", views.room_list, name="room_list"),
    path("<slug:slug>/", views.room_detail, name="room_detail"),
    path("<slug:slug>/older/", views.room_older, name="room_older"),
]
