"""Accounts app configuration."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Personal API tokens and user preferences."""

    name = "lamplighter.accounts"
    label = "accounts"
