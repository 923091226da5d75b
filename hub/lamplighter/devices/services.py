"""Writes for devices: registration, credentials, what a device says, and presence."""

import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lamplighter import realtime, rows
from lamplighter.devices.models import Device, PairingCode
from lamplighter.devices.selectors import device_payload
from lamplighter.firmware import protocol
from lamplighter.homes.models import Home
from lamplighter.secrets import new_secret, secret_hash, secret_matches


def device_register(*, home: Home, name: str) -> tuple[Device, str]:
    """Register a device in a home; return it with its secret, shown once and stored only as a hash."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationError(_("a device needs a name of 1 to 64 characters"))
    if Device.objects.filter(home=home, name=name).exists():
        raise ValidationError(_("a device named “%(name)s” already exists in this home") % {"name": name})
    secret = new_secret()
    device = Device.objects.create(
        home=home, name=name, device_id="dev-" + secrets.token_hex(6), secret_hash=secret_hash(secret)
    )
    return device, secret


def device_rename(*, device: Device, name: str) -> Device:
    """Rename a device."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationError(_("a device needs a name of 1 to 64 characters"))
    if Device.objects.filter(home=device.home, name=name).exclude(pk=device.pk).exists():
        raise ValidationError(_("a device named “%(name)s” already exists in this home") % {"name": name})
    device.name = name
    device.save(update_fields=["name"])
    return device


def device_rotate_secret(*, device: Device) -> str:
    """Give the device a new secret; the old one stops working at once, live sockets included."""
    secret = new_secret()
    device.secret_hash = secret_hash(secret)
    device.save(update_fields=["secret_hash"])
    device_id = device.device_id
    transaction.on_commit(lambda: realtime.close_device_socket(device_id))
    return secret


def device_delete(*, device: Device) -> None:
    """Delete a device; its lights stay, without a device."""
    device_id = device.device_id
    device.delete()
    transaction.on_commit(lambda: realtime.close_device_socket(device_id))


def credentials_plausible(device_id: str, secret: str) -> bool:
    """Whether these could be a device's credentials at all (checked before any query).

    NUL is refused: PostgreSQL's text cannot hold it, and the query would fail with a DataError
    (a 500, or, for a poll sharing its read with others, theirs too) instead of a 401.
    """
    return (
        bool(device_id and secret)
        and len(device_id) <= 64
        and len(secret) <= 256
        and "\x00" not in device_id
        and "\x00" not in secret
    )


def device_authenticate(*, device_id: str, secret: str) -> Device | None:
    """The device with this id and secret, or None."""
    if not credentials_plausible(device_id, secret):
        return None
    # Written out: every device socket and message authenticates, and building the query (the
    # ORM's .first(), then a RawQuerySet's column mapping) cost more than running it in a
    # connect storm of 10,000 devices.
    with db_connection.cursor() as cursor:
        cursor.execute(_device_by_id_sql(), [device_id])
        row = cursor.fetchone()
    if row is None:
        return None
    device = rows.instance(Device, row)
    if not secret_matches(secret, device.secret_hash):
        return None
    return device


@cache
def _device_by_id_sql() -> str:
    return f"SELECT {rows.select_list(Device, 'd')} FROM {Device._meta.db_table} d WHERE d.device_id = %s"  # noqa: S608 - names from model metadata; values are bound parameters


@cache
def _presence_sql() -> str:
    columns = rows.columns(Device, ["online", "connection", "channel_name"])
    return f"SELECT {columns} FROM {Device._meta.db_table} WHERE id = %s"  # noqa: S608 - names from model metadata; values are bound parameters


