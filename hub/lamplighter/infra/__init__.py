"""Infrastructure the apps share: database thread and batching, channel layer and live events, caches, metrics, throttles, secrets."""
