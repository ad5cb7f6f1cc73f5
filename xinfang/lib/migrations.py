"""Migration operations that build indexes without locking a big table for long.

On PostgreSQL a plain ``CREATE INDEX`` holds a SHARE lock on the table for the whole build: at a
million matters every write (registering, routing, the worker's outbox) waits minutes.
``CREATE INDEX CONCURRENTLY`` lets writes go on while it builds. It cannot run inside a
transaction, so a migration that uses these operations sets ``atomic = False``.

Elsewhere (SQLite) they are the plain operations: same schema, same state, and the migration
autodetector sees no difference (the state changes are inherited unchanged).

- ``AddIndexOnline(model_name, index)``: ``AddIndex``; ``CREATE/DROP INDEX CONCURRENTLY``.
- ``AddFieldOnline`` / ``AlterFieldOnline``: ``AddField`` / ``AlterField`` whose index (a foreign
  key's, ``db_index=True``, the ``_like`` twin of a text field) is built concurrently.

``tests/test_migrations_online.py`` fails when a migration adds an index to a big table any
other way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import NotSupportedError, migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState

__all__ = ["AddFieldOnline", "AddIndexOnline", "AlterFieldOnline", "is_postgresql"]


def is_postgresql(schema_editor: BaseDatabaseSchemaEditor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _outside_transaction(schema_editor: BaseDatabaseSchemaEditor, what: str) -> None:
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError(
            f"{what}：PostgreSQL 的 CONCURRENTLY 不能在事务中执行，"
            "使用它的迁移须设置 atomic = False"
        )


@contextmanager
def _concurrent_indexes(schema_editor: BaseDatabaseSchemaEditor) -> Iterator[None]:
    """Every index the schema editor builds meanwhile is built CONCURRENTLY (PostgreSQL's
    ``_create_index_sql`` takes ``concurrently``; statements deferred to the editor's exit keep
    the SQL they were built with)."""
    if "_create_index_sql" in vars(schema_editor):  # already inside one
        yield
        return
    original = schema_editor._create_index_sql  # type: ignore[attr-defined]

    def concurrently(*args: Any, **kwargs: Any) -> Any:
        kwargs["concurrently"] = True
        return original(*args, **kwargs)

    schema_editor._create_index_sql = concurrently  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del schema_editor._create_index_sql  # type: ignore[attr-defined]


def _drop_if_invalid(schema_editor: BaseDatabaseSchemaEditor, name: str) -> None:
    """A CONCURRENTLY build that failed (interrupted, out of disk) leaves an INVALID index of
    that name behind; drop it so that running the migration again builds it afresh."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_catalog.pg_table_is_visible(c.oid) AND NOT i.indisvalid",
            [name],
        )
        invalid = cursor.fetchone() is not None
    if invalid:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


class AddIndexOnline(migrations.AddIndex):
    """``AddIndex`` that builds the index with ``CREATE INDEX CONCURRENTLY`` on PostgreSQL."""

    def describe(self) -> str:
        return super().describe() + "（PostgreSQL 上不锁表建索引）"

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if not is_postgresql(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        _outside_transaction(schema_editor, f"建索引 {self.index.name}")
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _drop_if_invalid(schema_editor, self.index.name)
            schema_editor.add_index(model, self.index, concurrently=True)  # type: ignore[call-arg]

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if not is_postgresql(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        _outside_transaction(schema_editor, f"删除索引 {self.index.name}")
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)  # type: ignore[call-arg]


class AddFieldOnline(migrations.AddField):
    """``AddField`` whose index is built concurrently on PostgreSQL."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if not is_postgresql(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        _outside_transaction(schema_editor, f"添加字段 {self.name}")
        with _concurrent_indexes(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class AlterFieldOnline(migrations.AlterField):
    """``AlterField`` whose new index (e.g. ``db_index`` turned on) is built concurrently on
    PostgreSQL, both ways (``AlterField.database_backwards`` calls ``database_forwards``)."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if not is_postgresql(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        _outside_transaction(schema_editor, f"修改字段 {self.name}")
        with _concurrent_indexes(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
