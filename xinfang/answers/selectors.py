"""答复知识库的读取: similar past replies of a matter, a draft's checks, the monthly report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from xinfang.answers import checks, index
from xinfang.answers.models import ReplyEntry, Source
from xinfang.cases import access
from xinfang.cases.clocks import LOCAL
from xinfang.cases.models import Case, State
from xinfang.lib import bounds
from xinfang.orgs.models import Role, Unit, User

SUGGEST_K = 5
MIN_SCORE = 0.08  # below this cosine a past reply is about something else
REPORT_ROLES = frozenset({Role.CLERK, Role.HEAD})


@dataclass(frozen=True)
class SimilarReply:
    entry: ReplyEntry
    score: float  # cosine, 0-1

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def may_draft(user: User, case: Case) -> bool:
    """Who sees the knowledge panel and may check a draft: those who may 答复 the matter now."""
    return access.may(user, case, "reply")


def may_see_report(user: User) -> bool:
    """答复质量月报: the petition office's clerks and heads, supervisors, administrators."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.role in {Role.ADMIN, Role.SUPERVISOR}:
        return True
    unit = user.unit
    return user.role in REPORT_ROLES and unit is not None and unit.kind == Unit.Kind.PETITION_OFFICE


def similar_replies(case: Case, *, k: int = SUGGEST_K) -> list[SimilarReply]:
    """The past replies most similar to the matter's message, best first (its own left out)."""
    own = set(ReplyEntry.objects.filter(case=case).values_list("id", flat=True))
    found = [
        (pk, s)
        for pk, s in index.search(case.title, case.content, k=k, exclude=own)
        if s >= MIN_SCORE
    ]
    rows = ReplyEntry.objects.select_related("unit").in_bulk([pk for pk, _s in found])
    return [SimilarReply(rows[pk], s) for pk, s in found if pk in rows]


def reply_due(case: Case) -> dt.datetime | None:
    """The time the reply is due: the running clock's due time while the matter awaits it."""
    return case.due_at if case.state == State.ACCEPTED else None


def draft_check(case: Case, draft: str, *, at: dt.datetime | None = None) -> checks.DraftReport:
    """检查草稿: the four checks of `draft` as the reply to `case`, timed at `at` (now)."""
    return checks.check_draft(
        draft,
        title=case.title,
        content=case.content,
        due_at=reply_due(case),
        at=at or timezone.now(),
    )


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """Aware start and end (Beijing time) of 'YYYY-MM'; ValueError for anything else."""
    parsed = bounds.parse_month(month)
    if parsed is None:
        raise ValueError("月份格式应为 YYYY-MM")
    year, mon = parsed
    start = dt.datetime(year, mon, 1, tzinfo=LOCAL)
    end = dt.datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=LOCAL)
    return start, end


def current_month(now: dt.datetime | None = None) -> str:
    return f"{timezone.localtime(now or timezone.now(), LOCAL):%Y-%m}"


def _rate(n: int, total: int) -> float | None:
    return round(n / total, 4) if total else None


def monthly_report(month: str) -> dict:
    """答复质量月报: for the office's replies given in `month` (YYYY-MM, Beijing time), per unit:
    how many, and the share passing each check and given on time. One grouped query on the
    knowledge base's (replied_at, unit) index; never a walk over the matters."""
    start, end = month_bounds(month)
    rows = (
        ReplyEntry.objects.filter(source=Source.OFFICE, replied_at__gte=start, replied_at__lt=end)
        .values("unit_id", "unit_name")
        .annotate(
            replies=Count("id"),
            relevant=Count("id", filter=Q(relevant=True)),
            outcome_time=Count("id", filter=Q(outcome_time=True)),
            policy=Count("id", filter=Q(policy=True)),
            timed=Count("id", filter=Q(on_time__isnull=False)),
            on_time=Count("id", filter=Q(on_time=True)),
        )
        .order_by("-replies", "unit_name")
    )
    units = []
    totals = dict.fromkeys(("replies", "relevant", "outcome_time", "policy", "timed", "on_time"), 0)
    for r in rows:
        for key in totals:
            totals[key] += r[key]
        units.append(_report_row(r))
    return {
        "month": month,
        "units": units,
        "total": _report_row({"unit_id": None, "unit_name": "合计", **totals}),
    }


def _report_row(r: dict) -> dict:
    n = r["replies"]
    return {
        "unit_id": r["unit_id"],
        "unit": r["unit_name"] or "（未记单位）",
        "replies": n,
        "relevant_rate": _rate(r["relevant"], n),
        "outcome_time_rate": _rate(r["outcome_time"], n),
        "policy_rate": _rate(r["policy"], n),
        "on_time_rate": _rate(r["on_time"], r["timed"]),
    }


def knowledge_counts() -> dict:
    """How many entries the knowledge base holds, by source."""
    got = dict(ReplyEntry.objects.values_list("source").annotate(n=Count("id")).order_by())
    return {"office": got.get(Source.OFFICE, 0), "starter": got.get(Source.STARTER, 0)}
