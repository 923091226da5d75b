"""lamplighter.infra.sqlite_backend: Django's SQLite backend whose cursor converts each query's
placeholders once, to the same text Django's converts it to."""

import sqlite3

import pytest
from django.db import connection
from django.db.backends.sqlite3 import base

from lamplighter.infra.sqlite_backend.base import SQLiteCursorWrapper

QUERIES = [
    "SELECT 1",
    "SELECT %s, %s FROM t WHERE a = %s",
    "SELECT '100%%' || %s",  # a literal percent sign
    "SELECT x FROM t WHERE y LIKE '%%s' AND z = %s",  # "%%s" stays a literal "%s"
]


def _cursors() -> tuple[SQLiteCursorWrapper, base.SQLiteCursorWrapper]:
    database = sqlite3.connect(":memory:")
    return database.cursor(factory=SQLiteCursorWrapper), database.cursor(factory=base.SQLiteCursorWrapper)


@pytest.mark.parametrize("query", QUERIES)
def test_converts_as_djangos_cursor_does(query: str) -> None:
    ours, djangos = _cursors()
    expected = djangos.convert_query(query)
    assert ours.convert_query(query) == expected
    assert ours.convert_query(query) == expected  # from the cache, the same


def test_named_parameters_are_converted_as_django_does() -> None:
    ours, djangos = _cursors()
    query, names = "SELECT %(a)s, %(b)s", ["a", "b"]
    assert ours.convert_query(query, param_names=names) == djangos.convert_query(query, param_names=names)


@pytest.mark.django_db
def test_the_hub_runs_on_it() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the hub runs on PostgreSQL here: its SQLite backend is not in use")
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, SQLiteCursorWrapper)
        cursor.execute("SELECT %s || '%%'", ["7"])
        assert cursor.fetchone() == ("7%",)
