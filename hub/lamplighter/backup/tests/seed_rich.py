"""Tests only: a hub with one of everything a backup must keep, on top of lamplighter.tools.loadseed.

`python -m lamplighter.backup.tests.seed_rich --devices N` prints loadseed's JSON, plus the
firmware file's name and checksum. Rows are written straight through the ORM: the services'
own tests cover the services; here only the rows matter.
"""

import argparse
import hashlib
import json
import os
import sys
from datetime import timedelta
from typing import Any


def seed_rich(*, devices: int) -> dict[str, Any]:
    """loadseed's home, and scenes, a schedule, a member, preferences, logs, firmware and a rollout."""
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.utils import timezone

    from lamplighter.accounts.models import UserPreference
    from lamplighter.automations.models import Scene, SceneLight, Schedule
    from lamplighter.devices.models import Device, DeviceLogLine, PairingCode
    from lamplighter.homes.models import Home, Membership
    from lamplighter.infra.secret_hashing import new_secret
    from lamplighter.lights.models import Light
    from lamplighter.ota.models import Artifact, Job, Rollout
    from lamplighter.tools.loadseed import seed_load

    seed = seed_load(devices=devices, prefix="backup")
    image = os.urandom(4096)
    with transaction.atomic():
        home = Home.objects.get(pk=seed["home_id"])
        owner = User.objects.get(username="backup-owner")
        member = User.objects.create_user(username="backup-member", password=new_secret())
        Membership.objects.create(home=home, user=member, role=Membership.Role.MEMBER)
        UserPreference.objects.create(user=member, language="de")
        lights = list(Light.objects.filter(room__home=home).order_by("pk")[:4])
        evening = Scene.objects.create(home=home, name="Evening")
        for index, light in enumerate(lights):
            SceneLight.objects.create(scene=evening, light=light, on=index % 2 == 0)
        Schedule.objects.create(
            home=home,
            name="Wake up",
            target=Schedule.Target.SCENE,
            scene=evening,
            time_of_day="07:15",
            armed_at=timezone.now(),
        )
        first = Device.objects.filter(home=home).order_by("pk").first()
        assert first is not None
        DeviceLogLine.objects.bulk_create(
            DeviceLogLine(device=first, seq=seq, uptime=seq * 10, level="INFO", text=f"line {seq}")
            for seq in range(5)
        )
        PairingCode.objects.create(
            home=home, code_hash="0" * 64, expires_at=timezone.now() + timedelta(hours=1)
        )
        sha256 = hashlib.sha256(image).hexdigest()
        artifact = Artifact.objects.create(
            version="2.0.0", board="host", size=len(image), sha256=sha256, manifest="{}", file_name=""
        )
        artifact.file_name = f"{artifact.pk}-{sha256[:16]}.bin"
        artifact.save()
        folder = settings.LAMPLIGHTER_FIRMWARE_DIR
        folder.mkdir(parents=True, exist_ok=True)
        (folder / artifact.file_name).write_bytes(image)
        rollout = Rollout.objects.create(
            artifact=artifact, home=home, created_by=owner, status=Rollout.Status.FINISHED
        )
        Job.objects.create(rollout=rollout, device=first, state=Job.State.CONFIRMED, from_version="1.0.0")
    return {**seed, "firmware_file": artifact.file_name, "firmware_sha256": sha256}


def main() -> int:
    """Seed and print the JSON."""
    parser = argparse.ArgumentParser(prog="python -m lamplighter.backup.tests.seed_rich")
    parser.add_argument("--devices", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
    import django

    django.setup()
    sys.stdout.write(json.dumps(seed_rich(devices=args.devices)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
