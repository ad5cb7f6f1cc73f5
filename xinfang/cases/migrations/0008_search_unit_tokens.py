"""Every search document also carries its matter's units (search.UNIT_TOKEN): index them again."""

from django.db import migrations


def reindex(apps, schema_editor):
    from xinfang.cases import search

    search.rebuild(apps.get_model("cases", "Case"), apps.get_model("cases", "CoHandler"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_partial_indexes")]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop)]
