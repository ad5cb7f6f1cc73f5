"""The default assessment scheme (默认考核办法), in the shape of published county schemes:
100 points of rates, minus points per failure counted on the timeline, plus points per backlog
case cleared. Documented in README.md (考核与责任追究); an administrator changes it in the admin."""

from decimal import Decimal

from django.db import migrations

INDICATORS = [  # (rate, points at 100%)
    ("route_on_time", "5"),
    ("accept_on_time", "10"),
    ("complete_on_time", "25"),
    ("rating_participation", "5"),
    ("satisfaction", "25"),
    ("backlog_cleared", "10"),
    ("hotline_response", "5"),
    ("hotline_resolution", "5"),
    ("hotline_satisfaction", "10"),
]
ADJUSTMENTS = [  # (item, points each, cap)
    ("overdue_open", "1", "10"),
    ("overdue_reply", "0.5", "10"),
    ("extension", "0.2", "3"),
    ("objection_rejected", "1", "5"),
    ("review_changed", "1", "5"),
    ("urge_ignored", "0.5", "5"),
    ("supervision_ignored", "2", "10"),
    ("supervision_late", "1", "5"),
    ("backlog_cleared", "1", "5"),
]


def create(apps, schema_editor):
    Scheme = apps.get_model("assessment", "Scheme")
    Indicator = apps.get_model("assessment", "Indicator")
    Adjustment = apps.get_model("assessment", "Adjustment")
    if Scheme.objects.exists():
        return
    scheme = Scheme.objects.create(
        name="信访工作季度考核（默认方案）", active=True, urge_response_days=5,
        description="指标满分100分（按比率×分值计分，不适用的指标按比例折算）；逾期、延期、推诿、"
                    "复查复核改变、催办未落实、督办逾期按件扣分，积案化解销号按件加分，各项设累计上限。",
    )
    for i, (rate, weight) in enumerate(INDICATORS):
        Indicator.objects.create(scheme=scheme, rate=rate, weight=Decimal(weight), position=i)
    for i, (item, points, cap) in enumerate(ADJUSTMENTS):
        Adjustment.objects.create(scheme=scheme, item=item, points=Decimal(points), cap=Decimal(cap), position=i)


def remove(apps, schema_editor):
    apps.get_model("assessment", "Scheme").objects.filter(name="信访工作季度考核（默认方案）").delete()


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
