"""The light store: each light's state, the hub version it runs, and whether it changed locally.

Synchronous and pure apart from the JSON file it persists to, so it can be proven under
MicroPython. Pins are driven through the optional output (light_output.LightOutputs), never
directly. A light's kind, pins and colour-temperature range come from the config. It also runs
the hub's held fades (docs/protocol.md, "Adaptive lighting") on the state, on or off, and its
flashes (a blink on the output that ends in the light's state; "Flash").
"""

from . import protocol
from .compat import const, ticks_diff, ticks_ms
from .storage import StorageError, read_json, write_json

# What a light record takes from its config item (the config is the pin mapping).
_ITEM_FIELDS = const(("pin", "pins", "kind", "kelvin"))
_FLASH_HALF_MS = const(250)  # a flash blinks at 2 Hz: 250 ms lit, 250 ms dark


def light_key(room, light):
    """The store's key for a light."""
    return room + "/" + light


class LightStore:
    """The lights this device drives; every change is persisted before it is reported."""

    def __init__(self, path, initial_lights=(), output=None, clock=ticks_ms):
        self.path = path
        self.output = output  # drive(key, record, state, transition_ms): the hardware
        self.clock = clock
        # key -> {"room", "light", "pin", "kind", ("pins", "kelvin"), "state", "version", "changed",
        # "cause", ("manual")}
        self.lights = {}
        # key -> [start fields, start ticks, duration ms]: the held fade of a hold entry, running
        # on the state whether the light is on or off (not persisted: a reboot ends it at its end)
        self.fades = {}
        # key -> [start ticks, duration ms]: a hub's flash blinking the output (not persisted)
        self.flashes = {}
        self.on_flash = None  # on_flash(key, flash_ms) when one starts: run flash_step until it ends
        self.order = []  # keys in a stable order
        self.load_error = None
        self.rejected = []  # why hub entries of the last apply_hub/replace were refused
        for item in initial_lights:
            self._add(item["room"], item["light"], item, {"on": False}, 0, False)

    # ---- reading -----------------------------------------------------------------------

    def get(self, room, light):
        """The record of one light, or None."""
        return self.lights.get(light_key(room, light))

    def entry(self, room, light, described=False):
        """One light as a protocol light entry (None when unknown); described adds kind and kelvin (hello)."""
        record = self.get(room, light)
        if record is None:
            return None
        cause = record.get("cause")
        return protocol.light_entry(
            record["room"],
            record["light"],
            dict(record["state"]),
            record["version"],
            record["changed"],
            kind=record["kind"] if described else None,
            kelvin=record.get("kelvin") if described else None,
            cause=None if cause == protocol.CAUSE_HUB else cause,  # absent: the hub
            manual=record.get("manual"),
        )

    def entries(self, described=False):
        """Every light as protocol light entries, in a stable order."""
        return [
            self.entry(self.lights[key]["room"], self.lights[key]["light"], described) for key in self.order
        ]

    def summary(self):
        """Every light as /status shows it: kind, on, the fields of its kind, version."""
        result = []
        for key in self.order:
            record = self.lights[key]
            light = {"room": record["room"], "light": record["light"], "kind": record["kind"]}
            light.update(record["state"])
            light["version"] = record["version"]
            if record.get("kelvin"):
                light["kelvin"] = record["kelvin"]
            result.append(light)
        return result

    def merged(self, record, update):
        """The light's state with a partial update merged (protocol.merge_state); ProtocolError if bad."""
        return protocol.merge_state(record["state"], update, record["kind"], record.get("kelvin"))

    # ---- changing ----------------------------------------------------------------------

    def apply_hub(self, entries):
        """Apply desired states from the hub that are newer than what each light runs.

        Returns (applied_keys, unknown_keys); stale or repeated entries change nothing. An entry
        with flash_ms also starts a flash of the light (flash_step), whatever its version.
        """
        applied = []
        unknown = []
        self.rejected = []
        for entry in entries:
            key = light_key(entry["room"], entry["light"])
            record = self.lights.get(key)
            if record is None:
                unknown.append(key)
                continue
            if protocol.should_apply(record["version"], entry["version"]) and self._apply(record, entry):
                applied.append(key)
            flash_ms = entry.get("flash_ms")
            if flash_ms and self.output is not None:
                self.flashes[key] = [self.clock(), flash_ms]
                if self.on_flash is not None:
                    self.on_flash(key, flash_ms)
        if applied:
            self.save()
        return applied, unknown

    def flash_step(self):
        """Show each flash's phase now: the light lit at full brightness or dark, changing every
        _FLASH_HALF_MS, first away from its state; at the end, its state again. Returns the ms
        until the next change, or None when no flash runs."""
        now = self.clock()
        wait = None
        for key in list(self.flashes):
            started, duration = self.flashes[key]
            record = self.lights.get(key)
            elapsed = ticks_diff(now, started)
            if record is None or elapsed >= duration:
                del self.flashes[key]
                if record is not None:
                    self._drive(record, 0, True)  # its state, or a held fade's point and on to its end
                continue
            state = dict(record["state"])
            state["on"] = ((elapsed // _FLASH_HALF_MS) % 2 == 0) != state["on"]  # first: away from it
            if state["on"] and "brightness" in state:
                state["brightness"] = protocol.MAX_BRIGHTNESS
            self.output.drive(key, record, state, 0)
            left = min(_FLASH_HALF_MS - elapsed % _FLASH_HALF_MS, duration - elapsed)
            wait = left if wait is None or left < wait else wait
        return wait

    def replace(self, entries):
        """Take the hub's authoritative list of lights (hub.welcome), keeping known pins.

        Lights the hub no longer lists are dropped; new ones (no pins until the config maps
        them) take the hub's kind and state. Returns the keys whose state was applied.
        """
        old = self.lights
        self.lights = {}
        self.order = []
        self.rejected = []
        applied = []
        for entry in entries:
            key = light_key(entry["room"], entry["light"])
            record = old.get(key)
            new = record is None
            if new:
                item = {"kind": entry.get("kind"), "kelvin": entry.get("kelvin")}
                self._add(entry["room"], entry["light"], item, {"on": False}, 0, False)
                record = self.lights[key]
            else:
                self.lights[key] = record
                self.order.append(key)
            if (new or protocol.should_apply(record["version"], entry["version"])) and self._apply(
                record, entry
            ):
                applied.append(key)
        for key, record in old.items():
            if key not in self.lights:
                self.fades.pop(key, None)
            if key not in self.lights and self.output is not None:
                self.output.drive(
                    key, record, {"on": False}
                )  # a light given to another device goes dark here
        self.save()
        return applied

    def local_action(self, room, light, action, fields=None, transition_ms=0, cause=protocol.CAUSE_WEB):
        """Apply a person's action on the device itself; marks the light changed. None if unknown.

        fields: brightness, color_temp_kelvin, rgb to set with it (a manual change: it ends the
        light's held fade and is reported in "manual"); ProtocolError (state untouched) when the
        action or a field is bad for this light. cause: CAUSE_WEB or CAUSE_BUTTON.
        """
        record = self.get(room, light)
        if record is None:
            return None
        update = dict(fields or {})
        update["on"] = protocol.apply_action(record["state"], action)["on"]
        key = light_key(room, light)
        # A person's brightness or colour starts from where the held fade is, and ends it.
        base = self.point(key) if fields else record["state"]
        state = protocol.merge_state(base, update, record["kind"], record.get("kelvin"))
        if fields:
            self.fades.pop(key, None)
            manual = record.get("manual") or []
            for part in protocol.manual_parts(fields):
                if part not in manual:
                    manual.append(part)
            record["manual"] = manual
        self._set(record, state, record["version"], True, transition_ms, cause)
        self.save()
        return self.entry(room, light)

    def restore_outputs(self):
        """Drive every pin to its stored state (after boot)."""
        for key in self.order:
            self._drive(self.lights[key])

    # ---- flash ---------------------------------------------------------------------------

    def load(self):
        """Read the persisted lights; a missing file keeps the initial set, a corrupt one is reported.

        Returns True when a saved state was loaded.
        """
        try:
            saved = read_json(self.path)
        except StorageError as error:
            self.load_error = str(error)
            return False
        if saved is None:
            return False
        try:
            lights = _check_saved(saved)
        except (ValueError, KeyError, TypeError) as error:
            self.load_error = self.path + " is invalid: " + str(error)
            return False
        configured = self.lights
        self.lights = {}
        self.order = []
        for item in lights:
            key = light_key(item["room"], item["light"])
            # The config is the pin mapping; the saved pins and kind only serve lights it does not name.
            source = configured.get(key, item)
            self._add(item["room"], item["light"], source, item["state"], item["version"], item["changed"])
            record = self.lights[key]
            record["cause"] = item.get("cause", protocol.CAUSE_HUB)
            if item.get("manual"):
                record["manual"] = item["manual"]
        return True

    def save(self):
        """Persist every light atomically."""
        write_json(self.path, {"lights": [dict(self.lights[key]) for key in self.order]})

    # ---- internals -------------------------------------------------------------------------

    def _add(self, room, light, item, state, version, changed):
        key = light_key(room, light)
        if key not in self.lights:
            self.order.append(key)
        record = {"room": room, "light": light, "version": version, "changed": changed}
        record["cause"] = protocol.CAUSE_HUB
        for name in _ITEM_FIELDS:
            if item.get(name) is not None:
                record[name] = item[name]
        record["pin"] = item.get("pin")
        record["kind"] = item.get("kind") or protocol.KIND_ONOFF
        if record["kind"] == protocol.KIND_TUNABLE_WHITE:
            record["kelvin"] = list(record.get("kelvin") or protocol.DEFAULT_KELVIN_RANGE)
        else:
            record.pop("kelvin", None)
        record["state"] = protocol.merge_state(state, {}, record["kind"], record.get("kelvin"))
        self.lights[key] = record

    def _apply(self, record, entry):
        # A hub state merged into the light's; one it cannot take is refused (state kept).
        key = light_key(record["room"], record["light"])
        cause = entry.get("cause") or protocol.CAUSE_HUB
        current = record["state"]
        if entry.get("stop"):  # the held fade ends where it is; the hub adopts that (changed)
            state = self.point(key)
            self.fades.pop(key, None)
            self._set(record, state, entry["version"], True, 0, cause)
            return True
        hold = entry.get("hold")
        if hold and record["changed"]:  # a person's change the hub has not seen wins
            record["version"] = entry["version"]
            return True
        update = entry["state"]
        if hold:
            update = dict(update)
            update["on"] = current["on"]  # a held target never switches the light
        try:
            state = self.merged(record, update)
        except protocol.ProtocolError as error:
            self.rejected.append(key + ": " + error.reason)
            return False
        transition_ms = entry.get("transition_ms", 0)
        if hold and transition_ms:
            self.fades[key] = [_fields(self.point(key)), self.clock(), transition_ms]
        elif hold or _fields(state) != _fields(current):
            self.fades.pop(key, None)  # a new brightness or colour ends the held fade
        if not hold:
            record.pop("manual", None)
        self._set(record, state, entry["version"], False, transition_ms, cause)
        return True

    def point(self, key):
        """A light's state with the brightness and colour its held fade has reached now."""
        record = self.lights[key]
        state = record["state"]
        fade = self.fades.get(key)
        if fade is None:
            return dict(state)
        start, started, duration = fade
        elapsed = ticks_diff(self.clock(), started)
        if elapsed >= duration:
            del self.fades[key]
            return dict(state)
        # elapsed / duration in 14-bit fixed point, products below 2**30 (as light_output's fades).
        shift = 0
        while (duration >> shift) > 65535:
            shift += 1
        part = ((max(0, elapsed) >> shift) << 14) // (duration >> shift)
        result = dict(state)
        for name in start:
            low, high = start[name], state[name]
            if isinstance(high, list):
                result[name] = [low[i] + (((high[i] - low[i]) * part + 8192) >> 14) for i in range(3)]
            else:
                result[name] = low + (((high - low) * part + 8192) >> 14)  # rounded
        return result

    def _set(self, record, state, version, changed, transition_ms=0, cause=None):
        before = record["state"]
        record["state"] = state
        record["version"] = version
        record["changed"] = changed
        if state != before:  # one that changes nothing keeps its cause, and a running fade
            if cause is not None:
                record["cause"] = cause
            self._drive(record, transition_ms, not before["on"])

    def _drive(self, record, transition_ms=0, was_off=False):
        if self.output is None:
            return
        key = light_key(record["room"], record["light"])
        self.flashes.pop(key, None)  # a new state (or the flash's end) ends a flash
        state = record["state"]
        fade = self.fades.get(key)
        if fade is not None and was_off and state["on"]:
            # Switched on during a held fade: straight to the point it has reached, then on to its end.
            self.output.drive(key, record, self.point(key), 0)
            fade = self.fades.get(key)  # point() drops a fade that is over
            left = 0 if fade is None else fade[2] - ticks_diff(self.clock(), fade[1])
            if left > 0:
                self.output.drive(key, record, state, left)
            return
        self.output.drive(key, record, state, transition_ms)


def _fields(state):
    # A state's brightness and colour (on left out).
    fields = dict(state)
    fields.pop("on", None)
    return fields


def _check_saved(saved):
    lights = saved["lights"]
    if not isinstance(lights, list):
        raise ValueError("lights must be a list")
    for item in lights:
        protocol.check_name(item["room"], "room")
        protocol.check_name(item["light"], "light")
        protocol.kind_fields(item.get("kind", protocol.KIND_ONOFF))  # a known kind
        if item.get("kelvin") is not None:
            protocol.check_kelvin_range(item["kelvin"])
        for pin in (item.get("pins") or {}).values():
            if isinstance(pin, bool) or not isinstance(pin, int):
                raise ValueError("bad pin")
        protocol.check_state(item["state"])
        version = item["version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise ValueError("bad version")
        if not isinstance(item.get("changed", False), bool):
            raise ValueError("bad changed flag")
        item["changed"] = item.get("changed", False)
        if not isinstance(item.get("cause", ""), str):
            raise ValueError("bad cause")
        for part in item.get("manual") or ():
            if part not in protocol.MANUAL_PARTS:
                raise ValueError("bad manual")
    return lights
