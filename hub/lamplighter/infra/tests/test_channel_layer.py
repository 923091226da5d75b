"""The embedded channel layer: same behaviour as Channels' in-memory layer, expiry per channel."""

import asyncio

import pytest
from channels.exceptions import ChannelFull

from lamplighter.infra.channel_layer import LazyInMemoryChannelLayer


async def test_group_send_reaches_members_and_discard_stops_it() -> None:
    layer = LazyInMemoryChannelLayer()
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("home.1", first)
    await layer.group_add("home.1", second)
    await layer.group_send("home.1", {"type": "home.event", "n": 1})
    assert (await layer.receive(first))["n"] == 1
    assert (await layer.receive(second))["n"] == 1
    await layer.group_discard("home.1", second)
    await layer.group_send("home.1", {"type": "home.event", "n": 2})
    assert (await layer.receive(first))["n"] == 2
    assert layer.channels[second].empty() and second not in layer.channel_groups


async def test_a_channel_that_lets_a_message_expire_leaves_its_groups() -> None:
    layer = LazyInMemoryChannelLayer(expiry=0.05)
    stuck, alive = await layer.new_channel(), await layer.new_channel()
    for channel in (stuck, alive):
        await layer.group_add("device.x", channel)
        await layer.group_add("home.1", channel)
    await layer.send(stuck, {"type": "x"})
    await asyncio.sleep(0.1)
    await layer.group_send("device.x", {"type": "device.deliver"})
    assert stuck not in layer.groups["device.x"] and stuck not in layer.groups["home.1"]
    assert (await layer.receive(alive))["type"] == "device.deliver"


async def test_receive_and_group_send_do_not_scan_every_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    layer = LazyInMemoryChannelLayer()
    full_sweeps = []
    monkeypatch.setattr(layer, "_clean_expired", lambda: full_sweeps.append(1))
    channels = [await layer.new_channel() for _ in range(2000)]
    for index, channel in enumerate(channels):
        await layer.group_add(f"device.{index}", channel)
    waiters = [asyncio.create_task(layer.receive(channel)) for channel in channels]
    await asyncio.sleep(0)
    for index in range(len(channels)):
        await layer.group_send(f"device.{index}", {"type": "device.deliver", "n": index})
    assert [message["n"] for message in await asyncio.gather(*waiters)] == list(range(2000))
    assert full_sweeps == []  # the full sweep waits for its period (expiry), not for each call


async def test_messages_are_handed_over_in_order_up_to_the_capacity() -> None:
    layer = LazyInMemoryChannelLayer(capacity=2)
    channel = await layer.new_channel()
    first, second = {"type": "x", "data": {"n": [1]}}, {"type": "x", "data": {"n": [2]}}
    await layer.send(channel, first)
    await layer.send(channel, second)
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"type": "x"})
    assert await layer.receive(channel) is first  # not a copy: the hub's senders hand it over
    assert await layer.receive(channel) is second


async def test_the_sweep_drops_empty_queues_nobody_waits_on_and_keeps_the_others() -> None:
    layer = LazyInMemoryChannelLayer()
    gone, waiting, holding = [await layer.new_channel() for _ in range(3)]
    await layer.send(gone, {"type": "x"})
    await layer.receive(gone)  # read empty, and its consumer went away
    waiter = asyncio.create_task(layer.receive(waiting))
    await layer.send(holding, {"type": "y"})
    await asyncio.sleep(0)
    layer._clean_expired()
    assert gone not in layer.channels
    assert waiting in layer.channels and holding in layer.channels
    await layer.send(waiting, {"type": "z"})
    assert (await waiter)["type"] == "z"
