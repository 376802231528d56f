"""Model instances from the rows of a statement written once, made as the ORM makes them, with what
Django works out anew at each run of Manager.raw (the columns' mapping, the converters) worked out
once per model and database: the reads every connect takes (a session, a user with their profile,
a reader's sidebar) cost 100–170 µs of CPU less each (docs/performance.md, session 22)."""

from django.db import connections


class ModelRows:
    """`model`'s concrete fields as a run of columns in a statement's rows: `columns(alias)` writes
    them into the statement, in the order `make` reads them back.

    `make(values, using)` is `model.from_db(using, …)` on `values` (a sequence of exactly `width`
    values, as the database driver gives them), each passed through the converters the ORM would
    apply for `using`'s backend (SQLite's datetimes and booleans, for instance) and the field's own
    (`from_db_value`): the same instance a query set or Manager.raw would have made."""

    def __init__(self, model):
        self.model = model
        self.fields = model._meta.concrete_fields
        self.width = len(self.fields)
        self.attnames = [field.attname for field in self.fields]
        self._converters: dict[str, list] = {}  # database alias -> [(index, converters, column)]

    def columns(self, alias: str) -> str:
        """`alias.column, …` for each field, in `make`'s order (`alias`: the table's name or alias in the statement)."""
        return ", ".join(f"{alias}.{field.column}" for field in self.fields)

    def make(self, values, using: str = "default"):
        """A `model` instance from `values` (`width` of them, in `columns`' order), loaded from database `using`."""
        converters = self._converters.get(using)
        if converters is None:
            converters = self._converters[using] = self._converters_for(using)
        if converters:
            values = list(values)
            connection = connections[using]
            for index, functions, column in converters:
                for function in functions:
                    values[index] = function(values[index], column, connection)
        return self.model.from_db(using, self.attnames, values)

    def _converters_for(self, using: str) -> list:
        """The ORM's converters of each field's column on database `using` (SQLCompiler.get_converters)."""
        connection = connections[using]
        converters = []
        for index, field in enumerate(self.fields):
            column = field.get_col(self.model._meta.db_table)
            functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if functions:
                converters.append((index, functions, column))
        return converters


def rows_read(sql: str, params, using: str = "default") -> list[tuple]:
    """The rows of `sql` run with `params` on database `using` (Django's connection and cursor:
    its wrappers, its query log when DEBUG), as the driver gives them."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())  # (mysqlclient gives a tuple)
