"""The plan of one matter: its type, route, text, petitioner and the steps of its life, a pure
function of the seed and its index."""

from __future__ import annotations

import bisect
import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from xinfang.cases import clocks, services
from xinfang.cases.models import HOTLINE_KINDS, Channel, Kind, Rating, RouteMode, State
from xinfang.cases.selectors import clock_rules, work_calendar
from xinfang.cases.workflow import STATE_CLOCK
from xinfang.demo.org import DemoOrg
from xinfang.demo.words import (
    _CAT_CUM,
    _CAT_NAMES,
    _STATE_CUM,
    _STATE_NAMES,
    ACCUSABLE_UNITS,
    CO_HANDLER_UNITS,
    DECLINE_REASONS,
    DEPARTMENT_POSTS,
    EXTEND_REASONS,
    FINAL_VARIANTS,
    FORCED_BUCKETS,
    HOTLINE_STATES,
    KIND_CHOICES,
    LOCAL_CATEGORIES,
    NAA_REASON,
    PETITION_CHANNELS,
    RATE_COMMENTS,
    RATINGS,
    REPLY_OUTCOMES,
    REPLY_TEXTS,
    REREVIEW_OUTCOMES,
    REVIEW_OUTCOMES,
    REVIEW_REASONS,
    REVIEW_TEXTS,
    SURNAMES,
    TEMPLATES,
    TOWN_PLACES,
    TOWN_POSTS,
    TOWNS,
    VILLAGES,
    XIAOQU,
    _one,
    _ri,
    _Slots,
    id_number,
    mobile,
    person_name,
)

LOCAL = clocks.LOCAL
S = State


HISTORY_DAYS = 540  # registrations spread over about 18 months

# ---------------------------------------------------------------- the plan of one matter


@dataclass
class Step:
    """One step of a matter's life: a workflow action (or "register"), who takes it, when."""

    action: str
    gap: int = 0  # days after the previous step
    actor: str = (
        ""  # clerk | handler | head | citizen | reviewer | rereviewer | supervisor | system
    )
    params: dict[str, Any] = field(default_factory=dict)
    optional: bool = False
    day: int = 0  # days before today
    at: dt.datetime | None = None


@dataclass
class Plan:
    index: int
    state: str
    kind: str
    channel: str
    category: str
    place: str
    lead: str
    steps: list[Step]
    rng: random.Random
    prior: int | None = None
    anchor: int = 0  # the step where the clock now running started
    title: str = ""
    content: str = ""
    petitioner: services.Petitioner = field(default_factory=services.Petitioner)
    group_size: int = 1
    representatives: list[dict[str, str]] = field(default_factory=list)
    accused_unit: str | None = None
    accused_person: str = ""

    @property
    def registered_at(self) -> dt.datetime:
        return self.steps[0].at

    @property
    def closed_at(self) -> dt.datetime | None:
        return (
            self.steps[-1].at if self.state in {S.FINAL, S.DECLINED, S.NOT_ACCEPTED_AGAIN} else None
        )


class Clocks:
    """The clock functions of `services` with the calendar and due dates memoised."""

    def __init__(self) -> None:
        self.rules = clock_rules()
        self.calendar = work_calendar()  # its library look-ups are cached per date
        self.warn = dt.timedelta(days=settings.XINFANG_DUE_SOON_DAYS)
        self._due: dict[tuple, dt.datetime] = {}

    def due(self, start: dt.datetime, length: int, kind: clocks.DayKind) -> dt.datetime:
        if kind is clocks.DayKind.HOURS:
            return start + dt.timedelta(hours=length)
        key = (clocks.local_date(start), length, kind)
        found = self._due.get(key)
        if found is None:
            found = self._due[key] = clocks.due_at(start, length, kind, self.calendar)
        return found

    def calendar_days(self, clock: str, extension: int = 0) -> int:
        """About how many calendar days a clock runs (for choosing ages)."""
        rule = self.rules[clock]
        length = rule.length + extension
        return length * 7 // 5 + 1 if rule.kind is clocks.DayKind.WORKING else length


