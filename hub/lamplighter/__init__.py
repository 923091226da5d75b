"""Lamplighter hub: the Django project (settings, routing, CLI)."""
