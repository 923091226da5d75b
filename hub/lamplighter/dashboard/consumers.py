"""The dashboard WebSocket: pushes light and device events of the user's homes to the browser,
and takes a tab's light changes (a dragged slider) without an HTTP request each."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from lamplighter.homes.selectors import home_ids_for_user
from lamplighter.infra import dbthread, realtime
from lamplighter.infra.consumer_base import LeanDispatch

DASHBOARD_WEBSOCKET_PATH = "ws/dashboard/"  # where a dashboard page opens its socket (serving.routing)


def light_set_answer(user: Any, content: dict[str, Any]) -> dict[str, Any]:
    """The answer to a tab's {"type": "light.set", "ref": r, "light": id, "state": {...}}: the same
    schema, service, error mapping and light payload as POST /api/v1/lights/<id>/state (202), or
    its 404/422/503."""
    from lamplighter.lights import selectors, services
    from lamplighter.lights.api import LightOut
    from lamplighter.lights.models import Light
    from lamplighter.lights.state import command_refusal, light_command

    answer: dict[str, Any] = {"type": realtime.LIGHT_SET_RESULT, "ref": content.get("ref")}
    light_id = content.get("light")
    try:
        command = light_command(content.get("state"))
        if type(light_id) is not int or not 0 < light_id < 2**63:
            raise Light.DoesNotExist("no such light")
        with realtime.sends_gathered():
            stored = services.light_command_apply(user_id=user.pk, light_id=light_id, command=command)
        if stored is None:
            raise Light.DoesNotExist("no such light")
    except Exception as error:
        refusal = command_refusal(error)
        if refusal is None:
            raise
        return {**answer, "status": refusal[0], "detail": refusal[1]}
    return {
        **answer,
        "status": 202,
        "light": LightOut.model_validate(selectors.light_payload(stored)).model_dump(mode="json"),
    }


class DashboardConsumer(LeanDispatch, AsyncJsonWebsocketConsumer):
    """One browser tab: events of its user's homes, and the light changes it asks for
    (light.set, answered with light.set.result: what the REST state call would answer)."""

    groups_joined: list[str]

    async def connect(self) -> None:
        """Runs on the handshake (Origin already checked): logged-in users only."""
        self.groups_joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()
            return
        for home_id in await database_sync_to_async(home_ids_for_user)(user=user):
            group = realtime.home_group(home_id)
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        """Runs when the tab closes or the connection drops."""
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """Runs for each frame; binary frames are ignored (the JSON base class would raise on them)."""
        if text_data:
            await super().receive(text_data=text_data, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """A ping (to notice a dead connection) or a light.set; anything else is ignored."""
        if not isinstance(content, dict):
            return
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        elif content.get("type") == realtime.LIGHT_SET:
            await self.send_json(await dbthread.run(light_set_answer, self.scope["user"], content))

    async def home_event(self, message: dict[str, Any]) -> None:
        """Runs for realtime.HOME_EVENT: forward its browser events in one frame, in order.

        A lone event is its own frame (an object); several are one frame holding their list: a
        1,000-light fan-out's 2,000 events are 20 frames, not 2,000 sends on the hub's loop and
        2,000 messages for the browser to parse.
        """
        events = message["events"]
        await self.send_json(events[0] if len(events) == 1 else events)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Malformed frames are ignored rather than closing the socket with a traceback."""
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None
