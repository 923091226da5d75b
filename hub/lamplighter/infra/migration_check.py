"""Whether the database's schema matches this code: the hub starts (and backs up) only when it does."""

from collections.abc import Iterable, Mapping

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

MIGRATE_COMMAND = "lamplighter migrate"

EMPTY = "empty"  # no migration applied: a new database
OLDER = "older"  # this code's migrations are not all applied
NEWER = "newer"  # a newer release migrated it


def unknown_migrations(
    applied: Mapping[str, list[str]] | Iterable[tuple[str, str]], using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """Of these applied migrations (by app label, or (app, name) pairs), those this code does
    not have: a newer release made them."""
    loader = MigrationExecutor(connections[using]).loader
    pairs = (
        {(app, name) for app, names in applied.items() for name in names}
        if isinstance(applied, Mapping)
        else set(applied)
    )
    return sorted(
        f"{app}.{name}"
        for app, name in pairs
        if app in loader.migrated_apps and (app, name) not in loader.graph.nodes
    )


def schema_mismatch(using: str = DEFAULT_DB_ALIAS) -> tuple[str, list[str]]:
    """("", []) when the database's schema is this code's; else EMPTY, OLDER (with the
    migrations to apply) or NEWER (with the migrations this code does not know)."""
    executor = MigrationExecutor(connections[using])
    newer = unknown_migrations(set(executor.loader.applied_migrations), using)
    if newer:
        return NEWER, newer
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan and not executor.loader.applied_migrations:
        return EMPTY, []
    if plan:
        return OLDER, [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
    return "", []


def _listed(names: list[str]) -> str:
    return ", ".join(names[:5]) + (" …" if len(names) > 5 else "")


def schema_problem(using: str = DEFAULT_DB_ALIAS) -> str:
    """Why the hub must not start on this database ("" when it may), naming what to run."""
    kind, names = schema_mismatch(using)
    if kind == NEWER:
        return (
            f"the database was migrated by a newer Lamplighter than this one (it has {_listed(names)}, "
            "unknown to this code): run that release or a newer one, or restore a backup made with "
            "this one (`lamplighter restore FILE`)"
        )
    if kind == EMPTY:
        return f"the database is empty: run `{MIGRATE_COMMAND}` to create it, then start the hub again"
    if kind == OLDER:
        return (
            f"the database needs {len(names)} migration(s) of this release ({_listed(names)}): run "
            f'`{MIGRATE_COMMAND}`, then start the hub again (back up first: docs/deploy.md, "Upgrading")'
        )
    return ""


def backup_problem(using: str = DEFAULT_DB_ALIAS) -> str:
    """Why this code cannot back up this database ("" when it can): its models must match it."""
    kind, names = schema_mismatch(using)
    if kind == EMPTY:
        return "the database is empty: nothing to back up"
    if kind in (OLDER, NEWER):
        return (
            f"the database's schema is not this release's ({'to apply' if kind == OLDER else 'unknown here'}: "
            f"{_listed(names)}): back up with the release that last migrated it (before installing a "
            f"new one), or run `{MIGRATE_COMMAND}` first"
        )
    return ""
