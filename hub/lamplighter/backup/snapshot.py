"""A consistent copy of every model's rows, taken while the hub runs, in a database-neutral form.

SQLite: the online backup API copies the database file under one read transaction (WAL lets
the hub write meanwhile), and the rows are read from that copy. PostgreSQL: one REPEATABLE
READ, READ ONLY transaction sees a single snapshot for every table. Rows are written with
Django's JSON-lines serializer: primary keys kept, content types and permissions by natural
key, so a backup of SQLite restores onto PostgreSQL and back.
"""

import copy
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.db import connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Model
from django.db.utils import load_backend

# Rebuilt by `migrate` (content types, permissions) or runtime-only (the MQTT bridge's lease).
EXCLUDED = frozenset({"contenttypes.contenttype", "auth.permission", "mqtt_bridge.bridgelease"})


def dumped_models() -> list[type[Model]]:
    """Every model a backup holds, those others refer to first."""
    app_list = [(config, None) for config in apps.get_app_configs() if config.models_module is not None]
    ordered = serializers.sort_dependencies(app_list, allow_cycles=True)
    return [
        model
        for model in ordered
        if model._meta.label_lower not in EXCLUDED and model._meta.managed and not model._meta.proxy
    ]


def add_sqlite_alias(path: Path) -> str:
    """A new database alias, in this thread only, for the SQLite file at `path`, with the
    default's settings. Not added to the configured databases: nothing else sees it."""
    alias = f"lamplighter-{uuid.uuid4().hex[:12]}"
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict["NAME"] = str(path)
    connections[alias] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    return alias


def drop_alias(alias: str) -> None:
    """Close and forget an alias made by add_sqlite_alias."""
    connections[alias].close()
    del connections[alias]


@contextmanager
def snapshot_alias(workdir: Path) -> Iterator[str]:
    """The alias of a database that holds one consistent state of the hub's, for the block."""
    default = connections["default"]
    if default.vendor == "sqlite":
        path = workdir / "snapshot.sqlite3"
        source = sqlite3.connect(str(default.settings_dict["NAME"]), timeout=30)
        target = sqlite3.connect(str(path))
        try:
            source.backup(target)  # all pages in one step: one read transaction, one state
        finally:
            source.close()
            target.close()
        alias = add_sqlite_alias(path)
        try:
            yield alias
        finally:
            drop_alias(alias)
        return
    with transaction.atomic(using="default"):
        with default.cursor() as cursor:
            # The transaction's first statement: every read below sees the same snapshot.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield "default"


def applied_migrations(alias: str) -> dict[str, list[str]]:
    """The migrations applied to a database, by app label."""
    applied: dict[str, list[str]] = {}
    for app_label, name in sorted(MigrationRecorder(connections[alias]).applied_migrations()):
        applied.setdefault(app_label, []).append(name)
    return applied


def dump_rows(alias: str, folder: Path) -> dict[str, int]:
    """Write each model's rows to folder/<app>.<model>.jsonl; return the count of each."""
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for model in dumped_models():
        label = model._meta.label_lower
        rows = model._base_manager.using(alias).order_by("pk")
        counts[label] = rows.count()
        with (folder / f"{label}.jsonl").open("w", encoding="utf-8") as handle:
            serializers.serialize(
                "jsonl", rows.iterator(chunk_size=2000), stream=handle, use_natural_foreign_keys=True
            )
    return counts
