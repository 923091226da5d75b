"""Headless Chromium against a live hub: log in, flip a switch, see it pending, confirmed, and live elsewhere."""

import os
import re
import shutil
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect, sync_playwright

from conftest import LiveHub
from factories import (
    DEFAULT_TEST_PASSWORD,
    DeviceFactory,
    HomeFactory,
    LightFactory,
    RoomFactory,
    UserFactory,
)
from lamplighter.automations.services import scene_create
from lamplighter.firmware import protocol
from simulated import device_socket, receive_type

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 5000
DEVICE_SECRET = "browser-test-device-secret"

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed")


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def log_in(browser: Browser, hub: LiveHub, username: str) -> Page:
    """A new browser context (its own cookies), logged in through the login page."""
    page = browser.new_context().new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(hub.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEFAULT_TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # The list of homes, or straight the home of a user who has exactly one.
    page.wait_for_url(re.compile(re.escape(hub.url) + r"/(homes/\d+/)?$"))
    return page


def open_home(page: Page, hub: LiveHub, home_id: int) -> None:
    page.goto(f"{hub.url}/homes/{home_id}/")
    # The live connection is up (and has resynced) before we act.
    expect(page.locator("html")).to_have_attribute("data-hub", "connected", timeout=WAIT_MS)


def device_online(hub: LiveHub, device_id: str, lights: list[dict]) -> Any:
    """Play the device: open its WebSocket, say hello, read the welcome; close on leaving."""
    return device_socket(hub.ws_url, device_id, DEVICE_SECRET, lights)


@pytest.fixture
def scene(live_hub: LiveHub) -> SimpleNamespace:
    """A user, their home, a room with a light, and the device driving it (made before the browser
    starts: Playwright's sync API runs an event loop in this thread, where Django refuses ORM calls)."""
    user = UserFactory()
    home = HomeFactory(owner=user, name="Test home")
    room = RoomFactory(home=home, name="Kitchen")
    device = DeviceFactory(home=home, name="kitchen-board", secret=DEVICE_SECRET)
    light = LightFactory(room=room, name="Ceiling", device=device)
    member = UserFactory()
    home.memberships.create(user=member, role="member")
    hall = RoomFactory(home=home, name="Hall")
    spare = LightFactory(room=hall, name="Porch")
    lantern = LightFactory(room=hall, name="Lantern")
    scene_create(home=home, name="Evening", lights=[(spare.pk, True), (lantern.pk, True)])
    return SimpleNamespace(
        user=user, member=member, home=home, device=device, light=light, spare=spare, lantern=lantern
    )


def test_switch_is_pending_until_the_device_confirms_and_every_page_follows(
    live_hub: LiveHub, scene: SimpleNamespace, browser: Browser
) -> None:
    user, home, device, light = scene.user, scene.home, scene.device, scene.light
    off_v1 = [protocol.light_entry("Kitchen", "Ceiling", protocol.light_state(False), 1)]
    with device_online(live_hub, device.device_id, off_v1) as device_socket:
        first = log_in(browser, live_hub, user.username)
        open_home(first, live_hub, home.pk)
        second = log_in(browser, live_hub, user.username)
        open_home(second, live_hub, home.pk)
        if os.environ.get("LAMPLIGHTER_SCREENSHOT"):  # a look at the layout while developing
            first.screenshot(path=os.environ["LAMPLIGHTER_SCREENSHOT"], full_page=True)

        rows = [page.locator(f'[data-light-id="{light.pk}"]') for page in (first, second)]
        for row in rows:
            expect(row.get_by_role("switch")).to_have_attribute("aria-checked", "false")
            expect(row.locator('[data-role="pending"]')).to_be_hidden()
        badges = [
            page.locator(f'[data-device-pk="{device.pk}"] [data-role="presence"]') for page in (first, second)
        ]
        for badge in badges:
            expect(badge).to_have_text("online")

        # Ask for "on": stored and delivered, but not confirmed yet, so both pages show it pending.
        rows[0].get_by_role("switch").click()
        for row in rows:
            expect(row.locator('[data-role="pending"]')).to_be_visible(timeout=WAIT_MS)
            expect(row.locator('[data-role="pending"]')).to_have_text("pending: on")
            expect(row.get_by_role("switch")).to_have_attribute("aria-checked", "false")

        # The device applies it and reports the version it applied.
        [entry] = receive_type(device_socket, protocol.STATE_SET)["data"]["lights"]
        assert entry["state"] == {"on": True}
        report = protocol.build_state_report(
            [protocol.light_entry(entry["room"], entry["light"], entry["state"], entry["version"])]
        )
        device_socket.send(protocol.encode(report))
        for row in rows:
            expect(row.get_by_role("switch")).to_have_attribute("aria-checked", "true", timeout=WAIT_MS)
            expect(row.locator('[data-role="pending"]')).to_be_hidden(timeout=WAIT_MS)

    # The device's socket closed: the hub marks it offline, every page says so.
    for page, badge in zip((first, second), badges, strict=True):
        expect(badge).to_have_text("offline", timeout=WAIT_MS)
        expect(page.locator("#notices")).to_contain_text("kitchen-board went offline", timeout=WAIT_MS)

    # And back.
    on_v2 = [protocol.light_entry("Kitchen", "Ceiling", protocol.light_state(True), entry["version"])]
    with device_online(live_hub, device.device_id, on_v2):
        for page, badge in zip((first, second), badges, strict=True):
            expect(badge).to_have_text("online", timeout=WAIT_MS)
            expect(page.locator("#notices")).to_contain_text("kitchen-board is back online", timeout=WAIT_MS)
        expect(rows[1].get_by_role("switch")).to_have_attribute("aria-checked", "true")


def test_a_member_switches_and_sees_no_management(
    live_hub: LiveHub, scene: SimpleNamespace, browser: Browser
) -> None:
    page = log_in(browser, live_hub, scene.member.username)
    open_home(page, live_hub, scene.home.pk)
    expect(page.get_by_role("link", name="Register a device")).to_have_count(0)
    expect(page.get_by_role("link", name="Rename")).to_have_count(0)
    row = page.locator(f'[data-light-id="{scene.spare.pk}"]')
    row.get_by_role("switch").click()
    # No device drives it: it stays pending, and nothing breaks.
    expect(row.locator('[data-role="pending"]')).to_have_text("pending: on", timeout=WAIT_MS)
    page.reload()  # stored, not just shown
    expect(row.locator('[data-role="pending"]')).to_have_text("pending: on", timeout=WAIT_MS)
    expect(page.locator("#notices .notice")).to_have_count(0)
    # Sound is off by default; the toggle is remembered across pages.
    page.get_by_role("button", name="Sound off").click()
    page.reload()
    expect(page.get_by_role("button", name="Sound on")).to_have_attribute("aria-pressed", "true")


def test_lost_hub_connection_is_noticed_and_missed_changes_are_fetched_again(
    live_hub: LiveHub, scene: SimpleNamespace, browser: Browser
) -> None:
    page = log_in(browser, live_hub, scene.user.username)
    routes: list[WebSocketRoute] = []
    hub_down = False

    def through_proxy(route: WebSocketRoute) -> None:
        # The page's dashboard socket passes through Playwright, so the test can cut it.
        routes.append(route)
        if hub_down:
            route.close(code=1011)
        else:
            route.connect_to_server()

    page.route_web_socket("**/ws/dashboard/", through_proxy)
    open_home(page, live_hub, scene.home.pk)
    banner = page.locator("#hub-banner")
    expect(banner).to_be_hidden()

    hub_down = True
    routes[-1].close(code=1011)
    expect(banner).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#notices")).to_contain_text("Lost the connection to the hub", timeout=WAIT_MS)
    expect(page.locator("html")).to_have_attribute("data-hub", "disconnected")
    attempts = len(routes)
    # Meanwhile someone switches a light in another browser; this page cannot hear it.
    other = log_in(browser, live_hub, scene.member.username)
    open_home(other, live_hub, scene.home.pk)
    other.locator(f'[data-light-id="{scene.spare.pk}"]').get_by_role("switch").click()
    expect(other.locator(f'[data-light-id="{scene.spare.pk}"] [data-role="pending"]')).to_have_text(
        "pending: on"
    )
    row = page.locator(f'[data-light-id="{scene.spare.pk}"]')
    expect(row.locator('[data-role="pending"]')).to_have_text("pending: off")
    # It keeps trying (with backoff); once the hub answers again it catches up.
    deadline = time.monotonic() + 5
    while len(routes) <= attempts and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(routes) > attempts, "no reconnection attempt"
    hub_down = False
    expect(page.locator("html")).to_have_attribute("data-hub", "connected", timeout=10_000)
    expect(banner).to_be_hidden()
    expect(page.locator("#notices")).to_contain_text("Connected to the hub again")
    expect(row.locator('[data-role="pending"]')).to_have_text("pending: on", timeout=WAIT_MS)


def test_a_member_applies_a_scene_and_picks_a_language(
    live_hub: LiveHub, scene: SimpleNamespace, browser: Browser
) -> None:
    watcher = log_in(browser, live_hub, scene.user.username)
    open_home(watcher, live_hub, scene.home.pk)
    page = log_in(browser, live_hub, scene.member.username)
    open_home(page, live_hub, scene.home.pk)
    row = page.locator(f'[data-light-id="{scene.spare.pk}"]')
    expect(row.locator('[data-role="pending"]')).to_have_text("pending: off")  # no device: never reported
    page.get_by_role("button", name="Apply Evening").click()
    expect(page.locator(".messages")).to_contain_text("Evening applied", timeout=WAIT_MS)
    expect(row.locator('[data-role="pending"]')).to_have_text("pending: on")
    # The other page, not reloaded, follows both lights: their events came as one frame.
    for light in (scene.spare, scene.lantern):
        expect(watcher.locator(f'[data-light-id="{light.pk}"] [data-role="pending"]')).to_have_text(
            "pending: on", timeout=WAIT_MS
        )
    # German from the picker: the page and its script's strings.
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "de", timeout=WAIT_MS)
    expect(page.get_by_role("heading", name="Räume")).to_be_visible()
    expect(page.get_by_role("button", name="Ton aus")).to_be_visible()
    expect(row.locator('[data-role="pending"]')).to_have_text("ausstehend: an")


