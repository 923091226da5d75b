"""The light store: each light's state, the hub version it runs, and whether it changed locally.

Synchronous and pure apart from the JSON file it persists to, so it can be proven under
MicroPython. Pins are driven through the optional output callback, never directly.
"""

from . import protocol
from .storage import StorageError, read_json, write_json


def light_key(room, light):
    """The store's key for a light."""
    return room + "/" + light


class LightStore:
    """The lights this device drives; every change is persisted before it is reported."""

    def __init__(self, path, initial_lights=(), output=None):
        self.path = path
        self.output = output  # callable(pin, on), drives the hardware
        self.lights = {}  # key -> {"room", "light", "pin", "state", "version", "changed"}
        self.order = []  # keys in a stable order
        self.load_error = None
        for item in initial_lights:
            self._add(item["room"], item["light"], item.get("pin"), protocol.light_state(False), 0, False)

    # ---- reading -----------------------------------------------------------------------

    def get(self, room, light):
        """The record of one light, or None."""
        return self.lights.get(light_key(room, light))

    def entry(self, room, light):
        """One light as a protocol light entry (None when unknown)."""
        record = self.get(room, light)
        if record is None:
            return None
        return protocol.light_entry(
            record["room"], record["light"], dict(record["state"]), record["version"], record["changed"]
        )

    def entries(self):
        """Every light as protocol light entries, in a stable order."""
        return [self.entry(self.lights[key]["room"], self.lights[key]["light"]) for key in self.order]

    def summary(self):
        """Every light as /status shows it."""
        return [
            {"room": r["room"], "light": r["light"], "on": r["state"]["on"], "version": r["version"]}
            for r in (self.lights[key] for key in self.order)
        ]

    # ---- changing ----------------------------------------------------------------------

    def apply_hub(self, entries):
        """Apply desired states from the hub that are newer than what each light runs.

        Returns (applied_keys, unknown_keys); stale or repeated entries change nothing.
        """
        applied = []
        unknown = []
        for entry in entries:
            key = light_key(entry["room"], entry["light"])
            record = self.lights.get(key)
            if record is None:
                unknown.append(key)
                continue
            if protocol.should_apply(record["version"], entry["version"]):
                self._set(record, entry["state"], entry["version"], False)
                applied.append(key)
        if applied:
            self.save()
        return applied, unknown

    def replace(self, entries):
        """Take the hub's authoritative list of lights (hub.welcome), keeping known pins.

        Lights the hub no longer lists are dropped; new ones start from the hub's state.
        Returns the keys whose state was applied.
        """
        old = self.lights
        self.lights = {}
        self.order = []
        applied = []
        for entry in entries:
            key = light_key(entry["room"], entry["light"])
            record = old.get(key)
            if record is None:
                self._add(entry["room"], entry["light"], None, entry["state"], entry["version"], False)
                self._drive(self.lights[key])
                applied.append(key)
                continue
            self.lights[key] = record
            self.order.append(key)
            if protocol.should_apply(record["version"], entry["version"]):
                self._set(record, entry["state"], entry["version"], False)
                applied.append(key)
        for key, record in old.items():
            if key not in self.lights and record["pin"] is not None and self.output is not None:
                self.output(record["pin"], False)  # a light given to another device goes dark here
        self.save()
        return applied

    def local_action(self, room, light, action):
        """Apply a person's action on the device itself; marks the light changed. None if unknown."""
        record = self.get(room, light)
        if record is None:
            return None
        state = protocol.apply_action(record["state"], action)
        self._set(record, state, record["version"], True)
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
        pins = dict((key, self.lights[key]["pin"]) for key in self.order)
        self.lights = {}
        self.order = []
        for item in lights:
            key = light_key(item["room"], item["light"])
            # The config is the pin mapping; the saved pin only serves lights it does not name.
            pin = pins[key] if key in pins else item.get("pin")
            self._add(item["room"], item["light"], pin, item["state"], item["version"], item["changed"])
        return True

    def save(self):
        """Persist every light atomically."""
        write_json(self.path, {"lights": [dict(self.lights[key]) for key in self.order]})

    # ---- internals -------------------------------------------------------------------------

    def _add(self, room, light, pin, state, version, changed):
        key = light_key(room, light)
        if key not in self.lights:
            self.order.append(key)
        self.lights[key] = {
            "room": room,
            "light": light,
            "pin": pin,
            "state": dict(state),
            "version": version,
            "changed": changed,
        }

    def _set(self, record, state, version, changed):
        record["state"] = dict(state)
        record["version"] = version
        record["changed"] = changed
        self._drive(record)

    def _drive(self, record):
        if record["pin"] is not None and self.output is not None:
            self.output(record["pin"], record["state"]["on"])


def _check_saved(saved):
    lights = saved["lights"]
    if not isinstance(lights, list):
        raise ValueError("lights must be a list")
    for item in lights:
        protocol.check_name(item["room"], "room")
        protocol.check_name(item["light"], "light")
        protocol.check_state(item["state"])
        version = item["version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise ValueError("bad version")
        if not isinstance(item.get("changed", False), bool):
            raise ValueError("bad changed flag")
        item["changed"] = item.get("changed", False)
    return lights
