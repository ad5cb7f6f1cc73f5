"""统计指标明细 as an export job: the matters behind one figure of the rates table
(reports:rate_matters), when there are too many for the page to write itself.

`RATE_MATTERS` is declared in `settings.EXPORT_KINDS`; xinfang/exports reads it there and
imports no reports code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from xinfang.cases.models import State
from xinfang.exports.kinds import CHUNK, ExportError, ExportKind, Source
from xinfang.orgs.models import Unit, User
from xinfang.reports.forms import DrillForm
from xinfang.reports.rates import BY_NAME
from xinfang.reports.selectors import drill_rows, shown_title

COLUMNS = [
    ("事项编号", 22),
    ("标题", 30),
    ("计入单位", 24),
    ("主办单位", 24),
    ("状态", 10),
    ("时间", 18),
]


def drill_queryset(user: User, filters: dict) -> tuple[QuerySet, dict[str, Any]]:
    """The rows behind one figure of the rates table, and its form data; ExportError (Chinese)
    when the filters do not name one figure."""
    form = DrillForm(filters)
    if not form.is_valid():
        messages = [str(m) for errors in form.errors.values() for m in errors]
        raise ExportError("查询条件不正确：" + "；".join(messages))
    d = form.cleaned_data
    return drill_rows(user, BY_NAME[d["rate"]], d["part"], d["period"], d["by"], d["group"]), d


def _job_source(user: User, filters: dict) -> Source:
    qs, _data = drill_queryset(user, filters)
    states = dict(State.choices)

    def rows() -> Iterator[list]:
        names = dict(Unit.objects.values_list("pk", "name"))  # the unit table is small
        for r in qs.iterator(chunk_size=CHUNK):
            c = r.case
            yield [
                c.number,
                shown_title(r),
                names.get(r._unit, ""),
                c.lead_unit.name if c.lead_unit_id else "",
                states.get(c.state, c.state),
                timezone.localtime(r._at).strftime("%Y-%m-%d %H:%M"),
            ]

    return qs.count, rows


RATE_MATTERS = ExportKind(
    "rate_matters",
    "统计指标明细",
    "明细",
    COLUMNS,
    False,
    _job_source,
    ("rate", "part", "from", "to", "by", "group"),
)