# Counts the page's light changes (light.set frames on the dashboard socket, or REST state calls
# when it is closed) and how many were in flight at once, per light.
COUNT_FETCHES = r"""
(() => {
  window.stateCalls = {};
  const refs = {};
  function counts(lightId) {
    return (window.stateCalls[lightId] = window.stateCalls[lightId] || { sent: 0, open: 0, most: 0, bodies: [] });
  }
  function asked(lightId, body) {
    const c = counts(lightId);
    c.sent += 1;
    c.open += 1;
    c.most = Math.max(c.most, c.open);
    c.bodies.push(body);
  }
  const Original = window.WebSocket;
  window.WebSocket = class extends Original {
    constructor(...args) {
      super(...args);
      // Registered before the page's own listener: an answer is counted before the page sends the next.
      this.addEventListener("message", function (message) {
        let event;
        try { event = JSON.parse(message.data); } catch (error) { return; }
        (Array.isArray(event) ? event : [event]).forEach(function (one) {
          if (one.type === "light.set.result" && refs[one.ref] !== undefined) {
            counts(refs[one.ref]).open -= 1;
          }
        });
      });
    }
    send(data) {
      try {
        const frame = JSON.parse(data);
        if (frame.type === "light.set") {
          refs[frame.ref] = frame.light;
          asked(frame.light, frame.state);
          window.overSocket = (window.overSocket || 0) + 1;
        }
      } catch (error) {}
      return super.send(data);
    }
  };
  const originalFetch = window.fetch;
  window.fetch = function (url, options) {
    const match = /\/lights\/(\d+)\/state/.exec(String(url));
    if (!options || options.method !== "POST" || !match) {
      return originalFetch.apply(this, arguments);
    }
    const lightId = Number(match[1]);
    asked(lightId, JSON.parse(options.body));
    return originalFetch.apply(this, arguments).finally(function () { counts(lightId).open -= 1; });
  };
})();
"""

