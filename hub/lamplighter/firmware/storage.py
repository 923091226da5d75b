"""JSON files on flash: atomic writes (temp file + rename) and reads that report corruption."""

import json

from .compat import fsync, os, path_exists


class StorageError(ValueError):
    """A file on flash exists but cannot be read as the JSON we expect."""


def read_json(path, default=None):
    """Return the decoded JSON at path, default when missing; StorageError when corrupt."""
    if not path_exists(path):
        return default
    try:
        with open(path) as handle:
            return json.loads(handle.read())
    except ValueError:
        raise StorageError(path + " is corrupt (not valid JSON)")
    except OSError as error:
        raise StorageError(path + " cannot be read: " + str(error))


def write_json(path, value):
    """Write value as JSON atomically: a reader sees the old file or the new one, never half."""
    write_text(path, json.dumps(value))


def read_text(path):
    """Return a small text file's stripped content, or None when missing."""
    if not path_exists(path):
        return None
    with open(path) as handle:
        return handle.read().strip()


def write_text(path, text):
    """Write a small text file atomically."""
    temp = path + ".tmp"
    with open(temp, "w") as handle:
        handle.write(text)
        fsync(handle)
    try:
        os.rename(temp, path)
    except OSError:
        # Some flash filesystems refuse to rename over an existing file.
        os.remove(path)
        os.rename(temp, path)
