"""Writes for lights: create/edit, set the desired state, and take in what devices report."""

import logging
from collections.abc import Iterable
from functools import cache, partial
from typing import Any, Protocol

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.homes.models import Membership, Room
from lamplighter.infra import metrics, realtime, rows
from lamplighter.lights import delivery
from lamplighter.lights import state as light_state
from lamplighter.lights.models import Light
from lamplighter.lights.selectors import light_payload, light_payload_of, light_wire_entry
from lamplighter.lights.state import LightStateError, LightStateIn

logger = logging.getLogger(__name__)


class WriteWatcher(Protocol):
    """What an app above lights (adaptive white) learns from the lights' write path, inside its
    transaction. Lights imports no such app: the app sets `write_watcher` when it is ready."""

    def desired_update(self, light: Light, update: dict[str, Any]) -> dict[str, Any]:
        """A new desired state asked for a locked light (not a device's report): the update to store."""
        ...

    def lights_switched(self, lights: Iterable[Light], on: bool) -> None:
        """Locked lights are switched on or off, nothing else changes."""
        ...

    def local_change(self, light: Light, reported: dict[str, Any]) -> list[str]:
        """A change made on the device, before it becomes the desired state: the light's fields it changed."""
        ...

    def device_manual_change(self, light: Light, parts: list[str], cause: str) -> None:
        """A person changed these parts (brightness, color) on the device itself, for this cause."""
        ...


class _NoWatcher:
    def desired_update(self, light: Light, update: dict[str, Any]) -> dict[str, Any]:
        return update

    def lights_switched(self, lights: Iterable[Light], on: bool) -> None:
        return None

    def local_change(self, light: Light, reported: dict[str, Any]) -> list[str]:
        return []

    def device_manual_change(self, light: Light, parts: list[str], cause: str) -> None:
        return None


write_watcher: WriteWatcher = _NoWatcher()


def light_create(
    *,
    room: Room,
    name: str,
    device: Device | None = None,
    kind: str = Light.Kind.ONOFF,
    min_kelvin: int | None = None,
    max_kelvin: int | None = None,
) -> Light:
    """Add a light to a room, optionally driven by a device of the same home.

    kind is one of the protocol's light kinds; min_kelvin/max_kelvin the range of a tunable
    white (defaults 2700-6500 K). LightStateError for a kind or range no light can have.
    """
    name = _clean_name(name)
    _check_device_home(device, room)
    low, high = _kind_and_range(kind, min_kelvin, max_kelvin, protocol.DEFAULT_KELVIN_RANGE)
    if Light.objects.filter(room=room, name=name).exists():
        raise ValidationError(
            _("a light named “%(name)s” already exists in %(room)s") % {"name": name, "room": room.name}
        )
    light = Light(room=room, name=name, device=device, kind=kind, min_kelvin=low, max_kelvin=high)
    light_state.set_desired(light, light_state.default_state(kind, low, high))
    light.save()
    _resync_devices(device)
    _publish(light)
    return light


