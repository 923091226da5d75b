"""Dashboard pages."""

from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("homes/new/", views.home_create, name="home-create"),
    path("homes/<int:home_id>/", views.home_detail, name="home"),
    path("homes/<int:home_id>/rooms/new/", views.room_create, name="room-create"),
    path("homes/<int:home_id>/lights/new/", views.light_create, name="light-create"),
    path("homes/<int:home_id>/devices/new/", views.device_register, name="device-register"),
    path("rooms/<int:room_id>/edit/", views.room_edit, name="room-edit"),
    path("rooms/<int:room_id>/delete/", views.room_delete, name="room-delete"),
    path("lights/<int:light_id>/edit/", views.light_edit, name="light-edit"),
    path("lights/<int:light_id>/delete/", views.light_delete, name="light-delete"),
    path("devices/<int:device_pk>/edit/", views.device_edit, name="device-edit"),
    path("devices/<int:device_pk>/rotate-secret/", views.device_rotate_secret, name="device-rotate-secret"),
    path("devices/<int:device_pk>/delete/", views.device_delete, name="device-delete"),
]
