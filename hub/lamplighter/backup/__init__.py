"""Backups of the whole hub (database, secret key, firmware files) and their restore."""
