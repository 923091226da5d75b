"""`lamplighter backup FILE [--passphrase-file F]`: one consistent archive of the hub, while it runs."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from lamplighter.backup.archive import BackupError
from lamplighter.backup.services import backup_create, read_passphrase


class Command(BaseCommand):
    """Write a backup archive."""

    help = "Write a backup of the hub (database, secret key, firmware files) to FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        """FILE and the optional passphrase file."""
        parser.add_argument("file", help="the archive to write")
        parser.add_argument("--passphrase-file", help="encrypt with the passphrase on this file's first line")

    def handle(self, *args: Any, **options: Any) -> None:
        """Parse, back up, say what was written."""
        try:
            passphrase = (
                read_passphrase(Path(options["passphrase_file"])) if options["passphrase_file"] else None
            )
            manifest = backup_create(target=Path(options["file"]), passphrase=passphrase)
        except BackupError as error:
            raise CommandError(str(error)) from error
        except DatabaseError as error:
            raise CommandError(f"cannot read the database: {error}".strip()) from error
        except OSError as error:
            raise CommandError(f"cannot write {options['file']}: {error.strerror or error}") from error
        total = sum(manifest["counts"].values())
        self.stdout.write(
            f"Backup written to {options['file']}: {total} rows, "
            f"{sum(name.startswith('firmware/') for name in manifest['files'])} firmware file(s)"
            f"{', encrypted' if passphrase else ''} (hub {manifest['hub_version']})."
        )
        if manifest["firmware_missing"]:
            self.stderr.write(
                f"Missing firmware files, not in the backup: {', '.join(manifest['firmware_missing'])}"
            )
