"""Carrying out a plan in memory, the way the services do: the row, its timeline, co-handlers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from xinfang.cases import clocks, services
from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, Channel, RouteMode, State
from xinfang.cases.workflow import ACTIONS, CITIZEN_WINDOWS
from xinfang.demo.plans import Plan, Planner, Step
from xinfang.demo.words import URGE_NOTE, _ri

S = State


# ---------------------------------------------------------------- carrying out a plan in memory


_CASE_FIELDS = [f for f in Case._meta.concrete_fields if not f.primary_key]
_CASE_DEFAULTS = {f.attname: f.get_default() for f in _CASE_FIELDS}


class _Row:
    """A matter's row in memory: the attributes of `Case`, without the model's overhead."""

    pk = None  # not saved yet: `services._set_due` then reads no recorded pauses

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(_CASE_DEFAULTS)
        self.__dict__.update(values)


def _row(**values: Any) -> Any:
    return _Row(**values)


@dataclass
class Built:
    """A matter computed in memory: the row, its timeline and what hangs off it."""

    plan: Plan
    case: Any  # a _Row with the attributes of Case
    events: list[tuple[str, dt.datetime, int | None, int | None, bool, dict]]
    co_units: list[int]


class Builder:
    """Carries out plans the way `services` does, without the database."""

    def __init__(self, planner: Planner, *, remember: bool = True) -> None:
        self.planner = planner
        self.remember = remember  # keep every number (else only those set from outside)
        self.org = planner.org
        self.clocks = planner.clocks
        self.unit_ids = {k: u.pk for k, u in self.org.units.items()}
        self.unit_names = {k: u.name for k, u in self.org.units.items()}
        self.numbers: dict[int, tuple[str, int | None]] = {}  # plan index -> (number, pk)

    def actor(self, plan: Plan, step: Step, lead: str | None, review: str | None):
        """The user who takes `step` (None for the petitioner online and for the system)."""
        org = self.org
        role = step.actor
        if role == "citizen":
            return None if plan.channel == Channel.ONLINE else org.users["clerk"]
        if role == "clerk":
            return org.users["clerk"]
        if role == "handler":
            return org.officer_of(lead)
        if role == "head":
            return org.head_of(lead)
        if role == "reviewer":
            return org.reviewer_of(review)
        if role == "rereviewer":
            return org.reviewer_of(self.planner.parent[review])
        if role == "supervisor":
            return org.users["supervisor"]
        return None

    def build(self, plan: Plan, year: int, seq: int) -> Built:
        org, c = self.org, self.clocks
        office = org.office
        p = plan.petitioner
        register = plan.steps[0]
        by = self.actor(plan, register, None, None)
        case = _row(
            office_id=office.pk,
            year=year,
            seq=seq,
            number=services.case_number(office, year, seq),
            channel=plan.channel,
            kind=plan.kind,
            title=plan.title.strip()[:120],
            content=plan.content.strip(),
            place_id=org.places[plan.place].pk,
            category_id=org.categories[plan.category].pk,
            anonymous=p.anonymous,
            petitioner_name="" if p.anonymous else p.name.strip(),
            petitioner_id_number=p.id_number,
            petitioner_phone=p.phone,
            petitioner_address=p.address.strip(),
            group_size=plan.group_size,
            accused_unit_id=self.unit_ids.get(plan.accused_unit),
            accused_person=plan.accused_person.strip(),
            registered_at=register.at,
            created_by_id=by.pk if by else None,
        )
        c.enter_state(case, S.REGISTERED, register.at)
        events = [
            (
                EventKind.REGISTERED,
                register.at,
                by.pk if by else None,
                by.unit_id if by else None,
                True,
                {"channel": plan.channel, "case_kind": plan.kind},
            )
        ]
        built = Built(plan, case, events, [])
        state = {"lead": None, "review": None}
        for step in plan.steps[1:]:
            self._apply(built, step, state)
        self._maybe_urge(built, state)
        if self.remember:
            self.numbers[plan.index] = (case.number, None)
        return built

    def _apply(self, built: Built, step: Step, state: dict) -> None:
        plan, case, at, p = built.plan, built.case, step.at, step.params
        action = ACTIONS[step.action]
        by = self.actor(plan, step, state["lead"], state["review"])
        on_time = case.due_at is None or at <= case.due_at
        details: dict[str, Any] = {"on_time": on_time}
        name = step.action
        if name == "route":
            unit = p["unit"]
            case.lead_unit_id, case.route_mode, case.routed_at = self.unit_ids[unit], p["mode"], at
            case.report_required = p["mode"] == RouteMode.ASSIGN
            case.review_unit_id = case.rereview_unit_id = None
            days = p["assign_days"]
            case.assign_due_at = (
                self.clocks.due(at, days, clocks.DayKind.CALENDAR) if days else None
            )
            rule = self.clocks.rules["object"]
            case.object_due_at = self.clocks.due(at, rule.length, rule.kind)
            built.co_units = [self.unit_ids[u] for u in p["co_units"]]
            state["lead"] = unit
            details.update(
                unit=self.unit_names[unit],
                unit_id=self.unit_ids[unit],
                mode=p["mode"],
                co_units=[self.unit_names[u] for u in p["co_units"]],
                assign_days=days,
                note=p["note"],
            )
        elif name == "object":
            details.update(unit=self.unit_names[state["lead"]], reason=p["reason"])
            case.lead_unit_id = case.routed_at = case.object_due_at = case.assign_due_at = None
            built.co_units = []
            state["lead"] = None
        elif name == "accept":
            case.accepted_at = at
            details["unit"] = self.unit_names[state["lead"]] if state["lead"] else ""
        elif name == "decline":
            case.closed_at = at
            details.update(reason=p["reason"], proper_channel=p["proper_channel"])
        elif name == "not_accept_again":
            number, pk = self.numbers[plan.prior]
            case.closed_at, case.linked_to_id = at, pk
            details.update(prior=number, reason=p["reason"])
        elif name == "extend":
            old_due = case.due_at
            case.extension_days = p["days"]
            self.clocks.set_due(case)
            details.update(
                days=p["days"],
                reason=p["reason"],
                old_due=services._iso(old_due),
                new_due=services._iso(case.due_at),
            )
        elif name == "reply":
            case.outcome, case.replied_at = p["outcome"], at
            details.update(outcome=p["outcome"], text=p["text"])
        elif name == "rate":
            case.rating = p["rating"]
            details.update(rating=p["rating"], comment=p["comment"])
        elif name == "request_review":
            state["review"] = self.planner.parent[state["lead"]]
            case.review_unit_id = self.unit_ids[state["review"]]
            details.update(reason=p["reason"], review_unit=self.unit_names[state["review"]])
        elif name == "decide_review":
            case.review_outcome = p["outcome"]
            details.update(outcome=p["outcome"], text=p["text"])
        elif name == "request_rereview":
            above = self.planner.parent[state["review"]]
            case.rereview_unit_id = self.unit_ids[above]
            details.update(reason=p["reason"], rereview_unit=self.unit_names[above])
        elif name == "decide_rereview":
            case.rereview_outcome, case.closed_at = p["outcome"], at
            details.update(outcome=p["outcome"], text=p["text"])
        elif name == "finalize":
            case.closed_at = at
            details["window"] = case.clock
        elif name == "urge":
            details["note"] = p["note"]
        if action.target is not None:
            self.clocks.enter_state(case, action.target, at)
        case.version += 1
        built.events.append(
            (
                action.event,
                at,
                by.pk if by else None,
                by.unit_id if by else None,
                name not in {"object", "urge"},
                details,
            )
        )

    def _maybe_urge(self, built: Built, state: dict) -> None:
        """催办: a supervisor urges most matters whose office clock has run out."""
        case, plan = built.case, built.plan
        now = self.planner.now
        if case.due_at is None or case.due_at > now or case.clock in CITIZEN_WINDOWS:
            return
        rng = plan.rng
        if rng.random() >= 0.6:
            return
        last = built.events[-1][1]
        start = max(case.due_at, last)
        minutes = int((now - start).total_seconds() // 60)
        if minutes < 1:
            return
        at = start + dt.timedelta(minutes=_ri(rng, 1, min(minutes, 7 * 1440)))
        step = Step("urge", actor="supervisor", params={"note": URGE_NOTE}, at=at)
        plan.steps.append(step)
        self._apply(built, step, state)
