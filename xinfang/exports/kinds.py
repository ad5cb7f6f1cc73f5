"""What can be exported as a job, declared once: each kind rebuilds its rows from the stored
filters with the owner's access at the time it runs, exactly as the page's direct export does.

A kind's `source(user, filters)` returns (count, rows): `count()` is the number of rows,
`rows()` a generator over `QuerySet.iterator(chunk_size=...)`. Bad filters raise ExportError
with a Chinese message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from xinfang.orgs.models import User

CHUNK = 2000


class ExportError(ValueError):
    """A request that cannot be exported; the message is for the user (Chinese)."""


Source = tuple[Callable[[], int], Callable[[], Iterator[list]]]


@dataclass(frozen=True)
class ExportKind:
    name: str
    label: str
    sheet: str
    columns: list[tuple[str, int]]
    personal: bool  # holds petitioners' names: every download is recorded (ExportDownload)
    source: Callable[[User, dict], Source]
    params: tuple[str, ...]  # the query parameters kept as the job's filters


LEDGER_PARAMS = (
    "scope",
    "q",
    "state",
    "due",
    "kind",
    "channel",
    "category",
    "place",
    "date_from",
    "date_to",
)


def ledger_queryset(user: User, filters: dict) -> QuerySet:
    """The matters of the queue export (台帐导出): the queue's tab and filters, as `queue_export`
    applies them; a filter that does not parse is left out, as on the queue page."""
    from xinfang.cases import access, selectors
    from xinfang.cases.forms import QueueFilterForm

    form = QueueFilterForm(filters or None)
    form.is_valid()
    data = dict(getattr(form, "cleaned_data", {}))
    data.pop("after", None)
    scope = data.get("scope") or access.default_queue_scope(user)
    qs = selectors._apply_filters(access.queue_cases(user, scope), data, timezone.now())
    return qs.order_by("-registered_at", "-id")


def _ledger(user: User, filters: dict) -> Source:
    from xinfang.ledger.exporting import export_rows

    qs = ledger_queryset(user, filters)
    return qs.count, lambda: iter(export_rows(qs, user=user))  # same _export_row as the page


def drill_queryset(user: User, filters: dict):
    """The rows behind one figure of the rates table (reports:rate_matters), and its form data."""
    from xinfang.reports.forms import DrillForm
    from xinfang.reports.rates import BY_NAME
    from xinfang.reports.selectors import drill_rows

    form = DrillForm(filters)
    if not form.is_valid():
        messages = [str(m) for errors in form.errors.values() for m in errors]
        raise ExportError("查询条件不正确：" + "；".join(messages))
    d = form.cleaned_data
    return drill_rows(user, BY_NAME[d["rate"]], d["part"], d["period"], d["by"], d["group"]), d


def _rate_matters(user: User, filters: dict) -> Source:
    from xinfang.cases.models import State
    from xinfang.orgs.models import Unit
    from xinfang.reports.selectors import shown_title

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


def _ledger_columns() -> list[tuple[str, int]]:
    from xinfang.ledger.exporting import EXPORT_COLUMNS

    return list(EXPORT_COLUMNS)


KINDS: dict[str, ExportKind] = {
    k.name: k
    for k in (
        ExportKind(
            "ledger", "信访事项台帐", "台帐", _ledger_columns(), True, _ledger, LEDGER_PARAMS
        ),
        ExportKind(
            "rate_matters",
            "统计指标明细",
            "明细",
            [
                ("事项编号", 22),
                ("标题", 30),
                ("计入单位", 24),
                ("主办单位", 24),
                ("状态", 10),
                ("时间", 18),
            ],
            False,
            _rate_matters,
            ("rate", "part", "from", "to", "by", "group"),
        ),
    )
}


def params_of(kind: ExportKind, query) -> dict[str, str]:
    """The job's filters: the kind's parameters present in a request's query, as strings."""
    return {
        name: str(query.get(name))[:200]
        for name in kind.params
        if query.get(name) not in (None, "")
    }
