"""Types shared by the API routers, so every id is bounded the same way (and documented so)."""

from typing import Annotated, Any

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field

# Ids are 64-bit database keys; anything outside cannot exist, and must not reach the database.
MAX_DATABASE_ID = 2**63 - 1
DatabaseId = Annotated[int, Field(ge=1, le=MAX_DATABASE_ID)]


class Refused(Schema):
    """Input refused with 422: a sentence naming the field (a state a light cannot take), or the
    list of fields the request's schema refused (django-ninja's own answer)."""

    detail: str | list[dict[str, Any]]


class InputSchema(BaseModel):
    """A request body: a field it does not know is refused (422 naming it), never silently dropped.

    A plain pydantic model: a body is JSON, never an ORM object, and a ninja Schema that forbids
    extra fields validates each body twice (once as it is, once through its attribute getter)."""

    model_config = ConfigDict(extra="forbid")


class Error(Schema):
    """An error."""

    detail: str


class PayloadSchema(BaseModel):
    """An answer a selector builds as a dict: pydantic checks it as it is. A ninja Schema reads
    its input through an attribute getter made for ORM objects, field by field, which for a
    light's 30 fields cost more than the rest of the answer."""
