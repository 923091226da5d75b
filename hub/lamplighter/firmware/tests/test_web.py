"""The device web server on a real loopback socket: auth, /control_led, /status, the page, bad input."""

import asyncio

import httpx
import pytest

from .. import protocol
from .conftest import SECRET, device_config, running_device

PERSON = ("dev-test", SECRET)


@pytest.fixture
async def device(flash):
    config = device_config()
    async with running_device(flash, config) as running:
        yield running


def base(device):
    return "http://127.0.0.1:" + str(device.config["web"]["port"])


async def test_every_route_needs_credentials(device):
    async with httpx.AsyncClient(base_url=base(device)) as client:
        for path in ("/", "/status", "/control_led?room=Hall&light=Lamp&action=on"):
            for auth in (None, ("dev-test", "wrong"), ("hub", "wrong"), ("hub", ""), ("", "")):
                response = await client.get(path, auth=auth)
                assert response.status_code == 401, (path, auth)
                assert response.headers["WWW-Authenticate"].startswith("Basic")
        response = await client.get("/status", headers={"Authorization": "Basic !!!"})
        assert response.status_code == 401
        response = await client.get("/status", headers={"Authorization": "Bearer x"})
        assert response.status_code == 401
    assert device.store.get("Hall", "Lamp")["state"] == {"on": False}


async def test_control_led_switches_and_reports_changed(device):
    async with httpx.AsyncClient(base_url=base(device), auth=PERSON) as client:
        response = await client.get("/control_led", params={"room": "Hall", "light": "Lamp", "action": "on"})
        assert response.status_code == 200
        assert response.json() == {"room": "Hall", "light": "Lamp", "on": True, "version": 0}
        assert device.hal.pins[3] is True
        assert device.store.get("Hall", "Lamp")["changed"] is True
        toggled = await client.post(
            "/control_led", json={"room": "Hall", "light": "Lamp", "action": "toggle"}
        )
        assert toggled.json()["on"] is False
        form = await client.post("/control_led", data={"room": "Kitchen", "light": "Ceiling", "action": "on"})
        assert form.json()["on"] is True
        page = await client.post(
            "/control_led", data={"room": "Kitchen", "light": "Ceiling", "action": "off", "next": "/"}
        )
        assert page.status_code == 303 and page.headers["Location"] == "/"


async def test_person_cannot_set_a_version_but_the_hub_can(device):
    async with httpx.AsyncClient(base_url=base(device)) as client:
        params = {"room": "Hall", "light": "Lamp", "action": "on", "version": "9"}
        response = await client.get("/control_led", params=params, auth=PERSON)
        assert response.json()["version"] == 0
        hub = (protocol.HUB_LAN_USER, device.lan_token)
        response = await client.get("/control_led", params=dict(params, action="off"), auth=hub)
        assert response.json() == {"room": "Hall", "light": "Lamp", "on": False, "version": 9}
        assert device.store.get("Hall", "Lamp")["changed"] is False
        stale = await client.get("/control_led", params=dict(params, action="on", version="8"), auth=hub)
        assert stale.status_code == 200 and stale.json() == {
            "room": "Hall",
            "light": "Lamp",
            "on": False,
            "version": 9,
        }


async def test_bad_parameters_are_400_and_unknown_lights_404(device):
    async with httpx.AsyncClient(base_url=base(device), auth=PERSON) as client:
        bad = [
            {},
            {"room": "Hall", "light": "Lamp"},
            {"room": "Hall", "light": "Lamp", "action": "explode"},
            {"room": "", "light": "Lamp", "action": "on"},
            {"room": "x" * 100, "light": "Lamp", "action": "on"},
        ]
        for params in bad:
            response = await client.get("/control_led", params=params)
            assert response.status_code == 400, params
            assert "error" in response.json()
        hub = (protocol.HUB_LAN_USER, device.lan_token)
        for version in ("-1", "abc", "1.5", "9" * 30):
            response = await client.get(
                "/control_led",
                params={"room": "Hall", "light": "Lamp", "action": "on", "version": version},
                auth=hub,
            )
            assert response.status_code == 400, version
        for body, content_type in (
            ("[1, 2]", "application/json"),
            ("{nope", "application/json"),
            ("x", "text/plain"),
        ):
            response = await client.post("/control_led", content=body, headers={"Content-Type": content_type})
            assert response.status_code == 400, body
        response = await client.post("/control_led", json={"room": 1, "light": "Lamp", "action": "on"})
        assert response.status_code == 400
        missing = await client.get("/control_led", params={"room": "Garage", "light": "Door", "action": "on"})
        assert missing.status_code == 404 and "error" in missing.json()
        assert (await client.get("/nothing-here")).status_code == 404


async def test_status_shape(device):
    async with httpx.AsyncClient(base_url=base(device), auth=PERSON) as client:
        status = (await client.get("/status")).json()
    assert status["device_id"] == "dev-test" and status["name"] == "Test device"
    assert status["board"] == "host" and status["boot_slot"] == 0
    assert isinstance(status["firmware_version"], str)
    assert isinstance(status["uptime"], int) and isinstance(status["free_memory"], int)
    assert status["hub"] == {"connected": False, "url": None, "transport": None, "mode": "local"}
    assert status["lights"] == [
        {"room": "Kitchen", "light": "Ceiling", "kind": "onoff", "on": False, "version": 0},
        {"room": "Hall", "light": "Lamp", "kind": "onoff", "on": False, "version": 0},
    ]


async def test_page_lists_lights_and_escapes_names(flash):
    config = device_config(lights=[{"room": "<script>", "light": "Lamp", "pin": 2}])
    async with running_device(flash, config) as device:
        async with httpx.AsyncClient(base_url=base(device), auth=PERSON) as client:
            page = await client.get("/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "&lt;script&gt;" in page.text and "<script>" not in page.text
    assert 'action="/control_led"' in page.text
    assert "Access-Control-Allow-Origin" not in page.headers and "Set-Cookie" not in page.headers


async def test_cross_origin_posts_are_refused(device):
    async with httpx.AsyncClient(base_url=base(device), auth=PERSON) as client:
        fields = {"room": "Hall", "light": "Lamp", "action": "on"}
        response = await client.post("/control_led", data=fields, headers={"Origin": "http://evil.example"})
        assert response.status_code == 403
        same = await client.post("/control_led", data=fields, headers={"Origin": base(device)})
        assert same.status_code == 200


async def test_oversized_body_and_garbage_keep_the_server_serving(device):
    port = device.config["web"]["port"]
    async with httpx.AsyncClient(base_url=base(device), auth=PERSON) as client:
        big = await client.post(
            "/control_led", content=b"x" * 20000, headers={"Content-Type": "application/json"}
        )
        assert big.status_code == 413
        for garbage in (
            b"\x00\xff\xfe garbage\r\n\r\n",
            b"GET\r\n\r\n",
            b"GET /status HTTP/1.1\r\nBad header\r\n\r\n",
            b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n",
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(garbage)
            await writer.drain()
            await asyncio.wait_for(reader.read(1000), 3)
            writer.close()
        weird = await client.get("/control_led?room=%ZZ&light=%&action=%E2%82")
        assert weird.status_code == 400
        assert (await client.get("/status")).status_code == 200
