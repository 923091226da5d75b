"""The `lamplighter` command line: serve, demo, device, firmware, and every Django management command."""
