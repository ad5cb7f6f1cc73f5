"""The OpenAPI document says what the server accepts: schemathesis, every check, against the app.

Schemathesis reads /api/openapi.json and, for every operation, generates requests that fit the
schema (positive) and requests that break it (negative), calls the WSGI app in-process and runs
all its checks on each answer: no server error, only documented status codes and content types,
responses that match their schemas, schema-valid requests never refused as invalid (422), and
schema-invalid ones never accepted.

A schema describes shapes, not the world: it cannot know which ids exist, which numbers name a
matter, or what date is tomorrow. So where a generated value is schema-valid, the test swaps it
for a real one of the same kind (a unit, a place, a matter of this county; a deadline in the
future) before sending it. Each operation is called as the person who uses it (a clerk
registers and routes, the handling unit's head accepts and replies, a supervisor urges and
closes orders). A refusal by the rules of the matter's current state (400, "当前状态…不能…")
is an answer to valid input, not a rejection of it; 422 never is.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import hypothesis
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig

from tests.factories import VALID_ID, VALID_PHONE, bj, make_county, make_personas, register
from xinfang.api.services import api_token_issue
from xinfang.cases import services
from xinfang.cases.models import Kind
from xinfang.cases.workflow import FORM_ACTIONS
from xinfang.supervision import services as supervision

MAX_ID = 2**63 - 1
EXAMPLES = 20

CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", 400, 401, 403, 404, 409]}
        }
    }
)
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application(), config=CONFIG)

# Who calls each operation: the side that takes the transition, else the clerk.
SIDE_PERSONA = {
    "handler": "head",
    "head": "head",
    "clock_holder": "head",
    "reviewer": "reviewer",
    "supervisor": "supervisor",
}
STATS: Counter[str] = Counter()


@dataclass
class World:
    tokens: dict[str, str]
    ids: dict[str, list[int]] = field(default_factory=dict)
    numbers: list[str] = field(default_factory=list)


def _persona(path: str) -> str:
    if path.endswith("/feedback"):
        return "head"
    if path.startswith(("/api/supervision", "/api/assessments")):
        return "supervisor"
    action = path.rsplit("/", 1)[-1]
    if path.startswith("/api/cases/{case_id}/") and action in FORM_ACTIONS:
        return SIDE_PERSONA.get(FORM_ACTIONS[action].actor, "clerk")
    return "clerk"


@pytest.fixture
def _keep_the_test_connection():
    """Raw WSGI calls fire request_finished, which closes the database connection; inside a test
    transaction on PostgreSQL that ends the test's connection. Django's test client unhooks the
    same receivers for the same reason."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, _keep_the_test_connection) -> World:
    """A county with matters in several states, a pending report, supervision orders, and a
    token for each person who uses the API."""
    c = make_county()
    people = make_personas(c)
    fresh = register(c, people.clerk, bj(2026, 11, 2, 9))
    routed = services.case_route(
        case=register(c, people.clerk, bj(2026, 11, 3, 9)), by=people.clerk, unit=c.hr
    )
    accepted = services.case_accept(
        case=services.case_route(
            case=register(c, people.clerk, bj(2026, 11, 4, 9)), by=people.clerk, unit=c.hr
        ),
        by=people.officer,
    )
    replied = services.case_reply(
        case=services.case_accept(
            case=services.case_route(
                case=register(c, people.clerk, bj(2026, 11, 5, 9)), by=people.clerk, unit=c.hr
            ),
            by=people.officer,
        ),
        by=people.officer,
        outcome="explained",
        text="依法解释",
    )
    report = register(
        c,
        people.clerk,
        bj(2026, 11, 6, 9),
        kind=Kind.ACCUSATION,
        title="反映某单位推诿",
        content="某单位多次推诿。",
        no_accused_unit=False,
    )
    cases = [fresh, routed, accepted, replied, report]
    soon = timezone.localdate() + dt.timedelta(days=20)
    open_order = supervision.order_issue(
        case=routed, by=people.supervisor, requirements="请尽快办理", deadline_date=soon
    )
    answered = supervision.order_issue(
        case=accepted, by=people.supervisor, requirements="请报告进展", deadline_date=soon
    )
    supervision.order_feedback(order=answered, by=people.officer, text="已约谈")
    personas = ("clerk", "head", "reviewer", "supervisor")
    return World(
        tokens={p: api_token_issue(user=getattr(people, p), name="schemathesis") for p in personas},
        ids={
            "case_id": [case.pk for case in cases],
            "order_id": [open_order.pk, answered.pk],
            "unit": [c.hr.pk, c.edu.pk, c.housing.pk],
            "place": [c.place.pk, c.town_place.pk],
            "category": [c.wages.pk, c.schooling.pk],
        },
        numbers=[case.number for case in cases],
    )