class Planner:
    """Plans matter `i` of a run, deterministically from (seed, i) and the moment `now`."""

    def __init__(self, org: DemoOrg, *, seed: int, now: dt.datetime, total: int) -> None:
        self.org = org
        self.seed = seed
        self.now = timezone.localtime(now, LOCAL).replace(second=0, microsecond=0)
        self.today = self.now.date()
        self.now_minute = self.now.hour * 60 + self.now.minute
        self.total = total
        self.clocks = Clocks()
        self.parent = {k: _key_of(org, u.parent_id) for k, u in org.units.items()}
        self.naa: dict[int, tuple[int, int] | None] = {}

    def rng(self, index: int) -> random.Random:
        return random.Random((self.seed << 32) + index)

    # -- the skeleton: type, route, states and times

    def skeleton(self, index: int, *, pending_ok: bool = False) -> Plan | None:
        rng = self.rng(index)
        if index < len(_STATE_NAMES) and self.total >= len(_STATE_NAMES):
            state = _STATE_NAMES[index]  # every state at least once
        else:
            state = _STATE_NAMES[bisect.bisect(_STATE_CUM, rng.random() * _STATE_CUM[-1])]
        category = _CAT_NAMES[bisect.bisect(_CAT_CUM, rng.random() * _CAT_CUM[-1])]
        kind = KIND_CHOICES[category].pick(rng)
        prior = None
        if state == S.NOT_ACCEPTED_AGAIN:
            if index not in self.naa:
                if pending_ok:
                    return None
                raise KeyError(index)
            chosen = self.naa[index]
            if chosen is None:
                state = S.DECLINED
            else:
                prior = chosen[0]
        if state not in HOTLINE_STATES or prior is not None:
            kind = Kind.ACCUSATION if category == "JJ01" else Kind.APPEAL
        hotline = kind in HOTLINE_KINDS
        if hotline:
            channel = Channel.PHONE if rng.random() < 0.85 else Channel.ONLINE
        else:
            channel = PETITION_CHANNELS.pick(rng)
        if category in LOCAL_CATEGORIES or rng.random() < 0.5:
            place = _one(rng, TOWN_PLACES)
        else:
            place = "county"
        lead = self.org.lead_for(category, place)
        if lead == "jy" and rng.random() < 0.2:
            lead = _one(rng, ["school1", "school2"])
        plan = Plan(
            index=index,
            state=state,
            kind=kind,
            channel=channel,
            category=category,
            place=place,
            lead=lead,
            steps=[],
            rng=rng,
            prior=prior,
        )
        if prior is not None:
            base = self.skeleton(prior)
            plan.category, plan.place, plan.lead, plan.kind = (
                base.category,
                base.place,
                base.lead,
                base.kind,
            )
            plan.channel = base.channel
        if kind == Kind.ACCUSATION:
            plan.accused_unit = _one(rng, [u for u in ACCUSABLE_UNITS if u != lead])
        self._steps(plan, rng)
        if prior is not None:
            self._place_after_prior(plan, rng, self.naa[index][1])
        else:
            self._place_in_time(plan, rng)
        self._times(plan, rng)
        return plan

    def _steps(self, plan: Plan, rng: random.Random) -> None:
        """The steps that lead to the planned state, with gaps in days; marks the anchor."""
        state, hotline = plan.state, plan.kind in HOTLINE_KINDS
        citizen = "citizen"
        steps = plan.steps
        steps.append(Step("register", actor="clerk" if plan.channel != Channel.ONLINE else citizen))

        def add(action: str, gap: int, actor: str, optional: bool = False, **params) -> Step:
            step = Step(action, gap, actor, params, optional)
            steps.append(step)
            return step

        def route_gap() -> int:
            if hotline:
                return 0 if rng.random() < 0.9 else 1
            return _ri(rng, 16, 25) if rng.random() < 0.05 else _ri(rng, 0, 7)

        def route(gap: int, unit: str) -> Step:
            co: list[str] = []
            mode, days = RouteMode.TRANSFER, None
            if not hotline and plan.kind != Kind.ACCUSATION and rng.random() < 0.08:
                co = [_one(rng, [u for u in CO_HANDLER_UNITS if u != unit])]
            if not hotline and rng.random() < 0.2:
                mode, days = RouteMode.ASSIGN, _one(rng, [15, 30, 60])
            note = (
                "请于规定期限内办结并报送办结报告。"
                if mode == RouteMode.ASSIGN
                else "请依法依规办理，并直接答复信访人。"
            )
            return add(
                "route",
                gap,
                "clerk",
                unit=unit,
                mode=mode,
                co_units=co,
                assign_days=days,
                note=note,
            )

        def detour() -> None:
            wrong = _one(
                rng, [u for u in CO_HANDLER_UNITS if u not in {plan.lead, plan.accused_unit}]
            )
            route(route_gap(), wrong)
            lead_name = self.org.units[plan.lead].name
            add(
                "object",
                _ri(rng, 1, 4),
                "handler",
                reason=f"该事项不属于本单位职责范围，建议转{lead_name}办理",
            )

        plan.anchor = 0
        if plan.prior is not None:
            if rng.random() < 0.5:
                route(_ri(rng, 1, 7), plan.lead)
                add("not_accept_again", _ri(rng, 1, 10), "handler", reason=NAA_REASON)
            else:
                add("not_accept_again", _ri(rng, 1, 10), "clerk", reason=NAA_REASON)
            return
        if state == S.REGISTERED:
            if not hotline and rng.random() < 0.2:
                detour()
            return
        if state == S.DECLINED:
            reason, channel = _one(rng, DECLINE_REASONS)
            if rng.random() < 0.5:
                add("decline", _ri(rng, 1, 10), "clerk", reason=reason, proper_channel=channel)
            else:
                route(route_gap(), plan.lead)
                add("decline", _ri(rng, 2, 10), "handler", reason=reason, proper_channel=channel)
            plan.anchor = len(steps) - 1
            return
        if not hotline and rng.random() < 0.03:
            detour()
        route(route_gap() if len(steps) == 1 else _ri(rng, 0, 3), plan.lead)
        plan.anchor = len(steps) - 1
        if state == S.ROUTED:
            return
        accept_gap = (
            (0 if rng.random() < 0.8 else 1)
            if hotline
            else (_ri(rng, 16, 22) if rng.random() < 0.05 else _ri(rng, 1, 10))
        )
        add("accept", accept_gap, "handler", optional=False)
        if not hotline:
            plan.anchor = len(steps) - 1
        extended = not hotline and rng.random() < 0.12
        if extended:
            add(
                "extend",
                _ri(rng, 45, 58),
                "head",
                optional=state == S.ACCEPTED,
                days=_one(rng, [15, 30, 30]),
                reason=_one(rng, EXTEND_REASONS),
            )
        if state == S.ACCEPTED:
            return
        if hotline:
            lo, hi = {Kind.HOTLINE_ENQUIRY: (0, 2)}.get(plan.kind, (1, 14))
            reply_gap = _ri(rng, hi + 3, hi + 12) if rng.random() < 0.08 else _ri(rng, lo, hi)
        elif extended:
            reply_gap = _ri(rng, 3, 25)
        else:
            reply_gap = _ri(rng, 61, 75) if rng.random() < 0.06 else _ri(rng, 10, 58)
        outcome = REPLY_OUTCOMES.pick(rng)
        add("reply", reply_gap, "handler", outcome=outcome, text=_one(rng, REPLY_TEXTS[outcome]))
        plan.anchor = len(steps) - 1
        variant = "window"
        if state == S.FINAL and not hotline:
            variant = FINAL_VARIANTS.pick(rng)
        goes_to_review = state in {S.REVIEWING, S.REVIEWED, S.REREVIEWING} or variant != "window"
        rate_gap = 0
        if rng.random() < (0.85 if hotline else 0.65):
            rating = Rating.UNSATISFIED if goes_to_review else RATINGS.pick(rng)
            rate_gap = _ri(rng, 1, 3) if hotline else _ri(rng, 1, 10)
            add(
                "rate",
                rate_gap,
                citizen,
                optional=not goes_to_review,
                rating=rating,
                comment=_one(rng, RATE_COMMENTS[rating]),
            )
        if not goes_to_review:
            if state == S.FINAL:
                add("finalize", 0, "system")
            return
        add(
            "request_review",
            _ri(rng, 1, 15) if rate_gap else _ri(rng, 3, 25),
            citizen,
            reason=_one(rng, REVIEW_REASONS),
        )
        plan.anchor = len(steps) - 1
        if state == S.REVIEWING:
            return
        outcome = REVIEW_OUTCOMES.pick(rng)
        add(
            "decide_review",
            _ri(rng, 31, 40) if rng.random() < 0.05 else _ri(rng, 10, 29),
            "reviewer",
            outcome=outcome,
            text=REVIEW_TEXTS[outcome],
        )
        plan.anchor = len(steps) - 1
        if state == S.REVIEWED or variant == "review_window":
            if variant == "review_window":
                add("finalize", 0, "system")
            return
        add("request_rereview", _ri(rng, 3, 25), citizen, reason=_one(rng, REVIEW_REASONS))
        plan.anchor = len(steps) - 1
        if state == S.REREVIEWING:
            return
        outcome = REREVIEW_OUTCOMES.pick(rng)
        add(
            "decide_rereview",
            _ri(rng, 10, 29),
            "rereviewer",
            outcome=outcome,
            text=REVIEW_TEXTS[outcome].replace("复查", "复核"),
        )
        plan.anchor = len(steps) - 1

    def _anchor_age(self, plan: Plan, rng: random.Random, before: int) -> int:
        """Days between the anchor step (where the current clock starts) and today."""
        state, hotline = plan.state, plan.kind in HOTLINE_KINDS
        longest = max(1, HISTORY_DAYS - before)
        if state in {S.REPLIED, S.REVIEWED}:
            return _ri(rng, 0, 25)
        if state == S.FINAL and plan.steps[-1].action == "finalize":
            return _ri(rng, 45, max(45, longest))
        if state in {S.FINAL, S.DECLINED}:
            return _ri(rng, 0, longest)
        clock = STATE_CLOCK[state]
        if hotline and clock in {"accept", "handle"}:
            clock = plan.kind
        extension = sum(s.params.get("days", 0) for s in plan.steps if s.action == "extend")
        length = self.clocks.calendar_days(clock, extension)
        draw = rng.random()
        bucket = FORCED_BUCKETS.get(plan.index) if self.total >= len(_STATE_NAMES) else None
        if bucket == "overdue" or (bucket is None and draw < 0.18):
            return length + _ri(rng, 2, 90)
        if bucket == "due_soon" or (bucket is None and draw < 0.33):
            return max(0, length - _ri(rng, 0, 2))
        return _ri(rng, 0, max(0, length - 5))

    def _place_in_time(self, plan: Plan, rng: random.Random) -> None:
        """Give each step its day (days before today), working back and forth from the anchor."""
        steps, anchor = plan.steps, plan.anchor
        before = sum(s.gap for s in steps[1 : anchor + 1])
        steps[anchor].day = self._anchor_age(plan, rng, before)
        for k in range(anchor, 0, -1):
            steps[k - 1].day = steps[k].day + steps[k].gap
        keep = anchor + 1
        for k in range(anchor + 1, len(steps)):
            step = steps[k]
            day = steps[k - 1].day - step.gap
            if day < 0 and step.optional:
                break
            step.day = max(0, day)
            keep = k + 1
        if keep < len(steps) and steps[-1].action == "finalize":
            steps[keep:-1] = []
        else:
            del steps[keep:]

    def _place_after_prior(self, plan: Plan, rng: random.Random, prior_day: int) -> None:
        """不再受理: the new submission comes after the earlier matter became final."""
        steps = plan.steps
        after = sum(s.gap for s in steps[1:])
        latest = prior_day - 3
        steps[0].day = _ri(rng, max(after, latest - 180), max(after, latest))
        for k in range(1, len(steps)):
            steps[k].day = max(0, steps[k - 1].day - steps[k].gap)

    def _times(self, plan: Plan, rng: random.Random) -> None:
        """Times of day: offices work 8:30–17:30; online and 12345 submissions come 7:00–23:00."""
        previous_day, previous_minute = None, 0
        for k, step in enumerate(plan.steps):
            if step.action == "finalize":
                continue
            if k == 0 and (plan.channel == Channel.ONLINE or plan.kind in HOTLINE_KINDS):
                lo, hi = 420, 1380
            else:
                lo, hi = 510, 1050
            if step.day == previous_day:
                lo = max(lo, previous_minute)
                hi = max(hi, lo)
            if step.day == 0:
                hi = min(hi, self.now_minute)
                lo = min(lo, hi)
            minute = _ri(rng, lo, hi)
            day = self.today - dt.timedelta(days=step.day)
            step.at = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=LOCAL)
            previous_day, previous_minute = step.day, minute
        if plan.steps[-1].action == "finalize":
            self._finalize_time(plan, rng)

    def _finalize_time(self, plan: Plan, rng: random.Random) -> None:
        """期满终结 runs just after the petitioner's window closes (the worker's night run)."""
        opener = next(s for s in reversed(plan.steps) if s.action in {"reply", "decide_review"})
        rule = self.clocks.rules[
            "review_request" if opener.action == "reply" else "rereview_request"
        ]
        due = self.clocks.due(opener.at, rule.length, rule.kind)
        plan.steps[-1].at = min(due + dt.timedelta(minutes=_ri(rng, 1, 90)), self.now)

    # -- the rest of the plan: words and people

    def plan(self, index: int) -> Plan:
        plan = self.skeleton(index)
        rng = plan.rng
        if plan.prior is not None:
            self._copy_prior(plan)
            return plan
        stories, _ = TEMPLATES[plan.category]
        fixed = {}
        if plan.accused_unit:
            unit = self.org.units[plan.accused_unit]
            posts = TOWN_POSTS if unit.kind == unit.Kind.TOWN else DEPARTMENT_POSTS
            fixed = {"unit": unit.name, "person": f"{_one(rng, SURNAMES)}某{_one(rng, posts)}"}
        slots = _Slots(rng, **fixed)
        titles, content = _one(rng, stories)
        plan.title = _one(rng, titles).format_map(slots)
        plan.content = content.format_map(slots)
        if plan.accused_unit:
            plan.accused_person = slots["person"]
        elif plan.kind == Kind.HOTLINE_COMPLAINT and rng.random() < 0.3:
            plan.accused_person = next(
                (slots[k] for k in ("property_co", "builder", "shop", "employer") if k in slots), ""
            )
        plan.petitioner = self._petitioner(plan, rng)
        if plan.channel == Channel.VISIT and plan.kind == Kind.APPEAL and rng.random() < 0.15:
            plan.group_size = _ri(rng, 5, 60)
            plan.representatives = [
                {"name": person_name(rng), "id_number": id_number(rng), "phone": mobile(rng)}
                for _ in range(_ri(rng, 1, 5))
            ]
        return plan

    def _petitioner(self, plan: Plan, rng: random.Random) -> services.Petitioner:
        anonymous_share = {
            Kind.SUGGESTION: 0.35,
            Kind.ACCUSATION: 0.35,
            Kind.HOTLINE_REPORT: 0.35,
            Kind.HOTLINE_ENQUIRY: 0.1,
            Kind.HOTLINE_SUGGESTION: 0.1,
        }.get(plan.kind, 0)
        if rng.random() < anonymous_share:
            phone = mobile(rng) if plan.channel == Channel.PHONE and rng.random() < 0.5 else ""
            return services.Petitioner(phone=phone, anonymous=True)
        id_share = {Channel.VISIT: 0.95, Channel.ONLINE: 0.7, Channel.LETTER: 0.5, Channel.FAX: 0.5}
        town = _one(rng, TOWNS)
        if rng.random() < 0.5:
            address = f"示范县{town}{_one(rng, XIAOQU)}{_ri(rng, 1, 30)}栋{_ri(rng, 1, 4)}单元{_ri(rng, 101, 2604)}室"
        else:
            address = f"示范县{town}{_one(rng, VILLAGES)}{_ri(rng, 1, 12)}组{_ri(rng, 1, 99)}号"
        has_phone = rng.random() < 0.95
        return services.Petitioner(
            name=person_name(rng),
            id_number=id_number(rng) if rng.random() < id_share.get(plan.channel, 0.25) else "",
            phone=mobile(rng) if has_phone else "",
            address=address if (rng.random() < 0.6 or not has_phone) else "",
        )

    def _copy_prior(self, plan: Plan) -> None:
        prior = self.plan(plan.prior)
        plan.title = f"再次反映：{prior.title}"[:120]
        plan.content = f"{prior.content}此前已反映过，对处理结果仍不满意，再次请求解决。"
        plan.petitioner = prior.petitioner
        plan.accused_unit, plan.accused_person = prior.accused_unit, prior.accused_person

    # -- choosing the earlier matters that 不再受理 refers to

    def choose_priors(self, pending: list[int], finals: list[tuple[int, int]]) -> None:
        """For each pending 不再受理 matter pick a final matter of some weeks before (or none)."""
        candidates = [(day, index) for day, index in finals if day >= 25]
        for index in pending:
            rng = random.Random((self.seed << 32) + index + (1 << 31))
            self.naa[index] = _one(rng, candidates)[::-1] if candidates else None


def _key_of(org: DemoOrg, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    for key, unit in org.units.items():
        if unit.pk == unit_id:
            return key
    return None
