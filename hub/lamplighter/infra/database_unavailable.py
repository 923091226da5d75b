"""Answer 503 when the database is momentarily unavailable (locked, restarting), never a 500."""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from lamplighter.infra import metrics

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2
UNAVAILABLE = "the database is busy or unavailable; nothing was changed, try again"


def database_unavailable_response(error: Exception) -> HttpResponse:
    """The 503 every interface gives when the database cannot be used right now."""
    logger.warning("database unavailable: %s", type(error).__name__)
    metrics.DATABASE_ERRORS.inc()
    response = JsonResponse({"detail": UNAVAILABLE}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turns OperationalError/InterfaceError from any view into a clear 503 (the transaction was rolled back)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Pass the request on."""
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Runs when a view raised: only database availability errors are answered here."""
        if isinstance(exception, OperationalError | InterfaceError):
            return database_unavailable_response(exception)
        return None
