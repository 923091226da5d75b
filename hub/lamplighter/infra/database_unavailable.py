"""The 503 every interface gives when the database cannot be used right now (locked, restarting):
nothing was changed, try again. Never a 500."""

import logging

from django.http import HttpResponse, JsonResponse

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
