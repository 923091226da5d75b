"""Property-based testing of the REST API from its OpenAPI document: no 5xx, no schema violation.

Requests go over real HTTP to a live hub, as an owner with data in their home, so the generated
cases reach the code behind authentication, not just the 401 in front of it.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from conftest import LiveHub
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.accounts.services import api_token_create
from lamplighter.serving.api import api

EXAMPLES_PER_OPERATION = 40

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))


@pytest.fixture
def owner_token(live_hub: LiveHub) -> str:
    owner = UserFactory()
    home = HomeFactory(owner=owner)
    room = RoomFactory(home=home)
    LightFactory(room=room, device=DeviceFactory(home=home))
    return api_token_create(user=owner)[1]


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_errors_and_matches_its_schema(
    case: schemathesis.Case, live_hub: LiveHub, owner_token: str
) -> None:
    response = case.call(base_url=live_hub.url, headers={"Authorization": f"Bearer {owner_token}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
