"""Model instances from written-out SELECTs, with each value converted as the ORM converts it.

The hub's hottest paths (a device's poll, a token's light switch) write their one query out:
building it through the ORM cost more than running it (bench/README.md). What the ORM also
does for each row, turning columns into field values (SQLite's 0/1 into bools, its naive
datetimes into aware ones, JSON text into objects), is done here with the ORM's own converters,
looked up once per model and database.
"""

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


def select_list(model: type[Model], alias: str, using: str = "default") -> str:
    """The model's columns, qualified by a table alias, in the order instance() reads them."""
    quote = connections[using].ops.quote_name
    return ", ".join(f"{alias}.{quote(str(field.column))}" for field in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    """How many columns select_list() gives for the model."""
    return len(model._meta.concrete_fields)


def instance(model: type[M], values: Sequence[Any], using: str = "default") -> M:
    """The model instance whose columns (select_list order) are `values`, as the ORM would build it."""
    connection = connections[using]
    converted = []
    for value, (column, converters) in zip(values, _converters(model, using), strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        converted.append(value)
    return model.from_db(using, _attnames(model), converted)


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@cache
def _converters(model: type[Model], using: str) -> list[tuple[Any, list[Converter]]]:
    connection = connections[using]
    table = model._meta.db_table
    found = []
    for field in model._meta.concrete_fields:
        column = field.get_col(table)
        found.append(
            (column, [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)])
        )
    return found
