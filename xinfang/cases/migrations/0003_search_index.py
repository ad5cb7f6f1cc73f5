"""The bigram full-text index: FTS5 on SQLite, tsvector + GIN on PostgreSQL."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # No foreign key: matters are never deleted, and a key would block Django's TRUNCATE
        # of cases_case in transactional tests. Stale rows cannot match: search joins on id.
        schema_editor.execute(
            "CREATE TABLE cases_search (case_id bigint PRIMARY KEY, doc tsvector NOT NULL)"
        )
        schema_editor.execute("CREATE INDEX cases_search_doc ON cases_search USING gin (doc)")
    else:
        schema_editor.execute(
            "CREATE VIRTUAL TABLE cases_fts USING fts5(body, content='', tokenize='unicode61')"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE cases_search")
    else:
        schema_editor.execute("DROP TABLE cases_fts")


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial")]
    operations = [migrations.RunPython(create, drop)]
