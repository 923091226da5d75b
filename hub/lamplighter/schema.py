"""Whether the database's schema matches this code: the hub starts only when it does."""

from collections.abc import Iterable, Mapping

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

MIGRATE_COMMAND = "lamplighter migrate"


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


def schema_problem(using: str = DEFAULT_DB_ALIAS) -> str:
    """Why the hub must not start on this database ("" when it may): a newer release migrated
    it, or this code's migrations are not applied yet."""
    executor = MigrationExecutor(connections[using])
    newer = unknown_migrations(set(executor.loader.applied_migrations), using)
    if newer:
        return (
            "the database was migrated by a newer Lamplighter than this one (it has "
            f"{', '.join(newer[:5])}{' …' if len(newer) > 5 else ''}, unknown to this code): run that "
            "release or a newer one, or restore a backup made with this one (`lamplighter restore FILE`)"
        )
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan and not executor.loader.applied_migrations:
        return f"the database is empty: run `{MIGRATE_COMMAND}` to create it, then start the hub again"
    if plan:
        names = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
        return (
            f"the database needs {len(names)} migration(s) of this release "
            f"({', '.join(names[:5])}{' …' if len(names) > 5 else ''}): run `{MIGRATE_COMMAND}` "
            "(after a backup, `lamplighter backup FILE`), then start the hub again"
        )
    return ""
