"""`lamplighter token create <username>`: print a new personal API token."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lamplighter.accounts.services import api_token_create


class Command(BaseCommand):
    """Manage personal API tokens."""

    help = "Manage personal API tokens: `token create <username> [--name NAME]` prints a new one."

    def add_arguments(self, parser: CommandParser) -> None:
        """Subcommand, user and an optional label."""
        parser.add_argument("action", choices=["create"])
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label to recognise the token by")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the token and print it (the only time it can be seen)."""
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        _, token = api_token_create(user=user, name=options["name"][:100])
        self.stdout.write(token)
