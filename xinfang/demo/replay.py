"""The service path: a plan's steps replayed through `services.case_*`, as real users would."""

from __future__ import annotations

from xinfang.cases import services
from xinfang.cases.models import Case
from xinfang.demo.builder import Builder
from xinfang.demo.plans import Plan, Planner


class _Replay:
    def __init__(self, planner: Planner, *, remember: bool = True) -> None:
        self.planner = planner
        self.remember = remember  # keep every number (else only those set from outside)
        self.org = planner.org
        self.builder = Builder(planner)
        self.pks: dict[int, int] = {}
        self.where: dict[int, dict] = {}

    def step(self, plan: Plan, k: int) -> None:
        org, step, p = self.org, plan.steps[k], plan.steps[k].params
        state = self.where.setdefault(plan.index, {"lead": None, "review": None})
        by = self.builder.actor(plan, step, state["lead"], state["review"])
        at = step.at
        if step.action == "register":
            reg = services.Registration(
                office=org.office,
                channel=plan.channel,
                kind=plan.kind,
                title=plan.title,
                content=plan.content,
                place=org.places[plan.place],
                category=org.categories[plan.category],
                petitioner=plan.petitioner,
                group_size=plan.group_size,
                representatives=plan.representatives,
                accused_unit=org.units[plan.accused_unit] if plan.accused_unit else None,
                accused_person=plan.accused_person,
                # the demo's clerk decides at registration that the report names no unit
                no_accused_unit=not plan.accused_unit,
            )
            result = services.case_register(reg, by=by, at=at)
            self.pks[plan.index] = result.case.pk
            return
        case = Case(pk=self.pks[plan.index])
        name = step.action
        if name == "route":
            services.case_route(
                case=case,
                by=by,
                unit=org.units[p["unit"]],
                mode=p["mode"],
                co_units=[org.units[u] for u in p["co_units"]],
                assign_days=p["assign_days"],
                note=p["note"],
                at=at,
            )
            state["lead"] = p["unit"]
        elif name == "object":
            services.case_object(case=case, by=by, reason=p["reason"], at=at)
            state["lead"] = None
        elif name == "accept":
            services.case_accept(case=case, by=by, at=at)
        elif name == "decline":
            services.case_decline(
                case=case, by=by, reason=p["reason"], proper_channel=p["proper_channel"], at=at
            )
        elif name == "not_accept_again":
            prior = Case.objects.get(pk=self.pks[plan.prior])
            services.case_not_accept_again(case=case, by=by, prior=prior, reason=p["reason"], at=at)
        elif name == "extend":
            services.case_extend(case=case, by=by, days=p["days"], reason=p["reason"], at=at)
        elif name == "reply":
            services.case_reply(case=case, by=by, outcome=p["outcome"], text=p["text"], at=at)
        elif name == "rate":
            services.case_rate(case=case, by=by, rating=p["rating"], comment=p["comment"], at=at)
        elif name == "request_review":
            services.case_request_review(case=case, by=by, reason=p["reason"], at=at)
            state["review"] = self.planner.parent[state["lead"]]
        elif name == "decide_review":
            services.case_decide_review(
                case=case, by=by, outcome=p["outcome"], text=p["text"], at=at
            )
        elif name == "request_rereview":
            services.case_request_rereview(case=case, by=by, reason=p["reason"], at=at)
        elif name == "decide_rereview":
            services.case_decide_rereview(
                case=case, by=by, outcome=p["outcome"], text=p["text"], at=at
            )
        elif name == "finalize":
            services.case_finalize(case=case, at=at)
        elif name == "urge":
            services.case_urge(case=case, by=by, note=p["note"], at=at)
        else:  # pragma: no cover - the planner only uses the actions above
            raise ValueError(name)