def light_update(
    *,
    light: Light,
    name: str,
    room: Room,
    device: Device | None,
    kind: str | None = None,
    min_kelvin: int | None = None,
    max_kelvin: int | None = None,
) -> Light:
    """Rename a light, move it to another room of its home, give it another device, or change its
    kind or colour-temperature range (None keeps each).

    A new kind or range is a new desired state (the fields the new kind shares with the old are
    kept, a colour temperature is brought into the new range), sent to the device with its list.
    """
    name = _clean_name(name)
    if room.home_id != light.room.home_id:
        raise ValidationError(_("a light can only move to a room of its own home"))
    _check_device_home(device, room)
    kind = kind if kind is not None else light.kind
    low, high = _kind_and_range(kind, min_kelvin, max_kelvin, (light.min_kelvin, light.max_kelvin))
    if Light.objects.filter(room=room, name=name).exclude(pk=light.pk).exists():
        raise ValidationError(
            _("a light named “%(name)s” already exists in %(room)s") % {"name": name, "room": room.name}
        )
    previous_device = light.device
    fields = ["name", "room", "device"]
    light.name, light.room, light.device = name, room, device
    if (kind, low, high) != (light.kind, light.min_kelvin, light.max_kelvin):
        current = light_state.desired_state(light)
        light.kind, light.min_kelvin, light.max_kelvin = kind, low, high
        kept = {
            key: value
            for key, value in current.items()
            if key == "on" or key in light_state.KIND_FIELDS[kind]
        }
        light_state.set_desired(light, light_state.merged_desired(light, _fit_kelvin(kept, low, high)))
        light.desired_version += 1
        light.desired_at = timezone.now()
        fields += ["kind", "min_kelvin", "max_kelvin", *_DESIRED_FIELDS, "desired_version", "desired_at"]
    light.save(update_fields=fields)
    _resync_devices(previous_device, device)
    _publish(light)
    return light


def _kind_and_range(
    kind: str, min_kelvin: int | None, max_kelvin: int | None, current: tuple[int, int]
) -> tuple[int, int]:
    """The colour-temperature range a light of this kind gets (each bound None: `current`'s);
    LightStateError for an unknown kind or a range outside the protocol's bounds."""
    low = current[0] if min_kelvin is None else min_kelvin
    high = current[1] if max_kelvin is None else max_kelvin
    try:
        protocol.kind_fields(kind)  # refuses an unknown kind
        protocol.check_kelvin_range([low, high])
    except protocol.ProtocolError as error:
        raise LightStateError(error.reason) from error
    return low, high


def _fit_kelvin(state: dict[str, Any], low: int, high: int) -> dict[str, Any]:
    if "color_temp_kelvin" in state:
        state["color_temp_kelvin"] = min(max(state["color_temp_kelvin"], low), high)
    return state


# The desired state's columns, as _DESIRED_SQL writes them.
_DESIRED_FIELDS = [
    "desired_on",
    "desired_hold",
    "desired_brightness",
    "desired_color_temp_kelvin",
    "desired_rgb",
]


def light_delete(*, light: Light) -> None:
    """Delete a light."""
    device = light.device
    light.delete()
    _resync_devices(device)


def _resync_devices(*devices: Device | None) -> None:
    """The set of lights these devices drive changed: send each its full list once committed."""
    for device in {d for d in devices if d is not None}:
        transaction.on_commit(partial(delivery.deliver_snapshot, device=device))


