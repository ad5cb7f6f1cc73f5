"""分析报告: the monthly analysis report of the matters a user may see, drawn from the data, with
recommendations drafted from the figures by declared rules. Counted: matters and units, never
petitioners (no person is named or ranked anywhere in the report).

The figures (`analysis_for`) feed the page, its `?format=json` twin and the .docx (in the
national document layout, xinfang/lib/gbt9704.py), so the three always agree:

- 受理量 (volumes): matters in `access.visible_cases(user)` registered in the month (Beijing
  dates), with the previous month (环比) and the same month a year before (同比); by channel,
  by category and by place (the TOP with most), each with the previous month; 办结: the
  month's replies as the rates count them (see REPLY_RATES).
- 指标: `rates_table` for the month (n/d and % of every rate), the total and per unit.
- 超期: open matters past their deadline when the report is made, per unit holding the clock,
  units in the user's scope only (the citizen's own windows excluded).
- 热点: the month's hot issues (`routing.selectors.hot_for_month`), top HOT_TOP.
- 积案: backlog cases of units in scope: in hand now, flagged and cleared in the month.
- 建议: `RULES`, each a declared threshold turned into a sentence naming the unit or category and
  the figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.db.models import Case as CaseWhen
from django.db.models import Count, F, QuerySet, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from xinfang.backlog.models import ACTIVE_STATUSES, BacklogCase
from xinfang.backlog.models import Status as BacklogStatus
from xinfang.cases import access
from xinfang.cases.clocks import LOCAL
from xinfang.cases.models import Case, Channel, State
from xinfang.cases.selectors import overdue_cases
from xinfang.cases.workflow import CITIZEN_WINDOWS
from xinfang.orgs.models import Category, Place, Unit, User
from xinfang.reports.rates import RATES
from xinfang.reports.selectors import Period, rates_table

TOP = 5
HOT_TOP = 5
# 办结（答复）: the replies of the month as the rates count them (按期办结率 and the 12345 解决率
# have every reply of the month in scope as their denominator), so it costs no query of its own.
REPLY_RATES = ("complete_on_time", "hotline_resolution")
EARLIEST = dt.date(2000, 1, 1)


# ---------------------------------------------------------------- the month


def parse_month(text: str | None, today: dt.date | None = None) -> dt.date:
    """'2026-03' -> its first day; empty -> last month. ValueError (Chinese) when not a month."""
    if not text:
        first = (today or timezone.localdate()).replace(day=1)
        return (first - dt.timedelta(days=1)).replace(day=1)
    parts = str(text).strip().split("-")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):
        raise ValueError("月份格式应为 2026-03")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12:
        raise ValueError("月份应在 1 至 12 之间")
    if not EARLIEST.year <= year <= 2100:
        raise ValueError("年份应在 2000 年至 2100 年之间")
    return dt.date(year, month, 1)


def _next(first: dt.date) -> dt.date:
    return dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def _previous(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


def _bounds(first: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (
        dt.datetime.combine(first, dt.time(), LOCAL),
        dt.datetime.combine(_next(first), dt.time(), LOCAL),
    )


def _same_month_last_year(first: dt.date) -> dt.date:
    return first.replace(year=first.year - 1)


# ---------------------------------------------------------------- figures


@dataclass
class Line:
    key: str
    label: str
    count: int
    previous: int = 0

    @property
    def change(self) -> float | None:
        """Change against the previous month, as a fraction (None when there was none)."""
        return None if not self.previous else round((self.count - self.previous) / self.previous, 4)


@dataclass
class RateLine:
    name: str
    label: str
    numerator: float
    denominator: int
    pct: float | None


@dataclass
class UnitRate:
    unit: str
    rate: str
    label: str
    numerator: float
    denominator: int
    pct: float


@dataclass
class Analysis:
    month: str
    start: dt.date
    end: dt.date  # last day, included
    scope: str
    total: int
    previous: int
    last_year: int
    replied: int
    by_channel: list[Line]
    by_category: list[Line]
    by_place: list[Line]
    rates: list[RateLine]
    unit_rates: list[UnitRate]
    overdue: list[Line]
    overdue_total: int
    hot: list[dict]
    backlog: dict[str, int]
    recommendations: list[str] = field(default_factory=list)

    @property
    def month_on_month(self) -> float | None:
        return None if not self.previous else round((self.total - self.previous) / self.previous, 4)

    @property
    def year_on_year(self) -> float | None:
        return (
            None if not self.last_year else round((self.total - self.last_year) / self.last_year, 4)
        )


def _registered(cases: QuerySet[Case], first: dt.date) -> QuerySet[Case]:
    start, end = _bounds(first)
    return cases.filter(registered_at__gte=start, registered_at__lt=end)


def _grouped(qs: QuerySet[Case], column: str) -> dict:
    return {r["_k"]: r["n"] for r in qs.values(_k=F(column)).annotate(n=Count("pk")).order_by()}


def _lines(now: dict, before: dict, labels: dict, *, top: int | None = TOP) -> list[Line]:
    keys = sorted(now, key=lambda k: (-now[k], str(k)))
    lines = [
        Line(str(k), labels.get(k, "（未分类）" if k is None else str(k)), now[k], before.get(k, 0))
        for k in keys
    ]
    return lines[:top] if top else lines


def _category_labels(ids) -> dict:
    rows = Category.objects.filter(pk__in=[i for i in ids if i]).select_related("parent")
    return {c.pk: f"{c.parent.name}/{c.name}" if c.parent_id else c.name for c in rows}


def _holder():
    """The unit holding a matter's running clock (as the queue and the dashboard count it)."""
    return CaseWhen(
        When(state=State.REGISTERED, then=F("office_id")),
        When(state=State.REVIEWING, then=F("review_unit_id")),
        When(state=State.REREVIEWING, then=F("rereview_unit_id")),
        default=Coalesce("lead_unit_id", "office_id"),
    )


