"""Types shared by the API routers, so every id is bounded the same way (and documented so)."""

from typing import Annotated

from pydantic import Field

# Ids are 64-bit database keys; anything outside cannot exist, and must not reach the database.
MAX_DATABASE_ID = 2**63 - 1
DatabaseId = Annotated[int, Field(ge=1, le=MAX_DATABASE_ID)]
