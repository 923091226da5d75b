"""Database work of many sockets in one crossing: each call in its own savepoint, results in order."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError

from factories import DeviceFactory
from lamplighter.devices.models import Device
from lamplighter.devices.services import device_rename
from lamplighter.infra import dbbatch

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_failing_call_is_rolled_back_alone_and_the_others_commit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    devices = await database_sync_to_async(lambda: [DeviceFactory(name=f"d{i}") for i in range(4)])()
    crossings = []
    real = dbbatch._run_all

    def counted(calls):  # type: ignore[no-untyped-def]
        crossings.append(len(calls))
        return real(calls)

    monkeypatch.setattr(dbbatch, "_run_all", counted)

    def rename_then_fail(device: Device) -> None:
        device_rename(device=device, name="half-written")
        raise ValidationError("no")

    results = await asyncio.gather(
        dbbatch.run(device_rename, device=devices[0], name="first"),
        dbbatch.run(rename_then_fail, devices[1]),
        dbbatch.run(device_rename, device=devices[2], name="third"),
        dbbatch.run(lambda: Device.objects.count()),
        return_exceptions=True,
    )
    assert results[0].name == "first" and results[2].name == "third"  # type: ignore[union-attr]
    assert isinstance(results[1], ValidationError)
    assert results[3] == 4
    names = await database_sync_to_async(lambda: {d.pk: d.name for d in Device.objects.all()})()
    assert names[devices[0].pk] == "first" and names[devices[2].pk] == "third"
    assert names[devices[1].pk] == "d1"  # its write was rolled back with its savepoint
    # Calls queued while the thread was busy went together (fewer crossings than calls).
    assert sum(crossings) == 4 and len(crossings) < 4
