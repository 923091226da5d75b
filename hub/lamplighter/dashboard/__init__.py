"""The web dashboard: server-rendered pages, a little JavaScript, live updates over a WebSocket."""