def _overdue(user: User, now: dt.datetime) -> dict[int, int]:
    # A matter whose clock a unit in scope holds is visible to the user (the holder is one of its
    # row units), so no visible_cases() OR-filter here: the due_at index alone finds the rows.
    qs = (
        overdue_cases(Case.objects.all(), now)
        .exclude(clock__in=CITIZEN_WINDOWS)
        .annotate(_h=_holder())
    )
    ids = access.scope_unit_ids(user)
    if ids is not None:
        qs = qs.filter(_h__in=ids)
    return {r["_h"]: r["n"] for r in qs.values("_h").annotate(n=Count("pk")).order_by() if r["_h"]}


def _backlog(user: User, first: dt.date) -> dict[str, int]:
    qs = BacklogCase.objects.all()
    ids = access.scope_unit_ids(user)
    if ids is not None:
        qs = qs.filter(unit_id__in=ids)
    start, end = _bounds(first)
    return {
        "in_hand": qs.filter(status__in=ACTIVE_STATUSES).count(),
        "flagged": qs.filter(flagged_at__gte=start, flagged_at__lt=end).count(),
        "cleared": qs.filter(
            status=BacklogStatus.CLOSED, closed_at__gte=start, closed_at__lt=end
        ).count(),
    }


def _hot(user: User, month: str) -> list[dict]:
    from xinfang.routing.selectors import hot_for_month

    page = hot_for_month(user, month, top=HOT_TOP)
    return [
        {
            "label": c.label,
            "place": c.place,
            "count": c.count,
            "prev_count": c.prev_count,
            "growth": round(c.growth, 3),
            "candidate": c.candidate,
        }
        for c in page.clusters[:HOT_TOP]
    ]


def _scope_label(user: User) -> str:
    ids = access.scope_unit_ids(user)
    if ids is None:
        return "全部单位"
    return f"{user.unit.name}{'及下属单位' if len(ids) > 1 else ''}" if user.unit_id else "—"


