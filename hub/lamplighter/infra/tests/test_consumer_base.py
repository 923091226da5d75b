"""lamplighter.infra.consumer_base.LeanDispatch: one message at a time, each source in order, ends as Channels does."""

import asyncio
from typing import Any

import pytest
from channels.exceptions import StopConsumer

from lamplighter.infra.consumer_base import LeanDispatch


class Recorder(LeanDispatch):
    """Records what it handles; a handler that awaits shows whether turns overlap."""

    channel_layer_alias = "default"

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.busy = False
        self.overlapped = False

    async def _handle(self, message: dict[str, Any]) -> None:
        if self.busy:
            self.overlapped = True
        self.busy = True
        await asyncio.sleep(0.001)  # other sources get the loop meanwhile
        self.handled.append(message["text"])
        self.busy = False

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        await self._handle(message)

    async def chat_message(self, message: dict[str, Any]) -> None:
        await self._handle(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        raise StopConsumer

    async def boom(self, message: dict[str, Any]) -> None:
        raise RuntimeError("handler failed")


async def _run(
    consumer: Recorder, socket: asyncio.Queue, layer: asyncio.Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Layer:
        async def new_channel(self) -> str:
            return "test!1"

        async def receive(self, channel: str) -> Any:
            return await layer.get()

    monkeypatch.setattr("lamplighter.infra.consumer_base.get_channel_layer", lambda alias: Layer())

    async def send(message: dict[str, Any]) -> None:
        pass

    await asyncio.wait_for(consumer(scope={}, receive=socket.get, send=send), 5)


async def test_messages_are_handled_one_at_a_time_in_order_until_the_socket_goes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    socket: asyncio.Queue = asyncio.Queue()
    layer: asyncio.Queue = asyncio.Queue()
    for n in range(5):
        socket.put_nowait({"type": "websocket.receive", "text": f"s{n}"})
        layer.put_nowait({"type": "chat.message", "text": f"l{n}"})
    consumer = Recorder()
    running = asyncio.ensure_future(_run(consumer, socket, layer, monkeypatch))
    while len(consumer.handled) < 10:
        await asyncio.sleep(0.005)
    socket.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await running  # StopConsumer ends it without an error
    assert not consumer.overlapped
    assert [t for t in consumer.handled if t[0] == "s"] == [f"s{n}" for n in range(5)]
    assert [t for t in consumer.handled if t[0] == "l"] == [f"l{n}" for n in range(5)]
    assert {t[0] for t in consumer.handled[:4]} == {"s", "l"}  # both sources get turns, neither starves


async def test_a_failing_handler_ends_the_consumer_with_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    socket: asyncio.Queue = asyncio.Queue()
    layer: asyncio.Queue = asyncio.Queue()
    layer.put_nowait({"type": "boom"})
    with pytest.raises(RuntimeError, match="handler failed"):
        await _run(Recorder(), socket, layer, monkeypatch)
    socket.put_nowait({"type": "no.such.handler"})
    with pytest.raises(ValueError, match="No handler"):
        await _run(Recorder(), socket, asyncio.Queue(), monkeypatch)
