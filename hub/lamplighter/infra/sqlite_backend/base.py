"""Django's SQLite backend, with each statement's placeholders converted once.

Django's SQLite cursor turns a query's %s into ? with a regular expression at every execution.
The hub's written-out statements (the poll, a switch, a report) are long and run thousands of
times, so the converted text is kept per query instead (a bounded cache: an IN list of another
length is another text). Everything else is Django's backend as it is.
"""

from functools import lru_cache
from typing import Any

from django.db.backends.sqlite3 import base


@lru_cache(maxsize=1024)
def qmark_style(query: str) -> str:
    """A query with Django's %s placeholders in sqlite3's "qmark" style, as Django converts it."""
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    """Django's cursor; a "format" style query is converted once per text."""

    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        """The query in sqlite3's "qmark" (or "named") style, as Django converts it."""
        if param_names is None:
            return qmark_style(query)
        return str(super().convert_query(query, param_names=param_names))


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's SQLite connection, with the cursor above."""

    def create_cursor(self, name: str | None = None) -> SQLiteCursorWrapper:
        """A cursor of this connection."""
        return self.connection.cursor(factory=SQLiteCursorWrapper)  # type: ignore[no-any-return]
