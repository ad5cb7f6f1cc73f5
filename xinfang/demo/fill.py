"""After the matters: what makes every page of the demo show something real.

`fill_pages` trains the routing model on the demo's own decided matters (with a sample of the
shipped labelled messages when they are there: `_train` says why), runs the daily backlog scan
(`backlog_scan`), and through the apps' services puts a month of leader reception on the rota,
a few reception records with the leaders' instructions, public bookings of the coming reception
slots, and a screening round (矛盾纠纷排查) of issues (never of people). Last, the run's final few
matters are registered as just in (`_live`): the model routes those it is sure of (智能派单), and
the units have accepted the earlier ones, so the timeline and the routing report show it at work.

Everything is dated relative to the demo's `now`, chosen by the seed, and done once: a part that
is already there (a reception record of the office, an open slot ahead, the quarter's round, a
rota day in the month) is left as it is.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from xinfang.answers import conf as answers_conf
from xinfang.answers.services import backfill, starter_load
from xinfang.backlog import screening
from xinfang.backlog.flagging import backlog_scan
from xinfang.backlog.models import ScreeningRound
from xinfang.cases import clocks, services
from xinfang.cases.models import CLOSED_STATES, Case, Channel, Kind, State
from xinfang.demo import words
from xinfang.demo.org import DemoOrg
from xinfang.demo.plans import Plan, Planner
from xinfang.orgs.models import Role, User
from xinfang.reception import selectors as reception_selectors
from xinfang.reception import services as reception
from xinfang.reception.models import AppointmentSlot, ReceptionKind, ReceptionRecord, RotaDay
from xinfang.routing import conf as routing_conf

if TYPE_CHECKING:
    from xinfang.routing.features import Row

LOCAL = clocks.LOCAL
TRAIN_LIMIT = 1000  # the newest decided matters the demo's model learns from: seconds, not minutes
#: shipped labelled messages (XINFANG_ROUTING_BASE_CSV) the demo's model also learns from, each
#: cut to its title and the first BASE_CHARS characters (the time goes with the characters)
BASE_SAMPLE = 1200
BASE_CHARS = 200
#: cross-validation folds of the demo's training (the threshold of 智能派单 is chosen on them);
#: `xinfang routing train` and the scheduled retrain use five
DEMO_FOLDS = 3
#: what the command prints of the training (the model file's metadata)
MODEL_KEYS = (
    "version",
    "source",
    "n_train",
    "n_office",
    "n_base",
    "labels",
    "train_seconds",
    "cv_macro_f1",
    "auto_threshold",
    "auto_cv_precision",
    "auto_cv_coverage",
)
LIVE_SPAN = dt.timedelta(hours=3)  # the demo's last matters come in over these hours (智能派单)
RECORDS = 8  # reception records over the last month
SLOT_DAYS = 5  # working days ahead with bookable reception slots

# Leaders on the rota, in turn: two with accounts (they see their rota day's work), two named.
ROTA_USERS = ("supervisor", "head")
ROTA_NAMES = ("副县长刘建华", "信访局局长孙立新")
HALL = "县信访局群众来访接待大厅"

SUMMARIES = [
    "群众反映的问题已逐一听取，现场答复政策依据，要求责任单位限期核实办理并反馈。",
    "接访领导听取来访群众诉求，查阅相关材料，明确责任单位和办理时限。",
    "来访群众情绪平稳，接访领导当场解答，并交办责任单位上门走访核实。",
    "围绕群众反映的问题召集相关单位现场会商，形成处理意见，跟踪落实。",
]
INSTRUCTIONS = [
    "请责任单位于期限内核实情况，依法依规处理，并将结果书面报县信访局。",
    "请主要负责同志亲自过问，查清事实，妥善处理，按期反馈落实情况。",
    "请会同相关部门研究解决办法，做好政策解释和群众工作，防止问题反复。",
]
RESULTS = [
    "已上门核实，问题已按政策处理，来访群众表示认可。",
    "已组织相关部门会商，形成处理方案并落实，已向来访群众当面反馈。",
]
BOOKING_TOPICS = [
    "反映小区物业服务和收费问题，希望当面向领导说明情况。",
    "反映工程款拖欠导致工人工资未发放的问题。",
    "反映孩子入学学位安排问题，想了解相关政策。",
    "反映道路施工噪声扰民问题，希望协调施工时间。",
    "反映低保资格审核结果有异议，希望复核。",
    "反映房屋征收补偿标准问题，想当面咨询。",
]
# Screening entries: (issue, town, location, units, plan, status, households, deadline in days)
ISSUES: list[tuple[str, str, str, tuple[str, ...], str, str, int, int]] = [
    (
        "某小区业主与物业服务企业因公共收益分配和维修资金使用产生矛盾",
        "donghu",
        "锦绣花园小区",
        ("zj", "donghu"),
        "街道牵头召开业主、物业、社区三方协调会，公开公共收益账目",
        "in_progress",
        320,
        30,
    ),
    (
        "工业园区在建项目拖欠农民工工资，涉及多个施工班组",
        "xishan",
        "西山工业园区三期工地",
        ("rs", "zj"),
        "人社局督促总包单位足额支付，必要时启用工资保证金",
        "pending",
        0,
        15,
    ),
    (
        "城南新区道路建设征地补偿款分配存在争议",
        "chengguan",
        "城关镇河口村",
        ("zr", "chengguan"),
        "镇政府入户解释补偿政策，村务公开分配方案",
        "in_progress",
        46,
        45,
    ),
    (
        "夜市烧烤油烟和噪声影响周边居民休息",
        "beiling",
        "北岭街道文化路夜市",
        ("cg", "hb"),
        "城管和生态环境部门联合整治，规范经营时间和油烟净化设施",
        "resolved",
        85,
        20,
    ),
    (
        "村级道路养护不到位，雨季通行困难",
        "nanhe",
        "南河乡白沙村至双河村道路",
        ("jt", "nanhe"),
        "交通运输局列入年度养护计划，先行修补坑槽",
        "pending",
        130,
        60,
    ),
    (
        "学校周边交通拥堵，学生上下学存在安全隐患",
        "qingshi",
        "青石镇中心小学门前路段",
        ("jy", "ga"),
        "设置护学岗，错峰放学，增设减速标识",
        "resolved",
        0,
        30,
    ),
]


@dataclass
class Filled:
    """What `fill_pages` did, for the command to print."""

    model: dict = field(default_factory=dict)  # the training's own summary, or {"error": ...}
    auto: dict = field(default_factory=dict)  # 智能派单 of the last matters: registered, routed...
    answers: dict = field(default_factory=dict)  # knowledge-base entries: office, starter
    backlog: int = 0  # matters the scan made backlog cases
    rota_days: int = 0
    records: int = 0
    instructions: int = 0
    slots: int = 0
    bookings: int = 0
    screening_entries: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def fill_pages(
    *,
    org: DemoOrg,
    seed: int,
    now: dt.datetime,
    model_path: str | Path | None = None,
    live: int = 0,
) -> Filled:
    """Train, scan and fill the rota, reception, bookings and screening, and register `live`
    matters as just in (see the module)."""
    filled = Filled()
    rng = random.Random(f"demo-fill-{seed}")
    steps = [
        ("routing", lambda: _train(filled, model_path, seed, now)),
        ("answers", lambda: _answers(filled)),
        ("backlog", lambda: _scan(filled, now)),
        ("rota", lambda: _rota(filled, org, now)),
        ("reception", lambda: _records(filled, org, now, rng)),
        ("bookings", lambda: _bookings(filled, org, now, rng)),
        ("screening", lambda: _screening(filled, org, now)),
        # last: the steps above are the same whether or not the demo's last matters came in
        ("auto", lambda: _live(filled, org, seed, now, live)),
    ]
    for name, step in steps:
        started = time.perf_counter()
        step()
        filled.seconds[name] = round(time.perf_counter() - started, 2)
    return filled


# ---------------------------------------------------------------- routing and backlog


def _train(filled: Filled, model_path: str | Path | None, seed: int, now: dt.datetime) -> None:
    """The routing model of the demo, from its decided matters and, when the shipped labelled
    data are there, BASE_SAMPLE of their messages; the model file is replaced at once (written
    beside it, then renamed), so a running server never reads half a file.

    Why the shipped messages: the demo's matters come from a few templates per category, so
    the cross-validation of a model trained on them alone makes no mistake at all. The
    confidence of 智能派单 then has nothing to learn from (its threshold comes out as 1.0, the
    rounded softmax of every training row), and the model is as sure of "你好" as of a wage
    complaint. Real messages, with their real confusions, give the threshold a meaning: what a
    newcomer types is routed when the model is sure, and waits for a clerk when it is not.
    A category with fewer decided matters than DEMO_FOLDS (a very small demo) is left out:
    cross-validation needs that many of each, and its matters simply wait for a clerk.
    """
    from xinfang.routing import classifier, features, selectors

    path = Path(model_path or routing_conf.model_path())
    office = [features.Row(*r) for r in selectors.training_rows(TRAIN_LIMIT)]
    base = _base_sample(seed)
    counts = Counter(r.label for r in office + base)
    rows = [r for r in office + base if counts[r.label] >= DEMO_FOLDS]
    labels = sorted({r.label for r in rows})
    if len(rows) < 10 or len(labels) < 2:  # too few decided matters (a very small demo)
        filled.model = {"error": f"训练数据不足：{len(rows)} 条、{len(labels)} 个类别"}
        return
    started = time.perf_counter()
    model = classifier.train(rows, features.Config(calibration_folds=DEMO_FOLDS))
    seconds = round(time.perf_counter() - started, 1)
    source = "cases" + (f"+base:{Path(settings.XINFANG_ROUTING_BASE_CSV).name}" if base else "")
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    meta = classifier.save(
        model,
        partial,
        {
            "version": f"{timezone.localtime(now):%Y%m%d-%H%M%S}-demo",
            "source": source,
            "n_train": len(rows),
            "n_office": sum(counts[r.label] >= DEMO_FOLDS for r in office),
            "n_base": sum(counts[r.label] >= DEMO_FOLDS for r in base),
            "label_counts": {label: counts[label] for label in labels},
            "train_seconds": seconds,
            "trained_at": now.isoformat(timespec="seconds"),
        },
    )
    os.replace(partial, path)
    filled.model = {**{k: meta.get(k) for k in MODEL_KEYS}, "model": str(path)}


def _base_sample(seed: int) -> list[Row]:
    """BASE_SAMPLE of the shipped labelled messages (none when the setting is empty or the file
    is not there), the same ones for the same seed, each cut to BASE_CHARS characters."""
    from xinfang.routing import features, versions

    rows = versions.base_rows()
    chosen = random.Random(f"demo-base-{seed}").sample(rows, min(BASE_SAMPLE, len(rows)))
    return [features.Row(r.title, r.content[:BASE_CHARS], r.label) for r in chosen]


def _live(filled: Filled, org: DemoOrg, seed: int, now: dt.datetime, count: int) -> None:
    """智能派单 at work: `count` matters registered as just in, over the last hours before
    `now` (after the demo's last matter, so the numbers keep registration order), through the
    registration service with no category, as a portal message or a clerk who leaves the
    category to the model. The model routes those it is sure of by the route transition
    (`routing.auto.route_registered`: what the 已登记 reaction runs once a registration
    commits, called here in the registration's own transaction so that it happens at the
    matter's time, and also when a caller holds a transaction); the others wait for a clerk.
    The units have accepted the earlier half of the routed ones: the routing report's
    precision in practice counts them.
    """
    from xinfang.routing import auto, engine

    if count <= 0:
        return
    model = engine.load_model()
    threshold = auto.threshold_of(model)
    if not settings.XINFANG_AUTO_ROUTE:
        why = "智能派单未开启（XINFANG_AUTO_ROUTE）"
    elif model is None or threshold is None:
        why = "模型未达到智能派单的目标准确率"
    else:
        why = auto.paused_reason()
    latest = Case.objects.aggregate(at=Max("registered_at"))["at"]
    start = max(latest or now - LIVE_SPAN, now - LIVE_SPAN)
    end = now - dt.timedelta(minutes=2)
    if end <= start:  # the last matter came in minutes ago: these come right after it
        start, end = latest or now, now
    times = [start + (end - start) * (i + 1) / (count + 1) for i in range(count)]
    planner = Planner(org, seed=seed + 1, now=now, total=4 * count)
    routed: list[tuple[Case, dt.datetime]] = []
    registered = 0
    for plan, at in zip(_fresh_plans(planner), times, strict=False):
        by = None if plan.channel == Channel.ONLINE else org.users["clerk"]
        registration = services.Registration(
            office=org.office,
            channel=plan.channel,
            kind=plan.kind,
            title=plan.title,
            content=plan.content,
            place=org.places[plan.place],
            petitioner=plan.petitioner,
            group_size=plan.group_size,
            representatives=plan.representatives,
            no_accused_unit=True,
        )
        with transaction.atomic():
            case = services.case_register(registration, by=by, at=at).case
            done = auto.route_registered(case, at=at)
        registered += 1
        if done is not None and done.state == State.ROUTED:
            routed.append((done, at))
    accepted = 0
    for case, at in routed[: (len(routed) + 1) // 2]:
        officer = _officer_of(org, case.lead_unit_id)
        if officer is None:
            continue
        services.case_accept(case=case, by=officer, at=at + (now - at) / 2)
        accepted += 1
    filled.auto = {
        "registered": registered,
        "routed": len(routed),
        "accepted": accepted,
        "threshold": threshold,
        "why_not": why,
    }


def _fresh_plans(planner: Planner) -> Iterator[Plan]:
    """Plans of new matters (no repeat of an earlier one, no report naming a unit)."""
    for index in range(planner.total):
        if planner.skeleton(index, pending_ok=True) is None:
            continue
        plan = planner.plan(index)
        if plan.prior is None and not plan.accused_unit:
            yield plan


def _officer_of(org: DemoOrg, unit_id: int | None) -> User | None:
    return next(
        (u for u in org.users.values() if u.unit_id == unit_id and u.role == Role.OFFICER), None
    )


def _answers(filled: Filled) -> None:
    """答复知识库: the demo's own replies, and the starter replies (replies.csv) when present,
    so that the reply panel of a matter has past answers to show."""
    path = answers_conf.replies_csv()
    starter = starter_load(path).created if path is not None and path.exists() else 0
    filled.answers = {"office": backfill(), "starter": starter}


def _scan(filled: Filled, now: dt.datetime) -> None:
    """The daily job's scan, as of the demo's `now`."""
    filled.backlog = backlog_scan(now=now).total


# ---------------------------------------------------------------- reception


def _leaders(org: DemoOrg) -> list[reception.Leader]:
    return [reception.Leader(user=org.users[name]) for name in ROTA_USERS] + [
        reception.Leader(name=name) for name in ROTA_NAMES
    ]


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(LOCAL).date()


def _rota(filled: Filled, org: DemoOrg, now: dt.datetime) -> None:
    """The working days of the last month (the receptions held) and of the month ahead, with
    the whole of this month, the leaders in turn (排班)."""
    office, clerk = org.units["office"], org.users["clerk"]
    today = _today(now)
    start = min(today.replace(day=1), today - dt.timedelta(days=30))
    end = today + dt.timedelta(days=31)
    if RotaDay.objects.filter(rota__office=office, date__range=(start, end)).exists():
        return
    days = reception.rota_fill(office=office, by=clerk, start=start, end=end, leaders=_leaders(org))
    filled.rota_days = len(days)


def _duty(org: DemoOrg, date: dt.date) -> tuple[User | None, str]:
    """The leader on the rota on `date` (the user, or the name of one without an account)."""
    day = RotaDay.objects.filter(rota__office=org.units["office"], date=date).first()
    if day is None:
        return org.users[ROTA_USERS[0]], ""
    return day.leader, day.leader_name


def _raised(org: DemoOrg, before: dt.datetime, rng: random.Random, count: int) -> list[Case]:
    """Matters a visitor could raise at a reception on `before`: open visits or letters registered
    earlier, never an accusation (whose complainant stays hidden)."""
    pool = list(
        Case.objects.filter(
            office=org.units["office"],
            channel__in=[Channel.VISIT, Channel.LETTER],
            registered_at__lt=before - dt.timedelta(days=1),
            lead_unit__isnull=False,
        )
        .exclude(kind=Kind.ACCUSATION)
        .exclude(state__in=CLOSED_STATES)
        .order_by("-registered_at", "id")[:40]
    )
    return rng.sample(pool, min(count, len(pool)))


def _records(filled: Filled, org: DemoOrg, now: dt.datetime, rng: random.Random) -> None:
    """Receptions over the last month with the leader on duty, each with the matters raised and
    the leader's instructions: some done, the others open, the older of those overdue."""
    office, clerk = org.units["office"], org.users["clerk"]
    if ReceptionRecord.objects.filter(office=office).exists():
        return
    today = _today(now)
    # every other working day of the last month: the older instructions run past their 15 days
    past = reception_selectors.working_days(today - dt.timedelta(days=30), today)
    days = sorted([d for d in past if d < today][::-2][:RECORDS])
    for n, date in enumerate(days):
        held_at = dt.datetime.combine(date, dt.time(9, 30 + 5 * (n % 4)), LOCAL)
        leader, leader_name = _duty(org, date)
        locality = n % 4 == 3
        cases = _raised(org, held_at, rng, 1 + (n % 2))
        place = org.places[words.TOWN_PLACES[n % len(words.TOWN_PLACES)]].name
        record = reception.record_create(
            office=office,
            by=clerk,
            held_at=held_at,
            kind=ReceptionKind.LOCALITY if locality else ReceptionKind.ROTA,
            leader=leader,
            leader_name=leader_name,
            place=f"{place}便民服务中心" if locality else HALL,
            visitors=rng.randint(1, 4),
            summary=SUMMARIES[n % len(SUMMARIES)],
            case_numbers=[case.number for case in cases],
        )
        filled.records += 1
        for case in cases:
            instruction = reception.instruction_add(
                record=record,
                by=clerk,
                text=rng.choice(INSTRUCTIONS),
                owner_unit=case.lead_unit,
                case=case,
            )
            filled.instructions += 1
            done_at = held_at + dt.timedelta(days=rng.randint(3, 12))
            if n % 3 == 0 and done_at < now:  # done; the others are open, the oldest overdue
                head = _head_of(org, case.lead_unit_id) or clerk
                reception.instruction_complete(
                    instruction=instruction, by=head, result=rng.choice(RESULTS), at=done_at
                )


def _head_of(org: DemoOrg, unit_id: int | None) -> User | None:
    return next(
        (u for u in org.users.values() if u.unit_id == unit_id and u.role == Role.HEAD), None
    )


def _bookings(filled: Filled, org: DemoOrg, now: dt.datetime, rng: random.Random) -> None:
    """Morning slots on the next working days with the leader on duty, booked by citizens on
    the public page's service; one booking cancelled by its citizen."""
    office, clerk = org.units["office"], org.users["clerk"]
    # A slot cannot open on a day already past (the service's own rule, on the real clock).
    today = max(_today(now), reception_selectors.today())
    if AppointmentSlot.objects.filter(office=office, date__gte=today).exists():
        return
    days = reception_selectors.working_days(
        today + dt.timedelta(days=1), today + dt.timedelta(days=14)
    )
    cancelled = False
    for date in days[:SLOT_DAYS]:
        leader, leader_name = _duty(org, date)
        slot = reception.slot_create(
            office=office,
            by=clerk,
            date=date,
            start=dt.time(9, 0),
            end=dt.time(11, 30),
            capacity=6,
            leader=leader,
            leader_name=leader_name,
            place=HALL,
        )
        filled.slots += 1
        for _ in range(rng.randint(1, 4)):
            phone = words.mobile(rng)
            booking = reception.slot_book(
                slot_id=slot.pk,
                name=words.person_name(rng),
                phone=phone,
                description=rng.choice(BOOKING_TOPICS),
            )
            filled.bookings += 1
            if not cancelled and rng.random() < 0.3:
                reception.booking_cancel_by_citizen(reference=booking.reference, phone=phone)
                cancelled = True


# ---------------------------------------------------------------- screening


def _screening(filled: Filled, org: DemoOrg, now: dt.datetime) -> None:
    """This quarter's screening round of the office, with issues in the towns."""
    office, clerk = org.units["office"], org.users["clerk"]
    today = _today(now)
    quarter = (today.month - 1) // 3
    start = dt.date(today.year, 3 * quarter + 1, 1)
    end = (
        dt.date(today.year + 1, 1, 1) if quarter == 3 else dt.date(today.year, 3 * quarter + 4, 1)
    ) - dt.timedelta(days=1)
    name = f"{today.year}年第{'一二三四'[quarter]}季度矛盾纠纷排查"
    if ScreeningRound.objects.filter(office=office, name=name).exists():
        return
    round_ = screening.round_create(
        by=clerk, name=name, period_start=start, period_end=end, office=office
    )
    for issue, town, location, units, plan, status, households, days in ISSUES:
        screening.entry_create(
            round_=round_,
            by=clerk,
            data=screening.EntryData(
                issue=issue,
                place=org.places[town],
                location=location,
                units=[org.units[key] for key in units],
                responsible=org.head_of(units[0]),
                plan=plan,
                deadline=today + dt.timedelta(days=days),
                status=status,
                households=households,
            ),
        )
        filled.screening_entries += 1
