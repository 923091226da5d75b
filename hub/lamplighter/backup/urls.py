"""The backup page's route."""

from django.urls import path

from lamplighter.backup import views

app_name = "backup"
urlpatterns = [path("backup/", views.backup_page, name="page")]
