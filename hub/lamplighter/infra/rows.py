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
from django.db.models import Model, signals
from django.db.models.base import ModelState
from django.db.models.expressions import Expression
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


def select_list(model: type[Model], alias: str, using: str = "default") -> str:
    """The model's columns, qualified by a table alias, in the order instance() reads them."""
    quote = connections[using].ops.quote_name
    return ", ".join(f"{alias}.{quote(str(field.column))}" for field in model._meta.concrete_fields)


def columns(model: type[Model], names: Sequence[str], alias: str = "", using: str = "default") -> str:
    """These fields' columns, quoted (qualified by a table alias if given), comma-separated:
    for a SELECT of a few of them."""
    fields = {field.name: field for field in model._meta.concrete_fields}
    quote = connections[using].ops.quote_name
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quote(str(fields[name].column)) for name in names)


def width(model: type[Model]) -> int:
    """How many columns select_list() gives for the model."""
    return len(model._meta.concrete_fields)


def instance(model: type[M], values: Sequence[Any], using: str = "default") -> M:
    """The model instance whose columns (select_list order) are `values`, as the ORM would build it."""
    attnames = _attnames(model)
    if len(values) != len(attnames):
        raise ValueError(f"{model.__name__} has {len(attnames)} columns, not {len(values)}")
    converting = _converting(model, using)
    if converting:
        connection = connections[using]
        values = list(values)
        for index, column, converters in converting:
            value = values[index]
            for convert in converters:
                value = convert(value, column, connection)
            values[index] = value
    if not _plain_init(model):
        return model.from_db(using, attnames, values)
    # What Model.__init__ does with positional values when nothing listens to its signals and no
    # field guards its attribute: one attribute per column. A third of a poll's time went to it.
    built = model.__new__(model)
    built.__dict__.update(zip(attnames, values, strict=True))
    state = built._state = ModelState()
    state.adding = False
    state.db = using
    return built


def update(model: type[Model], pk: Any, values: dict[str, Any], using: str = "default") -> int:
    """UPDATE one row's fields (attnames) with plain values, each prepared as Model.save() prepares
    it (SQLite's bools and aware datetimes included); the number of rows changed (0 or 1)."""
    connection = connections[using]
    sql, fields = _update_statement(model, tuple(values), using)
    params = []
    for field, value in zip(fields, values.values(), strict=True):
        if isinstance(value, Expression):
            raise TypeError(f"rows.update takes plain values, not {type(value).__name__}")
        params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, pk])
        return int(cursor.rowcount)


@cache
def _update_statement(model: type[Model], names: tuple[str, ...], using: str) -> tuple[str, list[Any]]:
    """The UPDATE of these fields by primary key, and the fields: built once per set of names
    (a connect storm records 10,000 sockets with the same few)."""
    quote = connections[using].ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in fields)  # type: ignore[union-attr]
    pk_column = quote(str(model._meta.pk.column))  # type: ignore[union-attr]
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {pk_column} = %s"  # noqa: S608 - names from model metadata; values are bound parameters
    return sql, fields


def _plain_init(model: type[Model]) -> bool:
    """Whether Model.__init__ only sets each column's attribute: no pre_init/post_init receiver
    (asked each time, a receiver may connect later) and no field whose attribute has a setter of
    its own (a file field's)."""
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return False
    return _attributes_unguarded(model)


@cache
def _attributes_unguarded(model: type[Model]) -> bool:
    # A foreign key's id attribute has a setter only to forget a related object already cached,
    # which a new instance has none of.
    return not any(
        hasattr(descriptor, "__set__") and not isinstance(descriptor, ForeignKeyDeferredAttribute)
        for descriptor in (model.__dict__.get(name) for name in _attnames(model))
    )


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@cache
def _converting(model: type[Model], using: str) -> list[tuple[int, Any, list[Converter]]]:
    """(position, column, converters) of each field whose value the ORM converts: the others
    (integers, text) are taken as the database gives them, as the ORM takes them."""
    connection = connections[using]
    table = model._meta.db_table
    found = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(table)
        converters = [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]
        if converters:
            found.append((index, column, converters))
    return found
