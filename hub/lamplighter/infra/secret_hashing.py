"""High-entropy secrets and their fast hashes (device secrets, API tokens)."""

import hashlib
import hmac
import secrets


def new_secret() -> str:
    """Return a fresh random secret (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """Hash a high-entropy secret; SHA-256 is enough (nothing to brute-force) and cheap per request."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, expected_hash: str) -> bool:
    """Compare a presented secret with a stored hash in constant time."""
    return hmac.compare_digest(secret_hash(secret), expected_hash)