@transaction.atomic
def light_command_apply(
    *,
    light_id: int,
    command: LightStateIn | None,
    user_id: int | None = None,
    hold: bool = False,
    stop: bool = False,
    cause: str | None = None,
) -> Light | None:
    """Ask a light for a state: the one path of a command to one light, whoever sends it (REST
    with a token or a session, the dashboard's light.set, the MQTT bridge, adaptive white).

    The command (lights.state.light_command: the API's schema) is merged into the light's desired
    state and stored with the next version, then delivered once committed. user_id: only a light
    of the homes this user belongs to (None: any light, the hub's own bridge). None when there is
    no such light; LightStateError (nothing stored) for a state the light's kind or range refuses.
    hold, stop and cause are the adaptive fields (docs/protocol.md, "Adaptive lighting"): with
    hold the desired `on` stays as it is (the device keeps its own); with stop the device ends
    its fade where it is and reports that state, which becomes the desired one (command None);
    cause names the asker to the device (Home Assistant, adaptive white; none: the hub).
    """
    # Found, locked and read with its room and device in one written-out statement: through the
    # ORM, building the query cost more than the whole rest of a token's switch (bench/README.md).
    with connection.cursor() as cursor:
        if user_id is None:
            cursor.execute(_light_sql(), [light_id])
        else:
            cursor.execute(_member_light_sql(), [light_id, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    light_end = rows.width(Light)
    room_end = light_end + rows.width(Room)
    light = rows.instance(Light, row[:light_end])
    light.room = rows.instance(Room, row[light_end:room_end])
    light.device = rows.instance(Device, row[room_end:]) if row[room_end] is not None else None
    if command is None:  # a stop takes no state: the device says where its fade is
        return _store_desired(light, {}, None, {"stop": True, "cause": cause})
    return _store_desired(
        light, command.state(), command.transition_ms, {"hold": hold, "stop": stop, "cause": cause}
    )


def light_set_desired(
    *,
    light: Light,
    on: bool | None = None,
    state: dict[str, Any] | None = None,
    transition_ms: int | None = None,
    hold: bool = False,
    stop: bool = False,
    cause: str | None = None,
) -> Light:
    """light_command_apply for the hub's own callers, from a partial state (`on` alone: a shorthand
    for {"on": on}), checked by the same schema; Light.DoesNotExist when the light is gone."""
    update = dict(state or {})
    if on is not None:
        update["on"] = on
    command = None if stop else light_state.light_command({**update, "transition_ms": transition_ms})
    stored = light_command_apply(light_id=light.pk, command=command, hold=hold, stop=stop, cause=cause)
    if stored is None:
        raise Light.DoesNotExist("no such light")
    return stored


def light_flash(*, light: Light, flash_ms: int, cause: str | None = None) -> None:
    """Have the light's device blink it for flash_ms, then show its state again (docs/protocol.md,
    "Flash").

    A flash is not a desired state: nothing is stored, no version is taken. The light's desired
    state and version go out with flash_ms over the path a desired state takes, once the current
    transaction commits (after the states it stored); a device behind applies that state first. A
    device that only polls misses the flash (logged). LightStateError when flash_ms is out of
    range, the light has no device, or its firmware cannot flash (lights capability < 4).
    """
    try:
        protocol.check_flash(flash_ms)
    except protocol.ProtocolError as error:
        raise LightStateError(error.reason) from error
    current = Light.objects.select_related("room", "device").filter(pk=light.pk).first()
    if current is None:
        raise Light.DoesNotExist("no such light")
    device = current.device
    if device is None:
        raise LightStateError(_("the light has no device to flash it"))
    if not protocol.flash_capable(device.lights_capability):
        raise LightStateError(
            _("the firmware of device %(device)s cannot flash a light; update it")
            % {"device": device.device_id}
        )

    def deliver() -> None:
        # The device's paths are read when it goes: a socket may have opened or closed since.
        path = delivery.deliver_desired(device=device, lights=[current], flash_ms=flash_ms, cause=cause)
        if path == delivery.PATH_POLL:
            logger.warning("flash of light %s not sent: its device has no live connection", current.pk)

    transaction.on_commit(deliver)


def _update_of(on: bool | None, state: dict[str, Any] | None) -> dict[str, Any]:
    update = dict(state or {})
    if on is not None:
        update["on"] = on
    light_state.check_update(update)
    return update


def _light_select() -> str:
    lights, rooms, devices = Light._meta.db_table, Room._meta.db_table, Device._meta.db_table
    return (
        f"SELECT {rows.select_list(Light, 'l')}, {rows.select_list(Room, 'r')}, {rows.select_list(Device, 'd')} "  # noqa: S608 - names from model metadata; values are bound parameters
        f"FROM {lights} l JOIN {rooms} r ON r.id = l.room_id LEFT JOIN {devices} d ON d.id = l.device_id "
    )


@cache
def _light_sql() -> str:
    return f"{_light_select()}WHERE l.id = %s{_lock_lights()}"


@cache
def _member_light_sql() -> str:
    memberships = Membership._meta.db_table
    return (
        f"{_light_select()}WHERE l.id = %s AND r.home_id IN "  # noqa: S608 - names from model metadata; values are bound parameters
        f"(SELECT m.home_id FROM {memberships} m WHERE m.user_id = %s){_lock_lights()}"
    )


def _store_desired(
    locked: Light, update: dict[str, Any], transition_ms: int | None, wire: dict[str, Any] | None = None
) -> Light:
    """Write the next desired state of a light read (and locked) in this transaction, then deliver it.

    LightStateError before anything is written when the light's kind or range refuses the update.
    """
    transition_ms = light_state.check_transition(transition_ms)
    wire = {key: value for key, value in (wire or {}).items() if value}
    if wire.get("hold") or wire.get("stop"):  # neither switches the light: the desired `on` stays
        update = {**update, "on": locked.desired_on}
    # Adaptive white (issue 23): a manual change pauses what it changes; off/on resumes.
    update = write_watcher.desired_update(locked, update)
    if update.keys() == {"on"}:  # a switch: the brightness and colour stay as they are
        locked.desired_on = update["on"]
    else:
        light_state.set_desired(locked, light_state.merged_desired(locked, update))
    locked.desired_hold = bool(wire.get("hold"))
    locked.desired_version += 1
    locked.desired_at = timezone.now()
    # Written out, like the reads before it: Model.save() cost a third of a token's switch.
    with connection.cursor() as cursor:
        cursor.execute(
            _DESIRED_SQL.format(table=connection.ops.quote_name(Light._meta.db_table)),
            [
                locked.desired_on,
                locked.desired_hold,
                locked.desired_brightness,
                locked.desired_color_temp_kelvin,
                locked.desired_rgb,
                locked.desired_version,
                connection.ops.adapt_datetimefield_value(locked.desired_at),
                locked.pk,
            ],
        )
    if locked.device is not None:
        device = locked.device
        # The device row was read with the light, in this transaction: no second read. The
        # device goes first (on_commit keeps order): it is on the way to the confirmed state.
        transaction.on_commit(
            lambda: delivery.deliver_desired(
                device=device, lights=[locked], fresh=True, transition_ms=transition_ms, **wire
            )
        )
    _publish(locked)
    return locked


def lights_set_desired(
    *,
    lights: QuerySet[Light],
    on: bool | None = None,
    state: dict[str, Any] | None = None,
    transition_ms: int | None = None,
) -> list[dict[str, Any]]:
    """Store a desired state for many lights at once (e.g. "all off"), then deliver it.

    One transaction, one version bump per light, one UPDATE (per 500 lights; per light when
    brightness or colour change), one event crossing to the loop for the dashboards, and one
    state.set per device once committed. state is a partial state (as a light command's); each
    light takes the fields its kind has (an on/off light just switches), a colour temperature
    brought into its range. Returns each light as the API shows it (selectors.light_payload).
    """
    return lights_set_desired_states(groups=[(lights, _update_of(on, state))], transition_ms=transition_ms)


@transaction.atomic
def lights_set_desired_states(
    *,
    groups: list[tuple[QuerySet[Light], bool | dict[str, Any]]],
    transition_ms: int | None = None,
) -> list[dict[str, Any]]:
    """lights_set_desired for several (lights, state) groups in one transaction (a scene's states).

    Each group's state is a partial state, or a bool for {"on": bool}. A light in more than one
    group takes the state of the first. Returns each light as the API shows it
    (selectors.light_payload), sorted by home, room and name: the dashboards' events carry the
    same payloads, built once. LightStateError (nothing stored) for a refused value.
    """
    transition_ms = light_state.check_transition(transition_ms)
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    # Each light (its room attached) with its device's columns (_BULK_DEVICE_FIELDS, None
    # without a device): a fan-out needs five columns of each device, not 1,000 Device instances.
    changed: list[tuple[Light, tuple[Any, ...]]] = []
    seen: set[int] = set()
    rooms: dict[int, Room] = {}
    light_end = rows.width(Light)
    room_end = light_end + rows.width(Room)
    with connection.cursor() as cursor:
        for lights, wanted in groups:
            update = {"on": wanted} if isinstance(wanted, bool) else wanted
            # The group's filter stays the ORM's (one subquery, compiled once); the rows are read
            # written out: building 1,000 lights with their room and device through the ORM cost
            # more than the rest of a scene's apply (bench/README.md).
            try:
                subquery, params = lights.order_by().values("pk").query.sql_with_params()
            except EmptyResultSet:  # e.g. lights.none()
                continue
            cursor.execute(_locked_lights_sql(subquery), params)
            locked: list[tuple[Light, tuple[Any, ...]]] = []
            for row in cursor.fetchall():
                light = rows.instance(Light, row[:light_end])
                if light.pk in seen:
                    continue
                room = rooms.get(light.room_id)
                if room is None:  # a home's 1,000 lights are in a few rooms: each built once
                    room = rooms[light.room_id] = rows.instance(Room, row[light_end:room_end])
                light.room = room
                locked.append((light, row[room_end:]))
            pks = [light.pk for light, _ in locked]
            if update.keys() == {"on"}:
                on = update["on"]
                # Written out: the ORM prepared each of 1,000 ids of a scene one by one (~50 ms).
                for start in range(0, len(pks), _BULK_CHUNK):
                    chunk = pks[start : start + _BULK_CHUNK]
                    cursor.execute(
                        _DESIRED_MANY_SQL.format(
                            table=connection.ops.quote_name(Light._meta.db_table),
                            ids=", ".join(["%s"] * len(chunk)),
                        ),
                        [on, at, *chunk],
                    )
                write_watcher.lights_switched(
                    [light for light, _ in locked], on
                )  # adaptive white: off/on resumes
                for light, _ in locked:
                    light.desired_on, light.desired_hold = on, False
            else:
                # Each light merges the update into its own state (its kind, its range).
                for light, _ in locked:
                    # Adaptive white: a manual change pauses what it changes.
                    light_update = write_watcher.desired_update(light, update)
                    light_state.set_desired(light, light_state.merged_desired_lenient(light, light_update))
                cursor.executemany(
                    _DESIRED_STATE_SQL.format(table=connection.ops.quote_name(Light._meta.db_table)),
                    [
                        (
                            light.desired_on,
                            light.desired_brightness,
                            light.desired_color_temp_kelvin,
                            light.desired_rgb,
                            at,
                            light.pk,
                        )
                        for light, _ in locked
                    ],
                )
            for light, _ in locked:
                light.desired_version, light.desired_at = light.desired_version + 1, now
            seen.update(pks)
            changed += locked
    changed.sort(key=lambda found: (found[0].room.home_id, found[0].room.name, found[0].name))
    payloads: list[dict[str, Any]] = []
    events: dict[int, list[dict[str, Any]]] = {}
    targets: dict[int, tuple[str, dict[str, Any], list[dict[str, Any]]]] = {}
    for light, (device_id, device_name, channel_name, lan_url, lan_token, capability) in changed:
        device_pk = light.device_id
        payload = light_payload_of(light, device=None if device_pk is None else (device_id, device_name))
        payloads.append(payload)
        # A copy (its values are scalars): the events are sent later, on the loop, and what the
        # caller does with the answer must not reach the dashboards.
        events.setdefault(light.room.home_id, []).append(realtime.light_state_event(dict(payload)))
        if device_pk is not None:
            paths = {"channel_name": channel_name, "lan_url": lan_url, "lan_token": lan_token}
            targets.setdefault(device_pk, (device_id, paths, []))[2].append(
                light_wire_entry(light, capability=capability, transition_ms=transition_ms)
            )
    # Devices first: the commands are what the user waits for; the dashboards follow. The
    # devices' paths were read in this transaction, so they are current: not read again.
    if targets:
        transaction.on_commit(partial(delivery.deliver_desired_many, targets=list(targets.values())))
    for home_id, home_events in events.items():
        transaction.on_commit(partial(realtime.publish_many_to_home, home_id, home_events))
    return payloads


# What a fan-out needs of each device: its payload's two fields and its paths (delivery).
_BULK_DEVICE_FIELDS = ("device_id", "name", "channel_name", "lan_url", "lan_token", "lights_capability")


def _locked_lights_sql(subquery: str) -> str:
    """Lights whose id the subquery gives, with their room and _BULK_DEVICE_FIELDS of their
    device (NULL without one), locked, by id (the order every bulk write locks them in)."""
    lights, rooms, devices = Light._meta.db_table, Room._meta.db_table, Device._meta.db_table
    return (
        f"SELECT {rows.select_list(Light, 'l')}, {rows.select_list(Room, 'r')}, {_bulk_device_columns()} "  # noqa: S608 - names from model metadata; values are bound parameters
        f"FROM {lights} l JOIN {rooms} r ON r.id = l.room_id LEFT JOIN {devices} d ON d.id = l.device_id "
        f"WHERE l.id IN ({subquery}) ORDER BY l.id{_lock_lights()}"
    )


@cache
def _bulk_device_columns() -> str:
    """_BULK_DEVICE_FIELDS of the device joined as d. Text fields: read as they come, the ORM
    converts none of them on any backend (the tests compare the answer with its read)."""
    return rows.columns(Device, _BULK_DEVICE_FIELDS, alias="d")


def _lock_lights() -> str:
    """The row lock of the written-out reads of lights (joined as l). The light rows only:
    PostgreSQL refuses FOR UPDATE on an outer-joined device; SQLite has no row locks (its write
    transactions take the database lock when they begin)."""
    return " FOR UPDATE OF l" if connection.features.has_select_for_update_of else ""


_BULK_CHUNK = 500  # ids per IN (...) list


@transaction.atomic(savepoint=False)
def light_reports_apply(*, device: Device, entries: list[dict[str, Any]]) -> tuple[list[Light], list[str]]:
    """Take in lights a device reports (see protocol.classify_report).

    Returns the lights whose desired state the device must be sent again, and the names of
    reported lights this device does not drive.
    """
    _, resend, unknown = device_lights_reconcile(device=device, entries=entries)
    return resend, unknown


def device_lights_reconcile(
    *, device: Device, entries: list[dict[str, Any]]
) -> tuple[list[Light], list[Light], list[str]]:
    """light_reports_apply inside the caller's transaction, also returning every light of the
    device as stored (sorted by room and name): a device.hello answers with them, without
    reading them again."""
    lights = _lights_of_devices([device]).get(device.pk, {})
    [(resend, unknown)] = _reconcile([(lights, entries)])
    return sorted(lights.values(), key=lambda light: (light.room.name, light.name)), resend, unknown


@transaction.atomic(savepoint=False)
def lights_reports_apply_many(
    *, reports: list[tuple[Device, list[dict[str, Any]]]]
) -> list[tuple[list[Light], list[str]]]:
    """light_reports_apply for the reports of many devices at once (a fan-out's acks): one
    transaction, one read of their lights, one statement for the plain reports."""
    lights = _lights_of_devices([device for device, _ in reports])
    return _reconcile([(lights.get(device.pk, {}), entries) for device, entries in reports])


def _lights_of_devices(devices: list[Device]) -> dict[int, dict[tuple[str, str], Light]]:
    """The lights of these devices, locked, by device and (room, name); lights of one room
    share its instance.

    Each light's device is the one given, not read again: joining the device row to every light
    cost more than the rest of a hello in a connect storm. The read is written out: every report
    and every hello makes it, and building it through the ORM cost more than running it
    (bench/README.md).
    """
    by_pk = {device.pk: device for device in devices}
    device_pks = sorted(by_pk)
    found: dict[int, dict[tuple[str, str], Light]] = {pk: {} for pk in device_pks}
    light_end = rows.width(Light)
    rooms: dict[int, Room] = {}  # a fan-out's 1,000 reports come from a few rooms: built once each
    with connection.cursor() as cursor:
        for start in range(0, len(device_pks), _BULK_CHUNK):
            chunk = device_pks[start : start + _BULK_CHUNK]
            cursor.execute(_lights_of_devices_sql(len(chunk)), chunk)
            for row in cursor.fetchall():
                light = rows.instance(Light, row[:light_end])
                room = rooms.get(light.room_id)
                if room is None:
                    room = rooms[light.room_id] = rows.instance(Room, row[light_end:])
                light.room = room
                light.device = by_pk[light.device_id]  # type: ignore[index]
                found[light.device_id][(room.name, light.name)] = light  # type: ignore[index]
    return found


@cache
def _lights_of_devices_sql(count: int) -> str:
    lights, rooms = Light._meta.db_table, Room._meta.db_table
    placeholders = ", ".join(["%s"] * count)
    return (
        f"SELECT {rows.select_list(Light, 'l')}, {rows.select_list(Room, 'r')} "  # noqa: S608 - names from model metadata; values are bound parameters
        f"FROM {lights} l JOIN {rooms} r ON r.id = l.room_id WHERE l.device_id IN ({placeholders}){_lock_lights()}"
    )


# Every desired write sets desired_hold: only a held target (_store_desired with hold) keeps it.
_DESIRED_MANY_SQL = (
    "UPDATE {table} SET desired_on = %s, desired_hold = FALSE, desired_version = desired_version + 1, "
    "desired_at = %s WHERE id IN ({ids})"
)
_DESIRED_STATE_SQL = (
    "UPDATE {table} SET desired_on = %s, desired_hold = FALSE, desired_brightness = %s, "
    "desired_color_temp_kelvin = %s, desired_rgb = %s, desired_version = desired_version + 1, "
    "desired_at = %s WHERE id = %s"
)
_DESIRED_SQL = (
    "UPDATE {table} SET desired_on = %s, desired_hold = %s, desired_brightness = %s, "
    "desired_color_temp_kelvin = %s, desired_rgb = %s, desired_version = %s, desired_at = %s WHERE id = %s"
)
_REPORTED_SQL = (
    "UPDATE {table} SET reported_on = %s, reported_brightness = %s, reported_color_temp_kelvin = %s, "
    "reported_rgb = %s, reported_cause = %s, reported_version = %s, reported_at = %s WHERE id = %s"
)
# The reported state's columns, as _REPORTED_SQL writes them.
_REPORTED_FIELDS = [
    "reported_on",
    "reported_brightness",
    "reported_color_temp_kelvin",
    "reported_rgb",
    "reported_cause",
]


def _reconcile(
    reports: list[tuple[dict[tuple[str, str], Light], list[dict[str, Any]]]],
) -> list[tuple[list[Light], list[str]]]:
    """Classify each reported light (see protocol.classify_report) and store it; per report,
    the lights to send again and the names the device does not drive."""
    now = timezone.now()
    results: list[tuple[list[Light], list[str]]] = []
    plain: dict[int, Light] = {}  # only the reported fields change: written together
    changed: list[Light] = []
    for lights, entries in reports:
        resend: list[Light] = []
        unknown: list[str] = []
        for entry in entries:
            light = lights.get((entry["room"], entry["light"]))
            if light is None:
                unknown.append(entry["room"] + "/" + entry["light"])
                continue
            outcome = protocol.classify_report(light.desired_version, entry, light.desired_hold)
            reported = entry["state"]
            if outcome == protocol.REPORT_APPLIED and light.reported_version != entry["version"]:
                # The first report of this version: the toggle's round trip is over.
                metrics.TOGGLE_SECONDS.observe((now - light.desired_at).total_seconds())
            light_state.set_reported(light, reported)
            cause = entry.get("cause")
            if cause is None and protocol.adaptive_capable(light.device.lights_capability):  # type: ignore[union-attr]
                cause = protocol.CAUSE_HUB  # a lights-3 device leaves the hub's cause out
            light.reported_cause = cause or ""
            light.reported_version, light.reported_at = entry["version"], now
            fields = [*_REPORTED_FIELDS, "reported_version", "reported_at"]
            if outcome == protocol.REPORT_LOCAL_CHANGE:
                fields += write_watcher.local_change(light, reported)  # adaptive white: off/on resumes
                _take_local_change(light, reported)
                light.desired_version = max(light.desired_version, entry["version"]) + 1
                light.desired_at = now
                fields += [*_DESIRED_FIELDS, "desired_version", "desired_at"]
                resend.append(light)
            elif outcome == protocol.REPORT_AHEAD:
                # The hub forgot versions (restored database): jump past the device's.
                light.desired_version = entry["version"] + 1
                light.desired_at = now
                fields += ["desired_version", "desired_at"]
                resend.append(light)
            elif outcome == protocol.REPORT_CONFLICT:
                resend.append(light)
            if "kind" in entry:
                fields += _take_device_support(light, entry)
            if len(fields) == len(_REPORTED_FIELDS) + 2:
                plain[light.pk] = light
            else:
                plain.pop(light.pk, None)
                light.save(update_fields=fields)
            changed.append(light)
            if entry.get("manual"):
                write_watcher.device_manual_change(
                    light, entry["manual"], entry.get("cause") or protocol.CAUSE_HUB
                )
        results.append((resend, unknown))
    if plain:
        with connection.cursor() as cursor:
            at = connection.ops.adapt_datetimefield_value(now)
            cursor.executemany(
                _REPORTED_SQL.format(table=connection.ops.quote_name(Light._meta.db_table)),
                [
                    (
                        light.reported_on,
                        light.reported_brightness,
                        light.reported_color_temp_kelvin,
                        light.reported_rgb,
                        light.reported_cause,
                        light.reported_version,
                        at,
                        light.pk,
                    )
                    for light in plain.values()
                ],
            )
    events: dict[int, list[dict[str, Any]]] = {}
    for light in changed:
        events.setdefault(light.room.home_id, []).append(realtime.light_state_event(light_payload(light)))
    for home_id, home_events in events.items():
        transaction.on_commit(partial(realtime.publish_many_to_home, home_id, home_events))
    return results


def _take_local_change(light: Light, reported: dict[str, Any]) -> None:
    """A change made on the device (its page, a button) becomes the desired state: the fields the
    light's kind has; a value the hub's record of the light refuses leaves that field as it was."""
    fields = light_state.KIND_FIELDS.get(light.kind, ())
    update = {key: value for key, value in reported.items() if key == "on" or key in fields}
    try:
        light_state.set_desired(light, light_state.merged_desired(light, update))
    except LightStateError:
        light.desired_on, light.desired_hold = bool(reported["on"]), False


def _take_device_support(light: Light, entry: dict[str, Any]) -> list[str]:
    """Store what the device's hello says it drives for this light; the fields that changed."""
    kelvin = entry.get("kelvin") or [None, None]
    support = (entry["kind"], kelvin[0], kelvin[1])
    if support == (light.device_kind, light.device_min_kelvin, light.device_max_kelvin):
        return []
    light.device_kind, light.device_min_kelvin, light.device_max_kelvin = support
    return ["device_kind", "device_min_kelvin", "device_max_kelvin"]


def _publish(light: Light) -> None:
    event = realtime.light_state_event(light_payload(light))
    home_id = light.room.home_id
    transaction.on_commit(lambda: realtime.publish_to_home(home_id, event))


def _check_device_home(device: Device | None, room: Room) -> None:
    if device is not None and device.home_id != room.home_id:
        raise ValidationError(_("the device belongs to another home"))


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > protocol.MAX_NAME_LENGTH:
        raise ValidationError(
            _("a light needs a name of 1 to %(max)d characters") % {"max": protocol.MAX_NAME_LENGTH}
        )
    return name
