"""HTTP routes of the hub."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from lamplighter.accounts.views import ThrottledLoginView
from lamplighter.serving import health
from lamplighter.serving.api import api

# The busiest routes first (the device poll, the API): resolving walks the list in order.
urlpatterns = [
    path("", include("lamplighter.gateway.urls")),
    path("api/v1/", api.urls),
    path(health.HEALTH_PATH.lstrip("/"), health.healthz, name="healthz"),
    path(health.READY_PATH.lstrip("/"), health.readyz, name="readyz"),
    path(health.METRICS_PATH.lstrip("/"), health.metrics_view, name="metrics"),
    path("", include("lamplighter.dashboard.urls")),
    path("", include("lamplighter.ota.urls")),
    path("", include("lamplighter.backup.urls")),
    path("admin/", admin.site.urls),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
