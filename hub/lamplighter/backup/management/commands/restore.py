"""`lamplighter restore FILE [--passphrase-file F]`: a backup into an empty data directory or database."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from lamplighter.backup.archive import BackupError
from lamplighter.backup.services import backup_restore, read_passphrase


class Command(BaseCommand):
    """Restore a backup archive."""

    help = "Restore a backup into this hub's empty data directory or fresh database."

    def add_arguments(self, parser: CommandParser) -> None:
        """FILE and the optional passphrase file."""
        parser.add_argument("file", help="the archive to restore")
        parser.add_argument("--passphrase-file", help="the archive's passphrase, on this file's first line")

    def handle(self, *args: Any, **options: Any) -> None:
        """Parse, restore, say what came back."""
        try:
            passphrase = (
                read_passphrase(Path(options["passphrase_file"])) if options["passphrase_file"] else None
            )
            manifest = backup_restore(source=Path(options["file"]), passphrase=passphrase)
        except BackupError as error:
            raise CommandError(f"{error}. Nothing was changed.") from error
        except DatabaseError as error:
            raise CommandError(f"cannot use the target database: {error}".strip()) from error
        counts = manifest["counts"]
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} (hub {manifest['hub_version']}): "
            f"{counts.get('homes.home', 0)} home(s), {counts.get('auth.user', 0)} user(s), "
            f"{counts.get('devices.device', 0)} device(s), {counts.get('lights.light', 0)} light(s). "
            "Start the hub; devices reconnect with the secrets they hold."
        )