def device_hello(*, device: Device, data: dict[str, Any], connection: str) -> dict[str, Any]:
    """Take in a device.hello: who the device is now and its lights; answer with hub.welcome."""
    from lamplighter.lights.selectors import device_welcome
    from lamplighter.lights.services import device_lights_reconcile

    lan_url = data.get("lan_url") or ""
    facts = {
        "protocol_version": data["protocol"],
        "lights_capability": protocol.lights_capability(data),
        "firmware_version": data["firmware_version"],
        "board": data["board"],
        "mode": data.get("mode", protocol.MODE_LOCAL),
        "lan_url": lan_url if _is_http_url(lan_url) else "",
        "lan_token": data.get("lan_token") or "",
    }
    # Thousands of devices reconnect at once after a hub restart: each costs as few queries as
    # can be (no write when it says what it said before; its lights read once, not twice).
    # No savepoint of its own: in a dbbatch batch the call has one already, and each SQL
    # statement of the database thread waits to take the GIL back from the busy event loop.
    with transaction.atomic(savepoint=False):
        if any(getattr(device, name) != value for name, value in facts.items()):
            rows.update(Device, device.pk, facts)
            for name, value in facts.items():
                setattr(device, name, value)
        lights, _, _ = device_lights_reconcile(device=device, entries=data["lights"])
        device_seen(device=device, connection=connection)
    return device_welcome(device=device, lights=lights)