def analysis_for(user: User, first: dt.date, *, now: dt.datetime | None = None) -> Analysis:
    """Every figure of the month starting `first`, within what `user` may see."""
    now = now or timezone.now()
    cases = access.visible_cases(user)
    this, before = _registered(cases, first), _registered(cases, _previous(first))
    channels = dict(Channel.choices)
    by_category_now, by_category_before = (
        _grouped(this, "category_id"),
        _grouped(before, "category_id"),
    )
    by_place_now, by_place_before = _grouped(this, "place_id"), _grouped(before, "place_id")
    places = dict(
        Place.objects.filter(pk__in=[k for k in by_place_now if k]).values_list("pk", "name")
    )
    table = rates_table(user, Period(first, _next(first) - dt.timedelta(days=1)), "unit")
    overdue = _overdue(user, now)
    unit_names = dict(Unit.objects.filter(pk__in=list(overdue)).values_list("pk", "name"))
    analysis = Analysis(
        month=f"{first:%Y-%m}",
        start=first,
        end=_next(first) - dt.timedelta(days=1),
        scope=_scope_label(user),
        total=this.count(),
        previous=before.count(),
        last_year=_registered(cases, _same_month_last_year(first)).count(),
        replied=sum(table.total.figures[name].denominator for name in REPLY_RATES),
        by_channel=_lines(
            _grouped(this, "channel"), _grouped(before, "channel"), channels, top=None
        ),
        by_category=_lines(by_category_now, by_category_before, _category_labels(by_category_now)),
        by_place=_lines(by_place_now, by_place_before, places),
        rates=[
            RateLine(
                r.name,
                r.label,
                table.total.figures[r.name].numerator,
                table.total.figures[r.name].denominator,
                table.total.figures[r.name].pct,
            )
            for r in RATES
        ],
        unit_rates=[
            UnitRate(row.label, r.name, r.label, f.numerator, f.denominator, f.pct)
            for row in table.rows
            for r in RATES
            if (f := row.figures[r.name]).pct is not None
        ],
        overdue=_lines(overdue, {}, unit_names, top=None),
        overdue_total=sum(overdue.values()),
        hot=_hot(user, f"{first:%Y-%m}"),
        backlog=_backlog(user, first),
    )
    analysis.recommendations = recommendations(analysis)
    return analysis


# ---------------------------------------------------------------- recommendations, declared


def _pct(value: float) -> str:
    return f"{value:.1f}%"


@dataclass(frozen=True)
class Rule:
    name: str
    when: str  # the condition, as the README states it
    draft: Callable[[Analysis], list[str]]


RATE_FLOORS = {  # below this % (with at least MIN_DENOMINATOR matters) a unit is named
    "route_on_time": 95.0,
    "accept_on_time": 95.0,
    "complete_on_time": 90.0,
    "satisfaction": 80.0,
    "hotline_response": 95.0,
    "hotline_resolution": 80.0,
    "hotline_satisfaction": 80.0,
}
MIN_DENOMINATOR = 5
RISE = 0.30  # a category, or the total, up more than 30% on the previous month
MIN_RISE_COUNT = 5  # ... with at least this many matters this month
OVERDUE_NAMED = 3  # the units with most overdue matters that a sentence names
LOW_RATES_NAMED = 10  # low unit rates named one by one, furthest below the floor first


def _low_rates(a: Analysis) -> list[str]:
    low = [
        u
        for u in a.unit_rates
        if u.rate in RATE_FLOORS
        and u.denominator >= MIN_DENOMINATOR
        and u.pct < RATE_FLOORS[u.rate]
    ]
    low.sort(key=lambda u: (u.pct - RATE_FLOORS[u.rate], u.unit))  # furthest below its floor first
    out = []
    for u in low[:LOW_RATES_NAMED]:
        n = int(u.numerator) if float(u.numerator).is_integer() else round(u.numerator, 1)
        out.append(
            f"{u.unit}{u.label}为{_pct(u.pct)}（{n}/{u.denominator}），低于{RATE_FLOORS[u.rate]:g}%，"
            f"建议督促该单位分析原因、限期整改。"
        )
    if len(low) > LOW_RATES_NAMED:
        out.append(f"另有{len(low) - LOW_RATES_NAMED}项单位指标低于下限，详见统计与考核指标表。")
    return out


