"""`lamplighter firmware ...`: the firmware command group (bundle, keygen, sign, upload, rollout, status).

Signing happens offline (the private key need not be on the hub); upload, rollout and status
work on the hub's database, so run them where the hub's data dir is. A rollout made here is
started by the running hub within LAMPLIGHTER_OTA_TICK seconds.
"""

import argparse
import json
import sys
from pathlib import Path

USAGE = """usage: lamplighter firmware COMMAND [ARGS]

  bundle [--output DIR]                                   compile the firmware (mpy-cross) for a board
  keygen DIR                                              write a signing key pair into DIR
  sign ARTIFACT --key PRIVATE_KEY [--version V --board B] write ARTIFACT.sig beside it
                                                          (--version/--board: recommended, the
                                                          signature binds them; without: content only)
  upload ARTIFACT --version V --board B [--signature F]   store an artifact, print its id
  rollout ARTIFACT_ID (--device ID ... | --home ID) [--batch-size N] [--failure-threshold P]
                                                          start a rollout, print its id
  status ROLLOUT_ID                                       one line per device: id, state, reason"""


def _django() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
    django.setup()


def _keygen(args: argparse.Namespace) -> int:
    from lamplighter.ota import signing

    try:
        private, public = signing.keygen(Path(args.dir))
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"private key: {private} (keep it offline; it signs releases)")
    print(f"public key:  {public} (copy to each device's flash as ota_key.pub)")
    return 0


def _sign(args: argparse.Namespace) -> int:
    from lamplighter.ota import signing

    artifact = Path(args.artifact)
    # Version and board from the flags, else from ARTIFACT.json beside it: the signature binds
    # them (recommended). With neither, a content-only signature (kind, size, SHA-256): the
    # version and board are then given at upload and asserted by the hub.
    meta: dict = {}
    sidecar = artifact.with_name(artifact.name + ".json")
    if sidecar.exists():
        try:
            meta = json.loads(sidecar.read_text())
        except (OSError, ValueError) as error:
            print(f"error: {sidecar.name}: {error}", file=sys.stderr)
            return 1
        if not isinstance(meta, dict):
            meta = {}
    version, board = args.version or meta.get("version"), args.board or meta.get("board")
    kind = args.kind or meta.get("kind") or "image"
    if bool(version) != bool(board):
        print(
            "error: give both --version and --board (or put both in "
            f"{sidecar.name}), or neither for a content-only signature",
            file=sys.stderr,
        )
        return 2
    try:
        target = signing.sign_artifact(
            artifact, Path(args.key), version=version or None, board=board or None, kind=kind
        )
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not version:
        print(
            "note: content-only signature (kind, size, SHA-256); the version and board given at "
            "upload are asserted by the hub. Add --version and --board to bind them (recommended).",
            file=sys.stderr,
        )
    print(target)
    return 0


def _upload(args: argparse.Namespace) -> int:
    _django()
    from django.core.exceptions import ValidationError

    from lamplighter.ota import services

    signature = Path(args.signature).read_text() if args.signature else None
    try:
        with Path(args.artifact).open("rb") as handle:
            artifact = services.artifact_upload(
                chunks=services.file_chunks(handle),
                version=args.version,
                board=args.board,
                kind=args.kind or "",
                signature_file=signature,
            )
    except (OSError, ValidationError) as error:
        message = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(artifact.pk)
    return 0


