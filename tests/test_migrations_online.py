"""Migrations never lock a big table for long: an index on one is built CONCURRENTLY.

An office upgrading from an older release runs every migration it lacks on a full table (a
million matters, several million timeline rows and messages). On PostgreSQL a plain
``CREATE INDEX`` blocks every write to the table while it builds; ``xinfang.lib.migrations``
builds it concurrently (and is a plain ``AddIndex`` on SQLite).
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, migrations
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.db.models import Index, UniqueConstraint

from xinfang.lib.migrations import AddFieldOnline, AddIndexOnline, AlterFieldOnline

# Tables that grow with the matters: one or more rows per matter, or per view of personal data.
BIG_TABLES = {
    "cases_case",
    "cases_caseevent",
    "cases_search",
    "notify_outbox",
    "notify_reminder",
    "orgs_personaldataview",
    "reports_ratefact",
}

# Migrations that create the big table they index, in the same release (empty table).
CREATES_THE_TABLE = {
    ("cases", "0001_initial"),
    ("cases", "0002_initial"),  # the second half of cases' initial migration (foreign keys)
    ("cases", "0003_search_index"),  # creates cases_search and its GIN index together
    ("notify", "0001_initial"),
    ("orgs", "0001_initial"),
}

ONLINE = (AddIndexOnline, AddFieldOnline, AlterFieldOnline)
PLAIN_INDEX_SQL = re.compile(
    r"CREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY)(IF\s+NOT\s+EXISTS\s+)?\S+\s+ON\s+\"?(\w+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    app: str
    migration: str
    table: str
    what: str

    def __str__(self) -> str:
        where = "" if self.table == "-" else f" on {self.table}"
        return f"{self.app}.{self.migration}: {self.what}{where}"


def _table(state: ProjectState, app: str, model_name: str) -> str:
    model = state.models[app, model_name.lower()]
    return model.options.get("db_table") or f"{app}_{model.name_lower}"


def _indexed(field) -> bool:
    if field is None or getattr(field, "many_to_many", False) or field.primary_key:
        return False
    return bool(field.db_index or field.unique)


def _sql_text(operation) -> str:
    if isinstance(operation, migrations.RunSQL):
        sql = operation.sql
        return sql if isinstance(sql, str) else " ".join(map(str, sql))
    if isinstance(operation, migrations.RunPython):
        try:
            return textwrap.dedent(inspect.getsource(operation.code))
        except (OSError, TypeError):
            return ""
    return ""


def _findings_in(loader: MigrationLoader, key: tuple[str, str]) -> Iterator[Finding]:
    app, name = key
    migration = loader.graph.nodes[key]
    state = loader.project_state(key, at_end=False)
    for operation in migration.operations:
        online = isinstance(operation, ONLINE)
        if online and migration.atomic:
            yield Finding(app, name, "-", f"{type(operation).__name__} needs atomic = False")
        if not online:
            if isinstance(operation, migrations.AddIndex):
                table = _table(state, app, operation.model_name)
                yield Finding(app, name, table, f"AddIndex {operation.index.name}")
            elif isinstance(operation, migrations.AddConstraint):
                constraint: Any = operation.constraint  # type: ignore[attr-defined]
                if isinstance(constraint, UniqueConstraint):
                    table = _table(state, app, operation.model_name)  # type: ignore[attr-defined]
                    yield Finding(app, name, table, f"AddConstraint {constraint.name}")
            elif isinstance(operation, migrations.AddField):
                if _indexed(operation.field):
                    table = _table(state, app, operation.model_name)
                    yield Finding(app, name, table, f"AddField {operation.name} (indexed)")
            elif isinstance(operation, migrations.AlterField):
                old = state.models[app, operation.model_name_lower].fields.get(operation.name)
                if _indexed(operation.field) and not _indexed(old):
                    table = _table(state, app, operation.model_name)
                    yield Finding(app, name, table, f"AlterField {operation.name} adds an index")
            else:
                for match in PLAIN_INDEX_SQL.finditer(_sql_text(operation)):
                    yield Finding(app, name, match.group(3).lower(), "CREATE INDEX")
        operation.state_forwards(app, state)


def _project_findings() -> list[Finding]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found: list[Finding] = []
    for key in sorted(loader.graph.nodes):
        if loader.graph.nodes[key].__module__.startswith("xinfang."):
            found.extend(_findings_in(loader, key))
    return found


def test_no_migration_locks_a_big_table_to_build_an_index():
    offending = [
        str(f)
        for f in _project_findings()
        if (f.table in BIG_TABLES or f.table == "-")
        and (f.app, f.migration) not in CREATES_THE_TABLE
    ]
    assert offending == [], (
        "这些迁移在大表上建索引会长时间锁表，请改用 xinfang.lib.migrations 的 AddIndexOnline / "
        "AddFieldOnline / AlterFieldOnline（迁移设 atomic = False）：\n" + "\n".join(offending)
    )


def test_the_walker_sees_a_plain_index_on_a_big_table():
    """The check itself: a plain AddIndex, an indexed foreign key and raw SQL are all caught."""

    class Plain(migrations.Migration):
        operations = [
            migrations.AddIndex("case", Index(fields=["due_at"], name="x_plain")),
            migrations.RunSQL('CREATE INDEX x_sql ON "cases_caseevent" (at)'),
            migrations.RunSQL("CREATE INDEX CONCURRENTLY x_ok ON cases_caseevent (at)"),
        ]

    class Online(migrations.Migration):
        atomic = True  # forgotten
        operations = [AddIndexOnline("case", Index(fields=["due_at"], name="x_online"))]

    loader = MigrationLoader(None, ignore_no_migrations=True)
    leaf = max(k for k in loader.graph.leaf_nodes() if k[0] == "cases")
    for name, cls in (("9998_plain", Plain), ("9999_online", Online)):
        loader.graph.add_node(("cases", name), cls(name, "cases"))
        loader.graph.add_dependency(None, ("cases", name), leaf)
    plain = [str(f) for f in _findings_in(loader, ("cases", "9998_plain"))]
    online = [str(f) for f in _findings_in(loader, ("cases", "9999_online"))]
    assert plain == [
        "cases.9998_plain: AddIndex x_plain on cases_case",
        "cases.9998_plain: CREATE INDEX on cases_caseevent",
    ]
    assert online == ["cases.9999_online: AddIndexOnline needs atomic = False"]


def _collect(operation, app: str, migration_atomic: bool = False) -> list[str]:
    loader = MigrationLoader(connection)
    key = max(k for k in loader.graph.leaf_nodes() if k[0] == app)
    before = loader.project_state(key)
    after = before.clone()
    operation.state_forwards(app, after)
    with connection.schema_editor(collect_sql=True, atomic=migration_atomic) as editor:
        operation.database_forwards(app, editor, before, after)
    return editor.collected_sql


@pytest.mark.django_db(transaction=True)
def test_online_index_is_concurrent_on_postgresql_and_plain_elsewhere():
    index = Index(fields=["due_at", "id"], name="case_online_probe")
    sql = " ".join(_collect(AddIndexOnline("case", index), "cases"))
    if connection.vendor == "postgresql":
        assert "CREATE INDEX CONCURRENTLY" in sql
    else:
        assert "CREATE INDEX" in sql and "CONCURRENTLY" not in sql
    assert "case_online_probe" in sql


@pytest.mark.django_db(transaction=True)
def test_online_field_index_is_concurrent_on_postgresql():
    from django.db import models

    field = models.ForeignKey(
        "orgs.unit", null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    sql = " ".join(_collect(AddFieldOnline("outbox", "probe_unit", field), "notify"))
    assert "probe_unit" in sql
    if connection.vendor == "postgresql":
        assert "CREATE INDEX CONCURRENTLY" in sql
    else:
        assert "CONCURRENTLY" not in sql


@pytest.mark.django_db(transaction=True)
def test_online_index_refuses_a_transaction_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("只有 PostgreSQL 的 CONCURRENTLY 不能在事务中执行")
    from django.db import NotSupportedError

    index = Index(fields=["due_at"], name="case_online_tx")
    with pytest.raises(NotSupportedError, match="atomic = False"):
        _collect(AddIndexOnline("case", index), "cases", migration_atomic=True)


@pytest.mark.django_db(transaction=True)
def test_migrate_back_and_forth_over_the_online_migrations():
    """Unapply down to before the first online migration, then apply everything again: the
    indexes are dropped and rebuilt (concurrently on PostgreSQL), and the schema ends as it was."""

    def indexes() -> set[str]:
        with connection.cursor() as cursor:
            names = set()
            for table in ("cases_case", "notify_outbox"):
                constraints = connection.introspection.get_constraints(cursor, table)
                names |= {n for n, c in constraints.items() if c["index"]}
            return names

    before = indexes()
    assert {"case_reg_dims", "outbox_queue", "outbox_recipient_day"} <= before
    executor = MigrationExecutor(connection)
    executor.migrate([("cases", "0005_query_code"), ("notify", "0001_initial")])
    executor.loader.build_graph()
    after_back = indexes()
    assert "case_reg_dims" not in after_back and "outbox_queue" not in after_back
    assert "outbox_due" in after_back
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert indexes() == before


@pytest.mark.django_db(transaction=True)
def test_online_index_rebuilds_what_an_interrupted_build_left_invalid():
    """CREATE INDEX CONCURRENTLY that fails leaves an INVALID index of that name: running the
    migration again drops it and builds a valid one instead of stopping at 'already exists'."""
    if connection.vendor != "postgresql":
        pytest.skip("INVALID 索引只在 PostgreSQL 的 CONCURRENTLY 中出现")
    from django.db import IntegrityError

    name = "case_online_retry"
    loader = MigrationLoader(connection)
    key = max(k for k in loader.graph.leaf_nodes() if k[0] == "cases")
    before = loader.project_state(key)
    after = before.clone()
    operation = AddIndexOnline("case", Index(fields=["due_at"], name=name))
    operation.state_forwards("cases", after)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE online_probe (x int)")
        cursor.execute("INSERT INTO online_probe VALUES (1), (1)")
        with pytest.raises(IntegrityError):
            cursor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON online_probe (x)")
    try:
        with connection.schema_editor(atomic=False) as editor:
            operation.database_forwards("cases", editor, before, after)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.relname, i.indisvalid FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE c.relname = %s",
                [name],
            )
            assert cursor.fetchall() == [("cases_case", True)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
            cursor.execute("DROP TABLE online_probe")