def _rising_categories(a: Analysis) -> list[str]:
    return [
        f"“{c.label}”类事项{c.count}件，较上月{c.previous}件增长{c.change:.0%}，建议相关部门关注成因、"
        f"提前研判化解。"
        for c in a.by_category
        if c.change is not None
        and c.change > RISE
        and c.count >= MIN_RISE_COUNT
        and c.key != "None"
    ]


def _rising_total(a: Analysis) -> list[str]:
    change = a.month_on_month
    if change is None or change <= RISE or a.total < MIN_RISE_COUNT:
        return []
    return [f"本月受理登记{a.total}件，环比增长{change:.0%}，建议加强源头治理和矛盾纠纷排查。"]


def _overdue_units(a: Analysis) -> list[str]:
    if not a.overdue:
        return []
    named = "、".join(f"{o.label}{o.count}件" for o in a.overdue[:OVERDUE_NAMED])
    return [
        f"截至报告生成时共有{a.overdue_total}件事项超期未办结（{named}），建议对超期事项逐件催办、"
        f"必要时下达督办单。"
    ]


def _backlog_left(a: Analysis) -> list[str]:
    if not a.backlog["in_hand"]:
        return []
    return [
        f"尚有积案{a.backlog['in_hand']}件在化解中（本月新认定{a.backlog['flagged']}件、化解"
        f"{a.backlog['cleared']}件），建议落实包案领导责任，定期调度。"
    ]


def _hot_candidate(a: Analysis) -> list[str]:
    first = next((h for h in a.hot if h["candidate"]), None)
    if first is None:
        return []
    return [f"热点问题“{first['label']}”本月{first['count']}件，建议列为“每月一题”专题研究解决。"]


RULES: tuple[Rule, ...] = (
    Rule(
        "low_rate",
        "某单位某项指标低于下限（分母至少5件）：转送交办及时率、及时受理率95%，按期办结率90%，"
        "满意率80%，12345响应率95%、解决率80%、满意率80%；逐条点名离下限最远的10项，其余合并为一句",
        _low_rates,
    ),
    Rule("rising_category", "某类事项较上月增长超过30%（本月至少5件）", _rising_categories),
    Rule("rising_total", "受理登记总量环比增长超过30%（本月至少5件）", _rising_total),
    Rule("overdue", "有超期未办结事项：点名超期最多的3个单位", _overdue_units),
    Rule("backlog", "有在化解中的积案", _backlog_left),
    Rule("hot", "热点问题达到“每月一题”候选条件", _hot_candidate),
)


def recommendations(a: Analysis) -> list[str]:
    return [sentence for rule in RULES for sentence in rule.draft(a)]


# ---------------------------------------------------------------- JSON


def analysis_json(a: Analysis) -> dict:
    def lines(items: list[Line]) -> list[dict]:
        return [{**asdict(i), "change": i.change} for i in items]

    return {
        "month": a.month,
        "from": a.start.isoformat(),
        "to": a.end.isoformat(),
        "scope": a.scope,
        "volumes": {
            "total": a.total,
            "previous_month": a.previous,
            "same_month_last_year": a.last_year,
            "month_on_month": a.month_on_month,
            "year_on_year": a.year_on_year,
            "replied": a.replied,
            "by_channel": lines(a.by_channel),
            "by_category": lines(a.by_category),
            "by_place": lines(a.by_place),
        },
        "rates": [asdict(r) for r in a.rates],
        "unit_rates": [asdict(r) for r in a.unit_rates],
        "overdue": {"total": a.overdue_total, "by_unit": lines(a.overdue)},
        "hot": a.hot,
        "backlog": a.backlog,
        "recommendations": a.recommendations,
        "rules": [{"name": r.name, "when": r.when} for r in RULES],
    }


# ---------------------------------------------------------------- the .docx


