"""The API over a real server: token clients can change state (no session, no CSRF cookie)."""

import pytest

from conftest import LiveHub, api_client
from factories import HomeFactory, LightFactory, RoomFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_token_client_sets_state_over_http(live_hub: LiveHub) -> None:
    owner = UserFactory()
    light = LightFactory(room=RoomFactory(home=HomeFactory(owner=owner)))
    with api_client(live_hub, owner) as client:
        response = client.post(f"/api/v1/lights/{light.pk}/state", json={"on": True})
        assert response.status_code == 202, response.text
        assert client.patch(f"/api/v1/lights/{light.pk}", json={"name": "Renamed"}).status_code == 200
        assert client.get("/static/dashboard/dashboard.css").status_code == 200
    light.refresh_from_db()
    assert (light.desired_on, light.name) == (True, "Renamed")
