"""智能派单: a newly registered matter routed by the system when the model is sure enough.

The office switches it on or off (`XINFANG_AUTO_ROUTE`, on by default); it works only with a
model that carries a confidence threshold (`Model.auto_threshold`, chosen by training on
cross-validated data for the target in `metadata["auto_target"]`) and while it is not paused. A matter whose top-1 category reaches the
threshold and maps through the dispatch catalogue (派单目录) to a unit is routed by the route
transition itself (`cases.writer.case_transition`, row "route"): the same writer, clocks,
events and reactions as a clerk's route, with no user, the event marked `auto` with the model
version and confidence, and the category set. Everything else waits for a clerk.

Why a declared reaction on 已登记 (`reactions.AUTO`, timely) that routes once the registration
has committed, rather than a step inside registration:
- one road: every live road that registers (page, API, portal, Open311, reception) records the
  same 已登记 event, so all of them get it and none needs its own call; history (an event
  recorded long after it happened) is skipped by the `timely` rule, and the ledger import's
  batch form does nothing (an office routes what it imports itself);
- the registration is whole before the route changes it (its search entry, attachments), so
  the route is exactly a clerk's route, a second step on the timeline;
- a failure of automatic routing (a model file being replaced, a catalogue without a unit, a
  unit the report accuses) never costs the registration: the matter simply waits for a clerk.

Each automatic route gets an `AutoRoute` row whose outcome routing's reaction settles: wrong
when undone (撤回智能派单) or objected (异议退回), right when the unit moves on. When the
precision over the recent window falls below the model's target, automatic routing pauses
itself (`AutoRouting`, with the reason in Chinese) until an administrator resumes it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent, State
from xinfang.cases.transitions import TransitionNotAllowed
from xinfang.cases.writer import ConcurrentChange, case_transition
from xinfang.orgs.models import Category, Unit, User
from xinfang.routing import classifier, engine
from xinfang.routing.models import AutoRoute, AutoRouting

log = logging.getLogger(__name__)

DEFAULT_TARGET = 0.98  # a model trained before targets were stored
Outcome = AutoRoute.Outcome

# What settles an automatic route: the unit moved on with it, or it came back.
RIGHT_KINDS = frozenset(
    {EventKind.ACCEPTED, EventKind.DECLINED, EventKind.NOT_ACCEPTED_AGAIN, EventKind.MERGED}
)
WRONG_KINDS = frozenset({EventKind.AUTO_ROUTE_UNDONE, EventKind.OBJECTED})


@dataclass(frozen=True)
class Decision:
    """What the model decided for one matter (派单决定)."""

    label: str
    confidence: float
    model_version: str
    category: Category
    unit: Unit


# ---------------------------------------------------------------- the state row


def state() -> AutoRouting | None:
    return AutoRouting.objects.filter(pk=1).first()


def paused_reason() -> str:
    """Why automatic routing is paused ("" when it runs)."""
    row = state()
    return row.reason if row is not None and row.paused else ""


def target_of(model: classifier.Model | None) -> float:
    """The precision the office set for the model (auto_target), as a share."""
    value = model.metadata.get("auto_target") if model is not None else None
    return float(value) if value else DEFAULT_TARGET


def threshold_of(model: classifier.Model | None) -> float | None:
    """The model's automatic-routing threshold; None: it routes nothing.

    `Model.auto_threshold` and `Model.auto_confidence` are the classifier's side of 智能派单
    (chosen on cross-validated training data, stored in the model file). `getattr`: a model
    class or file from before them has neither, and automatic routing is then off."""
    value = getattr(model, "auto_threshold", None) if model is not None else None
    return float(value) if value is not None else None


# ---------------------------------------------------------------- the decision


def _top_label(model: classifier.Model, title: str, content: str) -> tuple[str, float] | None:
    """The top-1 label and its automatic-routing confidence when that reaches the model's
    threshold (`Model.auto_route_label`'s rule, with the confidence kept for the timeline)."""
    threshold = threshold_of(model)
    confidence_of = getattr(model, "auto_confidence", None)
    if threshold is None or confidence_of is None:
        return None
    label, confidence = confidence_of(title, content)
    return (label, confidence) if confidence >= threshold else None


def decide(case: Case, model: classifier.Model | None = None) -> Decision | None:
    """The automatic route of a registered matter, or None when a clerk must decide."""
    if case.state != State.REGISTERED or case.accused_pending:
        return None
    model = model or engine.load_model()
    if model is None:
        return None
    found = _top_label(model, case.title or "", case.content or "")
    if found is None:
        return None
    label, confidence = found
    version = engine.model_version(model)
    if case.category_id is None:  # the usual case: the category and its line in one query
        line = engine.catalogue_pick_by_label(label, case.place_id)
        return Decision(label, confidence, version, *line) if line else None
    top = Category.objects.filter(parent__isnull=True, name=label).first()
    given = case.category
    if top is None or given is None or top.pk not in (given.pk, given.parent_id):
        return None  # the registering clerk chose another category: a person decides
    # a subcategory the clerk gave picks its own catalogue line; else the top's first line
    chosen = given if given.parent_id == top.pk else top
    sub, unit = engine.catalogue_pick(chosen, case.place_id)
    if unit is None:
        return None
    return Decision(label, confidence, version, sub or chosen, unit)


# ---------------------------------------------------------------- routing a new matter


def schedule(case: Case) -> None:
    """Route `case` automatically once its registration has committed (see the module's text)."""
    if settings.XINFANG_AUTO_ROUTE:
        transaction.on_commit(partial(route_registered, case), robust=True)


def route_registered(case: Case, *, at: dt.datetime | None = None) -> Case | None:
    """智能派单 of a registered matter: the route transition as the system, or None (waits).

    `case` is updated in place (the caller's object, e.g. the registration's result)."""
    if not settings.XINFANG_AUTO_ROUTE or paused_reason():
        return None
    decision = decide(case)
    if decision is None:
        return None
    params = {
        "unit": decision.unit,
        "category": decision.category,
        "auto": {
            "label": decision.label,
            "confidence": round(decision.confidence, 4),
            "model_version": decision.model_version,
        },
    }
    try:
        routed = case_transition(case=case, name="route", by=None, params=params, at=at)
    except (ValidationError, TransitionNotAllowed, ConcurrentChange) as exc:
        # e.g. the catalogue's unit is one the report accuses (回避): a clerk routes it
        log.info("智能派单未执行 %s：%s", case.number, exc)
        return None
    _copy_fields(routed, into=case)
    return case


def _copy_fields(source: Case, *, into: Case) -> None:
    """The saved row's fields onto the caller's object (as refresh_from_db, without the read)."""
    for field in Case._meta.concrete_fields:
        setattr(into, field.attname, getattr(source, field.attname))
    into._state.fields_cache = dict(source._state.fields_cache)


# ---------------------------------------------------------------- outcomes and self-pause


def record_route(case: Case, event: CaseEvent) -> None:
    """A 转送/交办 event: an automatic one gets its record; a clerk's route after a wrong
    automatic one says where the matter really went (改派)."""
    details = event.details or {}
    if details.get("auto"):
        AutoRoute.objects.create(
            case=case,
            routed_at=event.at,
            model_version=str(details.get("model_version", ""))[:60],
            label=str(details.get("label", ""))[:60],
            confidence=float(details.get("confidence") or 0),
            unit_id=details.get("unit_id"),
        )
        return
    AutoRoute.objects.filter(case=case, outcome=Outcome.WRONG, rerouted_unit__isnull=True).update(
        rerouted_unit_id=details.get("unit_id")
    )


def record_outcome(case: Case, event: CaseEvent) -> None:
    """Settle the pending automatic route of `case` by `event` (right or wrong)."""
    outcome = Outcome.WRONG if event.kind in WRONG_KINDS else Outcome.RIGHT
    changed = AutoRoute.objects.filter(case=case, outcome=Outcome.PENDING).update(
        outcome=outcome, outcome_event=event.kind, decided_at=event.at
    )
    if changed:  # a wrong one lowers the precision, a right one may complete the sample
        check_precision(event.at)


@dataclass(frozen=True)
class Window:
    """智能派单准确率 over the recent window: decided routes, wrong ones, precision."""

    days: int
    decided: int
    wrong: int

    @property
    def precision(self) -> float | None:
        return (self.decided - self.wrong) / self.decided if self.decided else None


def recent_window(now: dt.datetime | None = None) -> Window:
    """Automatic routes decided in the last XINFANG_AUTO_ROUTE_WINDOW_DAYS (since the last
    resume, if later: an administrator who resumes starts a new count)."""
    now = now or timezone.now()
    days = settings.XINFANG_AUTO_ROUTE_WINDOW_DAYS
    rows = AutoRoute.objects.filter(
        decided_at__gt=now - dt.timedelta(days=days), decided_at__lte=now
    )  # decided_at is set only when the outcome is
    row = state()
    if row is not None and row.resumed_at is not None:
        rows = rows.filter(routed_at__gt=row.resumed_at)
    counts = rows.aggregate(decided=Count("id"), wrong=Count("id", filter=Q(outcome=Outcome.WRONG)))
    return Window(days, counts["decided"], counts["wrong"])


def _percent(share: float) -> str:
    text = f"{share * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def check_precision(now: dt.datetime | None = None) -> bool:
    """Pause automatic routing when its precision in practice fell below the model's target
    over the recent window, with at least XINFANG_AUTO_ROUTE_MIN_SAMPLE decided routes.
    Returns whether it paused now."""
    now = now or timezone.now()
    if paused_reason():
        return False
    window = recent_window(now)
    target = target_of(engine.load_model())
    if window.decided < settings.XINFANG_AUTO_ROUTE_MIN_SAMPLE or window.precision is None:
        return False
    if window.precision >= target:
        return False
    reason = (
        f"近{window.days}天智能派单准确率 {_percent(window.precision)}，"
        f"低于目标 {_percent(target)}，已自动暂停"
    )
    with transaction.atomic():
        row, _ = AutoRouting.objects.select_for_update().get_or_create(pk=1)
        if row.paused:
            return False
        row.paused_at, row.reason = now, reason
        row.save(update_fields=["paused_at", "reason"])
    log.warning(reason)
    return True


def resume(*, by: User | None, at: dt.datetime | None = None) -> AutoRouting:
    """恢复智能派单: an administrator's decision; the precision is counted anew from here."""
    at = at or timezone.now()
    with transaction.atomic():
        row, _ = AutoRouting.objects.select_for_update().get_or_create(pk=1)
        row.paused_at, row.reason = None, ""
        row.resumed_at, row.resumed_by = at, by
        row.save()
    return row
