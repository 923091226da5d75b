"""The backup app: no models; its commands (`lamplighter backup`, `restore`) and dashboard page."""

from django.apps import AppConfig


class BackupConfig(AppConfig):
    """Backups and restores."""

    name = "lamplighter.backup"
    label = "backup"
