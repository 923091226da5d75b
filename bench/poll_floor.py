"""The most a shortcut for /lights_status/ could win under issue 20's rules, measured.

Issue 20 allows one route beside Django's chain if a figure can only be held with it, provided
it calls the same view code (Django's request parser, the same authentication, no header list
of its own). The cheapest such route serves the poll with Django's request, the view
`gateway.views.lights_status` and Django's response writer, and no middleware at all: not even
the chain's security headers, which a real shortcut would still have to add. This module is
that route, for the benchmark only; `bench/paths.py` runs its hub beside this commit's and the
baseline commit's in the same run, so the report shows whether any shortcut could hold the
poll's throughput figure.

Run by the benchmark as a hub: `python bench/poll_floor.py PORT` with the hub's environment.
"""

import os
import sys
from typing import Any

import uvicorn
from django.http import HttpResponse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")

from lamplighter.asgi import HubASGIHandler  # noqa: E402 - sets Django up
from lamplighter.asgi import application as hub_application  # noqa: E402
from lamplighter.gateway.views import lights_status  # noqa: E402
from lamplighter.serving.server import uvicorn_config  # noqa: E402

POLL_PATH = "/lights_status/"
_django = HubASGIHandler()


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The poll through the view alone; everything else through the hub as it is."""
    if scope["type"] != "http" or scope["path"] != POLL_PATH:
        await hub_application(scope, receive, send)
        return
    body = await _django.read_body(receive)
    request, error = _django.create_request(scope, body)
    response = error if request is None else await lights_status(request)
    assert isinstance(response, HttpResponse)
    # The one header of the chain the load generator needs (it reads no chunked answers).
    response["Content-Length"] = str(len(response.content))
    await _django.send_response(response, send)
    response.close()


def main() -> None:
    """Serve on 127.0.0.1:PORT as `lamplighter serve` does, with the route above."""
    config = uvicorn_config("127.0.0.1", int(sys.argv[1]))
    config.app = application
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