def _rollout(args: argparse.Namespace) -> int:
    _django()
    from django.core.exceptions import ValidationError

    from lamplighter.devices.models import Device
    from lamplighter.homes.models import Home
    from lamplighter.ota import services
    from lamplighter.ota.models import Artifact

    artifact = Artifact.objects.filter(pk=args.artifact_id).first()
    if artifact is None:
        print(f"error: no artifact {args.artifact_id}", file=sys.stderr)
        return 1
    home = None
    if args.home is not None:
        home = Home.objects.filter(pk=args.home).first()
        if home is None:
            print(f"error: no home {args.home}", file=sys.stderr)
            return 1
        devices = list(Device.objects.filter(home=home).order_by("name"))
    else:
        devices = []
        for ident in args.device:
            device = Device.objects.filter(device_id=ident).first()
            if device is None and ident.isdigit():
                device = Device.objects.filter(pk=int(ident)).first()
            if device is None:
                print(f"error: no device {ident}", file=sys.stderr)
                return 1
            devices.append(device)
    try:
        rollout = services.rollout_create(
            artifact=artifact,
            devices=devices,
            home=home,
            batch_size=args.batch_size,
            failure_threshold=args.failure_threshold,
            delivery=args.delivery,
            force=args.force,
            start=False,
        )
    except ValidationError as error:
        print("error: " + "; ".join(error.messages), file=sys.stderr)
        return 1
    print(rollout.pk)
    return 0


def _status(args: argparse.Namespace) -> int:
    _django()
    from lamplighter.ota.models import Rollout

    rollout = Rollout.objects.filter(pk=args.rollout_id).first()
    if rollout is None:
        print(f"error: no rollout {args.rollout_id}", file=sys.stderr)
        return 1
    print(f"rollout {rollout.pk}: {rollout.status} {rollout.status_reason}".rstrip(), file=sys.stderr)
    for job in rollout.jobs.select_related("device").order_by("batch", "pk"):
        line = f"{job.device.device_id} {job.state}"
        if job.reason:
            line += f" {job.reason}"
        print(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The flags of every firmware subcommand but bundle (its own module parses it)."""
    parser = argparse.ArgumentParser(prog="lamplighter firmware", usage=USAGE)
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="write a signing key pair")
    keygen.add_argument("dir")
    sign = commands.add_parser(
        "sign",
        help="sign an artifact's manifest",
        description=(
            "Write ARTIFACT.sig beside the artifact. With --version and --board (or ARTIFACT.json) "
            "the signature binds them: recommended, devices then refuse a wrong board or a "
            "downgrade on the key's word. Without them it is content-only (kind, size, SHA-256): "
            "the version and board given at upload are asserted by the hub."
        ),
    )
    sign.add_argument("artifact")
    sign.add_argument("--key", required=True, help="the private key from keygen")
    sign.add_argument("--version", help="bind this version (recommended, with --board)")
    sign.add_argument("--board", help="bind this board (recommended, with --version)")
    sign.add_argument("--kind", choices=("image", "bundle"))
    upload = commands.add_parser("upload", help="store an artifact on the hub")
    upload.add_argument("artifact")
    upload.add_argument("--version", required=True)
    upload.add_argument("--board", required=True)
    upload.add_argument("--signature", help="the .sig file written by sign")
    upload.add_argument("--kind", choices=("image", "bundle"))
    rollout = commands.add_parser("rollout", help="send an artifact to devices")
    rollout.add_argument("artifact_id", type=int)
    target = rollout.add_mutually_exclusive_group(required=True)
    target.add_argument("--device", action="append", help="a device id (repeat for several)")
    target.add_argument("--home", type=int, help="every device of this home")
    rollout.add_argument("--batch-size", type=int, default=10)
    rollout.add_argument(
        "--failure-threshold", type=int, default=20, help="pause past this percentage of failures"
    )
    rollout.add_argument("--delivery", choices=("auto", "pull", "push"), default="auto")
    rollout.add_argument("--force", action="store_true", help="allow a downgrade")
    status = commands.add_parser("status", help="each device's job in a rollout")
    status.add_argument("rollout_id", type=int)
    return parser


def firmware_main(argv: list[str]) -> int:
    """Dispatch `lamplighter firmware COMMAND`."""
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if argv[0] == "bundle":
        from lamplighter.tools.firmware_bundle import bundle_main

        return bundle_main(argv)
    args = build_parser().parse_args(argv)
    handlers = {"keygen": _keygen, "sign": _sign, "upload": _upload, "rollout": _rollout, "status": _status}
    return handlers[args.command](args)
