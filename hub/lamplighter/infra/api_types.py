"""Types shared by the API routers, so every id is bounded the same way (and documented so)."""

from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field

# Ids are 64-bit database keys; anything outside cannot exist, and must not reach the database.
MAX_DATABASE_ID = 2**63 - 1
DatabaseId = Annotated[int, Field(ge=1, le=MAX_DATABASE_ID)]


class Refused(Schema):
    """Input refused with 422: a sentence naming the field (a state a light cannot take), or the
    list of fields the request's schema refused (django-ninja's own answer)."""

    detail: str | list[dict[str, Any]]


class InputSchema(Schema):
    """A request body: a field it does not know is refused (422 naming it), never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Error(Schema):
    """An error."""

    detail: str
