"""lamplighter.infra.rows: instances from written-out SELECTs equal the ORM's, field for field."""

import pytest
from django.db import connection
from django.utils import timezone

from factories import DeviceFactory, LightFactory
from lamplighter.devices.models import Device
from lamplighter.infra import rows
from lamplighter.lights.models import Light

pytestmark = pytest.mark.django_db


def _fetch(model: type, pk: int) -> tuple:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {rows.select_list(model, 't')} FROM {table} t WHERE t.id = %s", [pk])  # noqa: S608
        return tuple(cursor.fetchone())


@pytest.mark.parametrize("reported_on", [None, True, False])
def test_instances_equal_what_the_orm_reads(reported_on: bool | None) -> None:
    device = DeviceFactory(online=True, last_seen=timezone.now())
    light = LightFactory(device=device, desired_on=True, reported_on=reported_on)
    for model, pk in ((Device, device.pk), (Light, light.pk)):
        built = rows.instance(model, _fetch(model, pk))
        read = model.objects.get(pk=pk)
        assert not built._state.adding and built._state.db == "default"
        for field in model._meta.concrete_fields:
            assert getattr(built, field.attname) == getattr(read, field.attname), field.name
            assert type(getattr(built, field.attname)) is type(getattr(read, field.attname)), field.name
    assert (
        rows.instance(Device, _fetch(Device, device.pk)).last_seen.tzinfo is not None
    )  # aware, as the ORM's


def test_a_row_of_the_wrong_width_is_refused() -> None:
    device = DeviceFactory()
    with pytest.raises(ValueError):
        rows.instance(Device, _fetch(Device, device.pk)[:-1])


def test_update_writes_what_save_would_and_reads_back_equal() -> None:
    device = DeviceFactory(online=False, last_seen=None)
    seen = timezone.now()
    changed = rows.update(
        Device, device.pk, {"online": True, "last_seen": seen, "rssi": -61, "channel_name": "c!x"}
    )
    assert changed == 1
    read = Device.objects.get(pk=device.pk)
    assert read.online is True and read.last_seen == seen and read.rssi == -61 and read.channel_name == "c!x"
    assert rows.update(Device, device.pk + 1000, {"online": False}) == 0  # no such row: nothing changed
    assert Device.objects.get(pk=device.pk).online is True


def test_update_refuses_expressions_and_unknown_fields() -> None:
    from django.core.exceptions import FieldDoesNotExist
    from django.db.models import F

    device = DeviceFactory()
    with pytest.raises(TypeError):
        rows.update(Device, device.pk, {"rssi": F("rssi") + 1})
    with pytest.raises(FieldDoesNotExist):
        rows.update(Device, device.pk, {"no_such_field": 1})


def test_columns_name_the_fields_in_the_order_asked() -> None:
    quote = connection.ops.quote_name
    assert rows.columns(Device, ["online", "channel_name"]) == f"{quote('online')}, {quote('channel_name')}"
    assert rows.columns(Device, ["online"], alias="d") == f"d.{quote('online')}"


def test_a_post_init_receiver_still_sees_every_instance() -> None:
    from django.db.models.signals import post_init

    device = DeviceFactory()
    seen: list[object] = []

    def receiver(sender: type, instance: object, **kwargs: object) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Device)
    try:
        built = rows.instance(Device, _fetch(Device, device.pk))
    finally:
        post_init.disconnect(receiver, sender=Device)
    assert len(seen) == 1 and seen[0] is built
    rows.instance(Device, _fetch(Device, device.pk))
    assert len(seen) == 1  # disconnected: not called any more
