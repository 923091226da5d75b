"""Serving: the ASGI server, its lifespan tasks, WebSocket routing, health and the REST API assembly."""
