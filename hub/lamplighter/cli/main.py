"""The `lamplighter` command: serve, demo, device, and every Django management command."""

import os
import sys

USAGE = """usage: lamplighter COMMAND [ARGS]

  serve [--host H] [--port N] [--workers N]   run the hub (ASGI, uvicorn)
  demo [--port N] [--devices N] [--runtime R] demo home, hub and simulated devices in one go
  device --config FILE | --hub URL ...        run simulated devices (the firmware on CPython, or with
         [--runtime cpython|micropython]      micropython: the compiled bundle on MicroPython's unix port)
  device --provision [--data-dir DIR]         an unconfigured simulated device with its setup page
  firmware bundle [--output DIR]              compile the firmware (mpy-cross) for a board
  flash PORT [--config FILE]                  install the firmware on a board over USB and start it
  firmware keygen|sign|upload|rollout|status  sign and roll out firmware updates (docs/ota.md)
  token create USERNAME                       print a new personal API token
  backup FILE [--passphrase-file F]           write a backup (database, secret key, firmware files)
  restore FILE [--passphrase-file F]          restore a backup into an empty data dir or database
  migrate, createsuperuser, check, ...        any Django management command (migrate: after an upgrade)

State lives under $LAMPLIGHTER_DATA_DIR (default ./var)."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "device":
        from lamplighter.tools.simulator import main as device_main

        return device_main(rest) or 0
    if command == "firmware":
        from lamplighter.cli.firmware import firmware_main

        return firmware_main(rest)
    if command == "flash":
        from lamplighter.tools.flashing import flash_main

        return flash_main(rest)
    if command == "serve":
        from lamplighter.serving.server import serve_main

        return serve_main(rest)
    if command == "demo":
        from lamplighter.cli.demo import demo_main

        return demo_main(rest)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["lamplighter", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