# Body and query fields that name a record, by the kind of record.
REFERENCES = {
    "unit": "unit",
    "units": "unit",
    "co_units": "unit",
    "accused_unit": "unit",
    "other_accused_units": "unit",
    "place": "place",
    "category": "category",
    "case_id": "case_id",
    "order_id": "order_id",
}
NUMBERS = {"repeat_of", "prior"}  # a matter's number
FUTURE_DATES = {"deadline"}
# Checked beyond any pattern (a check digit, the numbering plan): a valid one of each.
VALID = {
    "petitioner_id_number": VALID_ID,
    "id_number": VALID_ID,
    "petitioner_phone": VALID_PHONE,
    "phone": VALID_PHONE,
}
CURSOR_MICROS = 32_503_680_000 * 1_000_000  # a cursor's time is before the year 3000


def _real(value, pool: list[int]):
    if isinstance(value, str) and value.isascii() and value.isdigit():  # a path or query value
        return str(_real(int(value), pool))
    if isinstance(value, float) and value.is_integer():  # JSON's 80.0 is the integer 80
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
        return pool[value % len(pool)]
    if isinstance(value, list):
        return [_real(v, pool) for v in value]
    return value


def _ground(values: dict | None, world: World, positive: bool) -> None:
    """Swap schema-valid values that must name something real for real ones, in place."""
    if not isinstance(values, dict):
        return
    for key, value in list(values.items()):
        if key == "representatives" and isinstance(value, list):
            for rep in value:
                _ground(rep, world, positive)
        elif key in VALID and positive and isinstance(value, str) and value.strip():
            values[key] = VALID[key]
        elif key == "after" and isinstance(value, str) and "_" in value:
            micros, _, pk = value.partition("_")
            if micros.isdigit() and pk.isdigit():
                values[key] = f"{int(micros) % CURSOR_MICROS}_{int(pk) % MAX_ID + 1}"
        elif key == "registered_at" and positive and isinstance(value, str):
            values[key] = _past(value)
        elif key in REFERENCES:
            values[key] = _real(value, world.ids[REFERENCES[key]])
        elif key in NUMBERS and positive and isinstance(value, str) and value.strip():
            values[key] = world.numbers[len(value) % len(world.numbers)]
        elif key in FUTURE_DATES and isinstance(value, str) and len(value) == 10:
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                continue
            future = timezone.localdate() + dt.timedelta(days=10 + day.toordinal() % 300)
            values[key] = future.isoformat()


def _past(value: str) -> str:
    """A registration time no later than now (a later one is refused: “不能晚于当前时间”)."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment)
    return min(moment, timezone.now() - dt.timedelta(days=1)).isoformat()


def _period(query: dict | None) -> None:
    """A statistics period the rates accept: start before end, three years at most, and an
    open end (this quarter's) after the start."""
    if not isinstance(query, dict):
        return
    try:
        days = [dt.date.fromisoformat(query[k]) for k in ("date_from", "date_to") if k in query]
    except (TypeError, ValueError):
        return
    if not days:
        return
    end = max(days)
    start = max(min(days), end - dt.timedelta(days=365))
    if "date_to" not in query:  # ends with this quarter
        today = timezone.localdate()
        start = min(max(start, today - dt.timedelta(days=365)), today - dt.timedelta(days=1))
    query["date_from"] = start.isoformat()
    if "date_to" in query:
        query["date_to"] = end.isoformat()


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if STATS:
        print(  # the figures for the report: operations, requests, checks
            f"\nschemathesis: {len(STATS) - 2} operations, {STATS['requests']} requests, "
            f"{STATS['checks']} checks run"
        )


@pytest.mark.slow
@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_the_schema_says_what_the_server_accepts(case, world):
    positive = case.meta is None or case.meta.generation.mode.is_positive
    _ground(case.path_parameters, world, positive)
    _ground(case.query, world, positive)
    _ground(case.body, world, positive)
    if positive and case.operation.path == "/api/rates":
        _period(case.query)
    token = world.tokens[_persona(case.operation.path)]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
    STATS[case.operation.label] += 1
    STATS["requests"] += 1
    STATS["checks"] += len(CHECKS.get_all())
