"""Sends from sync code: gathered within a batch, a home's events merged, each group's order kept."""

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from factories import DeviceFactory, HomeFactory
from lamplighter.devices import services
from lamplighter.devices.models import Device
from lamplighter.infra import dbbatch, realtime

HOME, OTHER, DEVICE = realtime.home_group(1), realtime.home_group(2), realtime.device_group("d1")


def event(n: int) -> dict:
    return realtime.light_state_event({"id": n})


def home_message(*numbers: int) -> dict:
    return {"type": realtime.HOME_EVENT, "events": [event(n) for n in numbers]}


def test_a_groups_home_events_merge_and_every_group_keeps_its_order() -> None:
    deliver = {"type": realtime.DEVICE_DELIVER, "message": {"type": "state.set"}}
    sends = [
        (HOME, home_message(1)),
        (OTHER, home_message(10)),
        (DEVICE, deliver),
        (HOME, home_message(2, 3)),
        (OTHER, {"type": "other.kind"}),  # something else for that group: later events go after it
        (OTHER, home_message(11)),
    ]
    assert realtime._coalesced(sends) == [
        (HOME, home_message(1, 2, 3)),
        (OTHER, home_message(10)),
        (DEVICE, deliver),
        (OTHER, {"type": "other.kind"}),
        (OTHER, home_message(11)),
    ]


def test_merged_messages_hold_at_most_a_channel_messages_worth_of_events() -> None:
    per = realtime.HOME_EVENTS_PER_MESSAGE
    sends = [(HOME, home_message(n)) for n in range(per * 2 + 1)]
    merged = realtime._coalesced(sends)
    assert [len(message["events"]) for _, message in merged] == [per, per, 1]
    assert [e for _, message in merged for e in message["events"]] == [event(n) for n in range(per * 2 + 1)]


async def test_gathered_sends_go_when_the_block_ends() -> None:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(HOME, channel)
    seen_inside = []

    def publish_three() -> None:
        with realtime.sends_gathered():
            for n in range(3):
                realtime.publish_to_home(1, event(n))
            seen_inside.append(layer.channels.get(channel))  # type: ignore[attr-defined]

    await sync_to_async(publish_three)()
    assert seen_inside == [None]  # nothing queued before the block ended
    assert await layer.receive(channel) == home_message(0, 1, 2)


@pytest.mark.django_db(transaction=True)
async def test_a_batch_of_devices_coming_online_is_one_message_to_their_homes_dashboards() -> None:
    home = await database_sync_to_async(HomeFactory)()
    devices = await database_sync_to_async(lambda: [DeviceFactory(home=home) for _ in range(3)])()
    layer = get_channel_layer()
    assert layer is not None
    dashboard = await layer.new_channel()
    await layer.group_add(realtime.home_group(home.pk), dashboard)

    def online(device: Device) -> None:
        services.device_seen(
            device=device, connection=Device.Connection.WEBSOCKET, channel_name=f"c{device.pk}"
        )

    await database_sync_to_async(dbbatch._run_all)([(online, (device,), {}) for device in devices])
    message = await layer.receive(dashboard)
    assert [e["device"]["id"] for e in message["events"]] == [d.pk for d in devices]
    assert all(e["type"] == realtime.DEVICE_PRESENCE and e["device"]["online"] for e in message["events"])