# Drags a control: one input event per value, as fast as the page takes them.
DRAG = """
([selector, values]) => {
  const input = document.querySelector(selector);
  values.forEach(function (value) {
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
}
"""


@pytest.fixture
def rich(live_hub: LiveHub) -> SimpleNamespace:
    """A user with one home: a dimmable strip, a tunable white and a colour light on one device."""
    from lamplighter.lights.services import light_create

    user = UserFactory()
    home = HomeFactory(owner=user, name="Flat")
    room = RoomFactory(home=home, name="Lounge")
    device = DeviceFactory(home=home, name="lounge-board", secret=DEVICE_SECRET)
    lights = {
        kind: light_create(room=room, name=name, kind=kind, device=device)
        for kind, name in (("dimmable", "Strip"), ("tunable_white", "White"), ("rgb", "Colour"))
    }
    return SimpleNamespace(user=user, home=home, device=device, lights=lights)


def test_each_kind_has_its_controls_and_a_dragged_slider_keeps_one_request_in_flight(
    live_hub: LiveHub, rich: SimpleNamespace, browser: Browser
) -> None:
    strip, white, colour = rich.lights["dimmable"], rich.lights["tunable_white"], rich.lights["rgb"]
    hello = [
        protocol.light_entry(
            "Lounge", light.name, {"on": False, **fields}, light.desired_version, kind=light.kind
        )
        for light, fields in (
            (strip, {"brightness": 255}),
            (white, {"brightness": 255, "color_temp_kelvin": 4000}),
            (colour, {"brightness": 255, "rgb": [255, 255, 255]}),
        )
    ]
    with device_socket(
        live_hub.ws_url, rich.device.device_id, DEVICE_SECRET, hello, capabilities=protocol.capabilities()
    ) as sock:
        first = log_in(browser, live_hub, rich.user.username)
        # One home: the login lands on it, no list of homes in between.
        assert first.url == f"{live_hub.url}/homes/{rich.home.pk}/"
        first.add_init_script(COUNT_FETCHES)
        open_home(first, live_hub, rich.home.pk)
        second = log_in(browser, live_hub, rich.user.username)
        open_home(second, live_hub, rich.home.pk)

        def row(page: Page, light: Any) -> Any:
            return page.locator(f'[data-light-id="{light.pk}"]')

        # Each kind shows the controls it needs, and no others.
        expect(row(first, strip).get_by_label("Brightness of Strip")).to_be_visible()
        expect(
            row(first, strip).locator('[data-field="color_temp_kelvin"], [data-field="rgb"]')
        ).to_have_count(0)
        expect(row(first, white).get_by_label("Colour temperature of White")).to_have_attribute("min", "2700")
        expect(row(first, colour).get_by_label("Colour of Colour")).to_have_attribute("type", "color")

        # Drag the strip's brightness through 120 values at once: one request at a time, the last one arrives.
        values = [str(value) for value in range(0, 240, 2)]
        first.evaluate(DRAG, [f'[data-light-id="{strip.pk}"] [data-field="brightness"]', values])
        first.wait_for_function(
            "id => window.stateCalls[id] && window.stateCalls[id].open === 0 && "
            "window.stateCalls[id].bodies.slice(-1)[0].brightness === 238",
            arg=strip.pk,
        )
        calls = first.evaluate("id => window.stateCalls[id]", strip.pk)
        assert calls["most"] == 1, calls
        assert first.evaluate("window.overSocket") == calls["sent"]  # over the open dashboard socket
        assert calls["sent"] < len(values)  # values that came while one was in flight were replaced
        # Both pages show it pending, the other page's slider follows, the device gets the last value.
        for page in (first, second):
            expect(row(page, strip).locator('[data-role="pending"]')).to_be_visible()
        expect(row(second, strip).locator('[data-field="brightness"]')).to_have_value("238")
        last = None
        while last is None or last["state"].get("brightness") != 238:
            [last] = receive_type(sock, protocol.STATE_SET)["data"]["lights"]
        assert last["state"] == {"on": True, "brightness": 238}
        sock.send(
            protocol.encode(
                protocol.build_state_report(
                    [protocol.light_entry("Lounge", "Strip", last["state"], last["version"])]
                )
            )
        )
        for page in (first, second):
            expect(row(page, strip).locator('[data-role="pending"]')).to_be_hidden()
            expect(row(page, strip).locator('[data-role="reported-level"]')).to_have_text("93 %")

        # The colour temperature and the colour picker take the same path.
        first.evaluate(
            DRAG, [f'[data-light-id="{white.pk}"] [data-field="color_temp_kelvin"]', ["3000", "3500"]]
        )
        first.evaluate(DRAG, [f'[data-light-id="{colour.pk}"] [data-field="rgb"]', ["#ff0000", "#00ff80"]])
        expect(row(second, white).locator('[data-field="color_temp_kelvin"]')).to_have_value("3500")
        expect(row(second, colour).locator('[data-field="rgb"]')).to_have_value("#00ff80")
        seen: dict[str, dict] = {}
        while seen.get("White", {}).get("color_temp_kelvin") != 3500 or seen.get("Colour", {}).get("rgb") != [
            0,
            255,
            128,
        ]:
            for entry in receive_type(sock, protocol.STATE_SET)["data"]["lights"]:
                seen[entry["light"]] = entry["state"]
        expect(row(second, colour).locator('[data-role="pending"]')).to_be_visible()