def device_report(*, device: Device, data: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """Take in a state.report; answer with a state.set for lights the device must change."""
    from lamplighter.lights.services import light_reports_apply

    with transaction.atomic(savepoint=False):
        resend, unknown = light_reports_apply(device=device, entries=data["lights"])
        device_seen(device=device, connection=connection)
    return _report_replies(resend, unknown, device.lights_capability)


def device_reports_many(*, reports: list[tuple[Device, dict[str, Any], str]]) -> list[list[dict[str, Any]]]:
    """device_report for many devices at once (each: device, data, connection), in one
    transaction: when 1,000 devices ack a fan-out together, their reports are written together."""
    from lamplighter.lights.services import lights_reports_apply_many

    with transaction.atomic(savepoint=False):
        results = lights_reports_apply_many(reports=[(device, data["lights"]) for device, data, _ in reports])
        for device, _, connection in reports:
            device_seen(device=device, connection=connection)
    return [
        _report_replies(resend, unknown, device.lights_capability)
        for (resend, unknown), (device, _, _) in zip(results, reports, strict=True)
    ]


def _report_replies(resend: list[Any], unknown: list[str], capability: int) -> list[dict[str, Any]]:
    from lamplighter.lights.selectors import light_wire_entry

    replies = []
    if resend:
        replies.append(
            protocol.build_state_set([light_wire_entry(light, capability=capability) for light in resend])
        )
    if unknown:
        replies.append(
            protocol.build_message_reject(
                protocol.ERROR_UNKNOWN_LIGHT, "not driven by this device: " + ", ".join(unknown)[:200]
            )
        )
    return replies


def device_heartbeat(*, device: Device, data: dict[str, Any], connection: str) -> dict[str, Any]:
    """Take in a heartbeat.ping with the device's health figures; answer heartbeat.pong."""
    health: dict[str, Any] = {key: data[key] for key in ("uptime", "free_memory", "rssi") if key in data}
    # Health figures ride along with the (throttled) presence write: a heartbeat is not a write.
    device_seen(device=device, connection=connection, health=health)
    return protocol.build_heartbeat_pong()


def seen_write_interval() -> float:
    """Seconds a device's last_seen may go unwritten while it stays in touch the same way.

    Half of what the heartbeat budget leaves after one interval: a device heartbeating on time
    then always has a last_seen younger than (budget + interval) / 2, well inside the budget.
    """
    interval = settings.LAMPLIGHTER_HEARTBEAT_INTERVAL
    return max(0.0, (interval * settings.LAMPLIGHTER_MISSED_HEARTBEATS - interval) / 2)


def device_seen_recently(*, device: Device, connection: str, now: Any = None) -> bool:
    """True when recording contact now would write nothing (see device_seen); no query."""
    now = now or timezone.now()
    return bool(
        device.online
        and device.connection == connection
        # In touch over HTTP with a socket still on record: that socket is dead, clear it now.
        and not (connection == Device.Connection.HTTP and device.channel_name)
        and device.last_seen is not None
        and (now - device.last_seen).total_seconds() < seen_write_interval()
    )


def device_seen(
    *,
    device: Device,
    connection: str,
    channel_name: str | None = None,
    health: dict[str, Any] | None = None,
    fresh: bool = False,
) -> None:
    """Record contact; a device that was offline (or changed connection) is announced.

    fresh: `device` was read whole in this transaction (a socket's authentication), so its
    presence is current and not read again.

    `device` must hold the row as this request or socket last read or wrote it (the poll view
    loads it per request; a socket's consumer owns its device's presence): when it shows the
    same connection, online, seen within seen_write_interval(), nothing is written. That keeps
    polls and heartbeats of thousands of devices from being one database write each.
    """
    now = timezone.now()
    if channel_name is None and device_seen_recently(device=device, connection=connection, now=now):
        return
    # Written out, like the update below: a connect storm records 10,000 sockets.
    if fresh:
        found: tuple[Any, ...] | None = (device.online, device.connection, device.channel_name)
    else:
        with db_connection.cursor() as cursor:
            cursor.execute(_presence_sql(), [device.pk])
            found = cursor.fetchone()
    before = (
        None
        if found is None
        else {"online": bool(found[0]), "connection": found[1], "channel_name": found[2]}
    )
    updates: dict[str, Any] = {"last_seen": now, "online": True, "connection": connection, **(health or {})}
    if channel_name is not None:
        updates["channel_name"] = channel_name
    elif connection == Device.Connection.HTTP:
        # A device polls (or posts its messages) only when it has no socket: a channel_name
        # still on record is a dead socket, and commands routed there (instead of LAN push or
        # the next poll) would be lost until the sweeper noticed.
        updates["channel_name"] = ""
    elif before is not None and not before["channel_name"] and device.channel_name:
        # The sweeper gave up on a socket that was only slow: it is still this one.
        updates["channel_name"] = device.channel_name
    rows.update(Device, device.pk, updates)
    for name, value in updates.items():
        setattr(device, name, value)
    if before is not None and (not before["online"] or before["connection"] != connection):
        # A socket's device was read whole as it connected: current, so not read again (a
        # connect storm announces 10,000 devices). Others are read (the poll route loads a few columns).
        _publish_presence(device.pk, device if channel_name is not None else None)


def device_disconnected(*, device: Device, channel_name: str) -> None:
    """A device's WebSocket closed: offline, unless a newer socket already took over."""
    changed = Device.objects.filter(pk=device.pk, channel_name=channel_name).update(
        online=False, connection=Device.Connection.NONE, channel_name=""
    )
    if changed:
        _publish_presence(device.pk)


def devices_mark_missing_offline(*, now: Any = None) -> int:
    """Mark offline every device not heard from within the heartbeat budget; return how many."""
    now = now or timezone.now()
    budget = settings.LAMPLIGHTER_HEARTBEAT_INTERVAL * settings.LAMPLIGHTER_MISSED_HEARTBEATS
    cutoff = now - timedelta(seconds=budget)
    marked = 0
    for pk in Device.objects.filter(online=True, last_seen__lt=cutoff).values_list("pk", flat=True):
        # Conditional per row, so two hub workers never both announce the same device.
        if Device.objects.filter(pk=pk, online=True, last_seen__lt=cutoff).update(
            online=False, connection=Device.Connection.NONE, channel_name=""
        ):
            marked += 1
            _publish_presence(pk)
    return marked


def devices_forget_connections() -> None:
    """At start of a single-process hub: no WebSocket from before can still be open."""
    Device.objects.exclude(channel_name="").update(channel_name="", connection=Device.Connection.NONE)


def _publish_presence(device_pk: int, device: Device | None = None) -> None:
    if device is None:
        device = next(iter(Device.objects.filter(pk=device_pk)), None)
    if device is None:
        return
    event = realtime.device_presence_event(device_payload(device))
    home_id = device.home_id
    transaction.on_commit(lambda: realtime.publish_to_home(home_id, event))


def _is_http_url(url: str) -> bool:
    return url.startswith(("http://", "https://")) and len(url) <= 256


# ---- pairing: a new device trades a one-time code for its id and secret ----------------------

PAIRING_CODE_TTL = timedelta(minutes=10)
PAIRING_MAX_FAILURES = 5  # wrong codes per client address within the window ...
PAIRING_FAILURE_WINDOW = timedelta(minutes=15)  # ... before that address is locked out


class PairingLocked(Exception):
    """Too many wrong pairing codes from this address: try again later."""


def _pairing_code_hash(code: str) -> str:
    # Keyed with the hub's secret key: a leaked table does not give codes to brute-force offline.
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def pairing_code_create(*, home: Home, user: Any = None) -> tuple[PairingCode, str]:
    """Make a one-time pairing code for the home; return it with the code, shown once."""
    code = "".join(
        secrets.choice(protocol.PAIRING_CODE_ALPHABET) for _ in range(protocol.PAIRING_CODE_LENGTH)
    )
    pairing = PairingCode.objects.create(
        home=home,
        code_hash=_pairing_code_hash(code),
        created_by=user,
        expires_at=timezone.now() + PAIRING_CODE_TTL,
    )
    return pairing, code


def pairing_code_redeem(
    *, code: str, name: str | None, board: str | None, remote_addr: str
) -> tuple[Device, str]:
    """Trade a valid, unused, unexpired code for a new device in its home; return it with its secret.

    ValidationError for a wrong, used or expired code (counted against the address);
    PairingLocked when the address has had too many wrong codes recently.
    """
    from lamplighter.devices.models import PairingFailure

    now = timezone.now()
    remote_addr = (remote_addr or "unknown")[:64]
    recent = PairingFailure.objects.filter(
        remote_addr=remote_addr, created_at__gte=now - PAIRING_FAILURE_WINDOW
    )
    if recent.count() >= PAIRING_MAX_FAILURES:
        raise PairingLocked("too many wrong pairing codes; try again later")
    with transaction.atomic():
        pairing = (
            PairingCode.objects.select_for_update()
            .filter(code_hash=_pairing_code_hash(code), used_at__isnull=True, expires_at__gt=now)
            .select_related("home")
            .first()
        )
        if pairing is not None:
            device, secret = device_register(home=pairing.home, name=_free_device_name(pairing.home, name))
            if board:
                device.board = board
                device.save(update_fields=["board"])
            pairing.used_at = now
            pairing.device = device
            pairing.save(update_fields=["used_at", "device"])
            return device, secret
    PairingFailure.objects.create(remote_addr=remote_addr)
    PairingFailure.objects.filter(created_at__lt=now - PAIRING_FAILURE_WINDOW).delete()
    raise ValidationError(_("unknown, used or expired pairing code"))


def _free_device_name(home: Home, wanted: str | None) -> str:
    base = (wanted or "").strip()[:56] or "new device"
    name = base
    number = 2
    while Device.objects.filter(home=home, name=name).exists():
        name = f"{base} {number}"
        number += 1
    return name


# ---- device logs -----------------------------------------------------------------------------

DEVICE_LOG_KEEP = 200  # lines kept per device


def device_logs_append(*, device: Device, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Store the lines of a log.batch, keep the newest DEVICE_LOG_KEEP, and push them to dashboards."""
    from lamplighter.devices.models import DeviceLogLine
    from lamplighter.devices.selectors import device_log_line_payload

    # The device's clock is its uptime: the newest line of a batch was logged about when the batch
    # arrived, each older one as many seconds earlier as its uptime is smaller (0 after a reboot).
    now = timezone.now()
    newest = max((line["uptime"] for line in data["lines"]), default=0)
    lines = [
        DeviceLogLine(
            device=device,
            seq=line["seq"],
            uptime=line["uptime"],
            level=line["level"],
            text=line["text"][:200],
            happened_at=now - timedelta(seconds=max(0, newest - line["uptime"])),
        )
        for line in data["lines"]
    ]
    if data.get("dropped"):
        lines.insert(
            0,
            DeviceLogLine(
                device=device,
                seq=0,
                uptime=0,
                level="WARN",
                text=f"({data['dropped']} lines dropped on the device)",
                happened_at=now,
            ),
        )
    if not lines:
        return []
    with transaction.atomic():
        created = DeviceLogLine.objects.bulk_create(lines)
        keep_from = (
            DeviceLogLine.objects.filter(device=device)
            .order_by("-id")
            .values_list("id", flat=True)[DEVICE_LOG_KEEP - 1 : DEVICE_LOG_KEEP]
        )
        cutoff = list(keep_from)
        if cutoff:
            DeviceLogLine.objects.filter(device=device, id__lt=cutoff[0]).delete()
    payloads = [device_log_line_payload(line) for line in created]
    event = realtime.device_log_event(device.pk, payloads)
    home_id = device.home_id
    transaction.on_commit(lambda: realtime.publish_to_home(home_id, event))
    return payloads
