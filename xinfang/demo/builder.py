"""Carrying out a plan in memory, the way the services do: the row, its timeline, co-handlers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from xinfang.cases import clocks, services
from xinfang.cases.events import EventKind, is_public
from xinfang.cases.models import Case, Channel, State
from xinfang.cases.transitions import Due
from xinfang.cases.workflow import ACTIONS, CITIZEN_WINDOWS, check_transition
from xinfang.cases.writer import change_row, enter_state
from xinfang.demo.plans import Plan, Planner, Step
from xinfang.demo.words import URGE_NOTE, _ri
from xinfang.orgs.models import Unit

S = State


# ---------------------------------------------------------------- carrying out a plan in memory


_CASE_FIELDS = [f for f in Case._meta.concrete_fields if not f.primary_key]
_CASE_DEFAULTS = {f.attname: f.get_default() for f in _CASE_FIELDS}


def _unit_field(name: str) -> property:
    """A unit foreign key of the row: the `Unit` read from the demo's units, stored as its id."""

    def get(row: _Row) -> Unit | None:
        return row.units.get(row.__dict__[f"{name}_id"])

    def set_(row: _Row, unit: Unit | None) -> None:
        row.__dict__[f"{name}_id"] = unit.pk if unit is not None else None

    return property(get, set_)


class _Row:
    """A matter's row in memory: the attributes of `Case`, without the model's overhead. The
    transitions read and set its units as they do a Case's (`case.lead_unit.parent`)."""

    pk = None  # not saved yet: `writer.set_due` then reads no recorded pauses
    units: dict[int, Unit] = {}  # by id: set by the Builder
    lead_unit = _unit_field("lead_unit")
    review_unit = _unit_field("review_unit")
    rereview_unit = _unit_field("rereview_unit")

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(_CASE_DEFAULTS)
        self.__dict__.update(values)

    @property
    def linked_to(self) -> Any:
        raise AttributeError("linked_to: the demo links matters by plan index")

    @linked_to.setter
    def linked_to(self, prior: _Prior | None) -> None:
        self.__dict__["linked_to_id"] = prior.pk if prior is not None else None


@dataclass(frozen=True)
class _Prior:
    """The final matter a 不再受理 refers to: its number, and its id once it is written."""

    number: str
    pk: int | None


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
        self.unit_keys = {u.pk: k for k, u in self.org.units.items()}
        _Row.units = {u.pk: u for u in self.org.units.values()}
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
        org = self.org
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
        enter_state(case, S.REGISTERED, register.at)
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
        """The step through the transition's own `apply` and the writer's `change_row`: the
        demo's rows, deadlines and event details are the system's by construction. What the
        demo leaves out is the database work around them (locks, pause rows, reactions)."""
        plan, case, at = built.plan, built.case, step.at
        spec = ACTIONS[step.action]
        check_transition(step.action, case.state)
        by = self.actor(plan, step, state["lead"], state["review"])
        on_time = case.due_at is None or at <= case.due_at
        change = spec.apply(case, self._params(plan, step), at)
        details = change_row(case, spec, change, at, self._deadline)
        if change.co_units is not None:
            built.co_units = [u.pk for u in change.co_units]
        state["lead"] = self.unit_keys.get(case.lead_unit_id)
        state["review"] = self.unit_keys.get(case.review_unit_id)
        case.version += 1
        built.events.append(
            (
                spec.event,
                at,
                by.pk if by else None,
                by.unit_id if by else None,
                is_public(spec.event),
                {"on_time": on_time, **details},
            )
        )

    def _params(self, plan: Plan, step: Step) -> dict[str, Any]:
        """The step's parameters as the transition takes them: units, not the plan's keys."""
        params = dict(step.params)
        units = self.org.units
        if "unit" in params:
            params["unit"] = units[params["unit"]]
        if "co_units" in params:
            params["co_units"] = [units[key] for key in params["co_units"]]
        if step.action == "not_accept_again":
            number, pk = self.numbers[plan.prior]
            params["prior"] = _Prior(number, pk)
        return params

    def _deadline(self, due: Due, at: dt.datetime) -> dt.datetime:
        if due.rule:
            rule = self.clocks.rules[due.rule]
            return self.clocks.due(at, rule.length, rule.kind)
        return self.clocks.due(at, due.days, clocks.DayKind.CALENDAR)

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
