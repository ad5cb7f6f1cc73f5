"""SQLite's search index (FTS5) merges its segments in the worker, not in a request's insert.

With FTS5's default (automerge 4) an insert that completes a level merges it on the spot: at a
million matters one registration in ~50 waited 80-110 ms for it (bench: 400 single inserts, p99
84 ms against 4 ms without). `xinfang worker` runs the 'merge' command about every second
(`worker.maintenance.merge_search_index`); without a worker FTS5's crisis merge (16 segments
on a level) still bounds the index. The setting is stored in the index itself.
"""

from django.db import migrations


def _automerge(value: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(
                f"INSERT INTO cases_fts (cases_fts, rank) VALUES ('automerge', {value})"
            )

    return apply


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_dashboard_indexes")]
    operations = [migrations.RunPython(_automerge(0), _automerge(4))]
