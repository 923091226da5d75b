"""Homes, their members and their rooms."""
