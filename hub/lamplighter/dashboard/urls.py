"""Dashboard pages."""

from django.urls import path

from lamplighter.dashboard import views, views_adaptive, views_automations, views_settings

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
    path("devices/<int:device_pk>/log/", views.device_log, name="device-log"),
    path("homes/<int:home_id>/pairing-code/", views.pairing_code_create, name="pairing-code"),
    path("homes/<int:home_id>/settings/", views_settings.home_settings, name="home-settings"),
    path("homes/<int:home_id>/scenes/", views_automations.scenes, name="scenes"),
    path("homes/<int:home_id>/scenes/new/", views_automations.scene_create, name="scene-create"),
    path("scenes/<int:scene_id>/edit/", views_automations.scene_edit, name="scene-edit"),
    path("scenes/<int:scene_id>/delete/", views_automations.scene_delete, name="scene-delete"),
    path("scenes/<int:scene_id>/apply/", views_automations.scene_apply, name="scene-apply"),
    path("homes/<int:home_id>/schedules/", views_automations.schedules, name="schedules"),
    path("homes/<int:home_id>/schedules/new/", views_automations.schedule_create, name="schedule-create"),
    path("schedules/<int:schedule_id>/edit/", views_automations.schedule_edit, name="schedule-edit"),
    path("schedules/<int:schedule_id>/delete/", views_automations.schedule_delete, name="schedule-delete"),
    path("language/", views_settings.language_set, name="language"),
    path("lights/<int:light_id>/adaptive/", views_adaptive.light_adaptive, name="light-adaptive"),
    path(
        "lights/<int:light_id>/adaptive/resume/",
        views_adaptive.light_adaptive_resume,
        name="light-adaptive-resume",
    ),
    path("rooms/<int:room_id>/adaptive/", views_adaptive.room_adaptive, name="room-adaptive"),
]
