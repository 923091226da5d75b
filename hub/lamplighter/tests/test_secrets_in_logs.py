"""Secrets never reach a log: run the demo, drive the main flows, scan every line it logged."""

import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from lamplighter.cli.tests.test_demo import DEVICE_LINE, running_demo
from simulated import wait_for


def test_no_secret_in_any_log_line(tmp_path: Path) -> None:
    logged: list[str] = []
    secrets: list[str] = []

    def collect(stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            logged.append(line)

    with running_demo(tmp_path, devices=2, stderr=subprocess.PIPE, LAMPLIGHTER_LOG_LEVEL="DEBUG") as (
        demo,
        contract,
        env,
        port,
    ):
        readers = [
            threading.Thread(target=collect, args=(s,), daemon=True) for s in (demo.stdout, demo.stderr)
        ]
        for reader in readers:
            reader.start()
        password = contract[1].split()[2]
        devices = [DEVICE_LINE.fullmatch(line.strip()) for line in contract[2:]]
        secrets += [password] + [match.group(4) for match in devices if match]

        hub = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
        wait_for(lambda: _status(hub, "/login/") == 200, 30, "the hub")
        # A browser login (wrong password first), an API token, a toggle, a secret rotation.
        login_page = hub.get("/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)  # type: ignore[union-attr]
        hub.post(
            "/login/", data={"username": "demo", "password": password + "x", "csrfmiddlewaretoken": csrf}
        )
        hub.post("/login/", data={"username": "demo", "password": password, "csrfmiddlewaretoken": csrf})
        token = subprocess.run(
            [sys.executable, "-m", "lamplighter.cli.main", "token", "create", "demo"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        secrets.append(token)
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=5, headers={"Authorization": f"Bearer {token}"}
        )
        wait_for(lambda: all(d["online"] for d in api.get("/api/v1/devices").json()), 30, "devices online")
        light = api.get("/api/v1/lights").json()[0]
        api.post(f"/api/v1/lights/{light['id']}/state", json={"on": True})
        wait_for(
            lambda: api.get(f"/api/v1/lights/{light['id']}").json()["reported_on"] is True, 10, "the report"
        )
        _, url, device_id, secret = devices[0].groups()  # type: ignore[union-attr]
        httpx.get(url + "/status", auth=(device_id, "wrong-secret"), timeout=5)
        httpx.get(
            url + "/control_led",
            params={"room": "x", "light": "y", "action": "on"},
            auth=(device_id, secret),
            timeout=5,
        )
        device_pk = next(d["id"] for d in api.get("/api/v1/devices").json() if d["device_id"] == device_id)
        secrets.append(api.post(f"/api/v1/devices/{device_pk}/rotate-secret").json()["secret"])
        wait_for(lambda: len(logged) > 10, 5, "log lines")
    secrets += [path.read_text().strip() for path in tmp_path.glob("devices/*/lan_token")]
    assert len(secrets) >= 7 and all(len(s) >= 12 for s in secrets)
    leaks = [(secret[:4] + "…", line.strip()) for line in logged for secret in secrets if secret in line]
    assert not leaks, leaks
    assert any("lights_status" in line or "ws/device" in line for line in logged), "the scan saw no hub log"


def _status(client: httpx.Client, path: str) -> int:
    try:
        return client.get(path).status_code
    except httpx.HTTPError:
        return 0
