"""The REST API (v1): authentication, error mapping, and the routers of each app."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError as SchemaError

from lamplighter.accounts.api_auth import ApiTokenAuth, SessionAuth
from lamplighter.infra.database_unavailable import database_unavailable_response
from lamplighter.lights.state import LightStateError, command_refusal

api = NinjaAPI(
    title="Lamplighter API",
    version="1",
    description="Homes, rooms, lights and devices of a Lamplighter hub.",
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
    # Tokens first: with no Authorization header it steps aside, and SessionAuth (which
    # enforces CSRF and answers 403 on failure) would otherwise never let a token through.
    auth=[ApiTokenAuth(), SessionAuth()],
)


@api.exception_handler(LightStateError)
def light_state_refused(request: HttpRequest, error: LightStateError) -> HttpResponse:
    """A state, transition, kind or range a light cannot take: 422, nothing stored."""
    status, detail = command_refusal(error) or (422, "")
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(SchemaError)
def schema_refused(request: HttpRequest, error: SchemaError) -> HttpResponse:
    """A body, path or query the schemas refuse: 422 with each problem; a field no schema knows
    (a misspelling) is named in its message as well as in its location."""
    problems = []
    for problem in error.errors:
        if problem.get("type") == "extra_forbidden":
            problem = {**problem, "msg": f"unknown field “{problem['loc'][-1]}”"}
        problems.append(problem)
    return api.create_response(request, {"detail": problems}, status=422)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    """Service-level validation: 400 with the reasons."""
    return api.create_response(request, {"detail": "; ".join(error.messages)}, status=400)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    """The user belongs to the home but may not do this."""
    return api.create_response(request, {"detail": str(error) or "permission denied"}, status=403)


@api.exception_handler(OperationalError)
def database_unavailable(request: HttpRequest, error: OperationalError) -> HttpResponse:
    """The database is locked or restarting: 503, and the transaction was rolled back."""
    return database_unavailable_response(error)


@api.exception_handler(OverflowError)
def number_out_of_range(request: HttpRequest, error: OverflowError) -> HttpResponse:
    """A number too large for the database (ids are bounded in the schemas; this is the backstop)."""
    return api.create_response(request, {"detail": "a number is out of range"}, status=400)


@api.exception_handler(ObjectDoesNotExist)
def not_found(request: HttpRequest, error: ObjectDoesNotExist) -> HttpResponse:
    """Missing, or in a home the user does not belong to: the same answer, so nothing leaks."""
    return api.create_response(request, {"detail": "not found"}, status=404)


def _add_routers() -> None:
    from lamplighter.adaptive.api import router as adaptive_router
    from lamplighter.automations.api import router as automations_router
    from lamplighter.devices.api import router as devices_router
    from lamplighter.homes.api import router as homes_router
    from lamplighter.lights.api import router as lights_router
    from lamplighter.ota.api import router as ota_router

    api.add_router("/", homes_router)
    api.add_router("/", lights_router)
    api.add_router("/", devices_router)
    api.add_router("/", automations_router)
    api.add_router("/", ota_router)
    api.add_router("/", adaptive_router)


_add_routers()
