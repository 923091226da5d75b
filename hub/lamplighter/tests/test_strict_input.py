"""Every API body refuses a field it does not know with a 422 that names it (nothing is changed)."""

import re
from typing import Any

import pytest
from django.test import Client

from conftest import bearer
from factories import HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.lights.models import Light

pytestmark = pytest.mark.django_db

MISSPELLED = "brigthness"
WRITE_METHODS = ("post", "put", "patch")


def _write_operations(client: Client) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every write endpoint in the OpenAPI document."""
    document = client.get("/api/v1/openapi.json").json()
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in WRITE_METHODS
    ]


def _named(detail: Any, field: str) -> bool:
    return isinstance(detail, list) and any(
        problem.get("type") == "extra_forbidden" and problem["loc"][-1] == field and field in problem["msg"]
        for problem in detail
    )


def test_every_write_endpoint_refuses_a_misspelled_field_by_name(client: Client) -> None:
    owner = UserFactory()
    home = HomeFactory(owner=owner)
    light = LightFactory(room=RoomFactory(home=home), device=None)
    headers = bearer(owner)
    operations = _write_operations(client)
    assert len(operations) >= 15, "the document lists the API's write endpoints"
    walked = 0
    for method, path, operation in operations:
        body = operation.get("requestBody", {}).get("content", {})
        url = "/api/v1" + path.removeprefix("/api/v1")
        # Any id: the body is checked before the view looks anything up.
        url = re.sub(r"\{\w+\}", lambda found: str(light.pk) if found.group() == "{light_id}" else "1", url)
        assert "{" not in url, f"a path parameter the walk does not fill: {path}"
        if "application/json" not in body:
            # A file upload (multipart): its fields are form fields, not a JSON object.
            assert body == {} or "multipart/form-data" in body, (method, path, body)
            continue
        response = getattr(client, method)(url, {MISSPELLED: 40}, content_type="application/json", **headers)
        assert response.status_code == 422, (method, path, response.status_code, response.content)
        assert _named(response.json()["detail"], MISSPELLED), (method, path, response.json())
        walked += 1
    assert walked >= 15


def test_the_issues_examples_change_nothing(client: Client) -> None:
    owner = UserFactory()
    home = HomeFactory(owner=owner)
    light = LightFactory(room=RoomFactory(home=home), device=None, name="Lamp")
    headers = bearer(owner)
    state = client.post(
        f"/api/v1/lights/{light.pk}/state",
        {"on": True, "brigthness": 40},
        content_type="application/json",
        **headers,
    )
    assert state.status_code == 422 and _named(state.json()["detail"], "brigthness")
    renamed = client.patch(
        f"/api/v1/lights/{light.pk}", {"nmae": "x"}, content_type="application/json", **headers
    )
    assert renamed.status_code == 422 and _named(renamed.json()["detail"], "nmae")
    zone = client.patch(
        f"/api/v1/homes/{home.pk}", {"timezon": "Europe/Paris"}, content_type="application/json", **headers
    )
    assert zone.status_code == 422 and _named(zone.json()["detail"], "timezon")
    stored = Light.objects.get(pk=light.pk)
    assert (stored.name, stored.desired_on, stored.desired_version) == (
        "Lamp",
        light.desired_on,
        light.desired_version,
    )
