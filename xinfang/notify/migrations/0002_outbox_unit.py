"""Outbox.unit: the unit whose staff a staff message goes to (the outbox page scopes by it).

Staff messages already written (reminders, digests) get the unit of the staff member whose
address they went to, where one is found.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Q

from xinfang.lib.migrations import AddFieldOnline


def fill_units(apps, schema_editor):
    Outbox = apps.get_model("notify", "Outbox")
    User = apps.get_model("orgs", "User")
    staff = Outbox.objects.filter(
        Q(kind="digest") | Q(kind__startswith="reminder."), unit__isnull=True
    )
    recipients = set(staff.values_list("recipient", flat=True).distinct())
    units: dict[str, int] = {}
    for email, unit_id in (
        User.objects.filter(email__in=recipients, unit__isnull=False)
        .order_by("id")
        .values_list("email", "unit_id")
    ):
        units.setdefault(email, unit_id)
    for email, unit_id in units.items():
        staff.filter(recipient=email).update(unit_id=unit_id)


class Migration(migrations.Migration):
    # An index on a big table is built CONCURRENTLY on PostgreSQL (no transaction).
    atomic = False
    dependencies = [
        ("notify", "0001_initial"),
        ("orgs", "0001_initial"),
    ]

    operations = [
        AddFieldOnline(
            model_name="outbox",
            name="unit",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="orgs.unit",
                verbose_name="收件单位",
            ),
        ),
        migrations.RunPython(fill_units, migrations.RunPython.noop),
    ]
