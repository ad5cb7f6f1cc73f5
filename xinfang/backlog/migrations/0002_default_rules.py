"""Seed the flag rules with the defaults (open 90 days; reviewed or re-reviewed; raised 3 times)."""

from django.db import migrations

from xinfang.backlog.conf import default_rules


def seed(apps, schema_editor):
    Rule = apps.get_model("backlog", "BacklogRule")
    if Rule.objects.exists():
        return
    rules = default_rules()
    Rule.objects.create(kind="open_days", threshold=int(rules.get("open_days") or 90),
                        active=bool(rules.get("open_days")))
    Rule.objects.create(kind="reviewed", threshold=0, active=bool(rules.get("reviewed")))
    Rule.objects.create(kind="repeat", threshold=int(rules.get("repeat") or 3), active=bool(rules.get("repeat")))


class Migration(migrations.Migration):
    dependencies = [("backlog", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