def _change_text(change: float | None) -> str:
    if change is None:
        return "—"
    return f"{'增长' if change >= 0 else '下降'}{abs(change):.1%}"


def _cn_month(first: dt.date) -> str:
    return f"{first.year}年{first.month}月"


def _line_rows(items: list[Line]) -> list[list]:
    return [[i.label, i.count, i.previous, _change_text(i.change)] for i in items]


def render_docx(a: Analysis, *, issuer: str, today: dt.date | None = None) -> bytes:
    """The report in the national document layout (the notices' fonts and page)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from xinfang.cases.notices import BODY_FONT, TITLE_FONT
    from xinfang.cases.selectors import cn_date
    from xinfang.lib import gbt9704

    today = today or timezone.localdate()
    doc = gbt9704.new_document(body_font=BODY_FONT)
    title = f"{_cn_month(a.start)}信访事项分析报告"
    gbt9704.title(doc, title, font=TITLE_FONT)
    gbt9704.add(
        doc,
        f"（统计范围：{a.scope}；统计期：{cn_date(a.start)}至{cn_date(a.end)}）",
        font=BODY_FONT,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )

    def para(text: str) -> None:
        gbt9704.add(doc, text, font=BODY_FONT, first_line=2)

    def table(header: list[str], rows: list[list]) -> None:
        if rows:
            gbt9704.table(doc, header, rows, font=BODY_FONT)
        else:
            para("本期无数据。")

    gbt9704.heading(doc, "一、总体情况")
    para(
        f"本月受理登记信访事项{a.total}件，环比{_change_text(a.month_on_month)}（上月{a.previous}件），"
        f"同比{_change_text(a.year_on_year)}（上年同月{a.last_year}件）；本月办结（答复）{a.replied}件。"
    )
    gbt9704.heading(doc, "（一）按来源渠道", level=2)
    table(["来源渠道", "本月", "上月", "环比"], _line_rows(a.by_channel))
    gbt9704.heading(doc, f"（二）按事项分类（前{TOP}类）", level=2)
    table(["事项分类", "本月", "上月", "环比"], _line_rows(a.by_category))
    gbt9704.heading(doc, f"（三）按问题属地（前{TOP}个）", level=2)
    table(["问题属地", "本月", "上月", "环比"], _line_rows(a.by_place))

    gbt9704.heading(doc, "二、主要指标")
    para("各项指标按统一口径计算，分子、分母均可在“统计与考核指标”页面逐项核对到事项。")
    table(
        ["指标", "分子", "分母", "比率"],
        [
            [
                r.label,
                int(r.numerator) if float(r.numerator).is_integer() else round(r.numerator, 1),
                r.denominator,
                "—" if r.pct is None else _pct(r.pct),
            ]
            for r in a.rates
        ],
    )

    gbt9704.heading(doc, "三、超期事项")
    para(
        f"截至报告生成时，共有{a.overdue_total}件事项超期未办结。"
        if a.overdue_total
        else "截至报告生成时，没有超期未办结的事项。"
    )
    if a.overdue:
        table(["单位", "超期件数"], [[o.label, o.count] for o in a.overdue])

    gbt9704.heading(doc, "四、热点问题")
    if a.hot:
        table(
            ["热点", "属地", "本月", "上月"],
            [[h["label"], h["place"], h["count"], h["prev_count"]] for h in a.hot],
        )
    else:
        para("本月未形成热点问题。")

    gbt9704.heading(doc, "五、积案化解")
    b = a.backlog
    para(
        f"目前在化解中的积案{b['in_hand']}件；本月新认定{b['flagged']}件，化解销号{b['cleared']}件。"
    )

    gbt9704.heading(doc, "六、工作建议")
    for number, sentence in enumerate(a.recommendations or ["各项指标正常，建议保持。"], 1):
        para(f"{number}. {sentence}")
    gbt9704.add(doc, "", font=BODY_FONT)
    gbt9704.signature(doc, issuer, cn_date(today), font=BODY_FONT)
    return gbt9704.to_bytes(doc, title=title, subject=a.scope, author=issuer, date=today)
