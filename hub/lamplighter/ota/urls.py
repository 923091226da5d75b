"""OTA routes: the devices' image download, and the dashboard's firmware pages."""

from django.urls import path

from lamplighter.firmware import protocol
from lamplighter.ota import dashboard, views

app_name = "ota"

urlpatterns = [
    path(protocol.HUB_FIRMWARE_PATH.lstrip("/") + "<int:job_id>", views.firmware_download, name="download"),
    path("homes/<int:home_id>/firmware/", dashboard.firmware_page, name="home-firmware"),
    path("homes/<int:home_id>/firmware/upload/", dashboard.artifact_upload, name="artifact-upload"),
    path("homes/<int:home_id>/firmware/rollout/", dashboard.rollout_start, name="rollout-start"),
    path("rollouts/<int:rollout_id>/cancel/", dashboard.rollout_cancel, name="rollout-cancel"),
    path("rollouts/<int:rollout_id>/resume/", dashboard.rollout_resume, name="rollout-resume"),
]
