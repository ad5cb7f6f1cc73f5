"""Two officers acting on the same matter at once: one succeeds, the other is told it changed.

No event is lost and none is doubled.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection, connections

from tests.factories import bj, make_county, make_personas, register
from xinfang.cases import services
from xinfang.cases.models import Case, CaseEvent, Outcome, State
from xinfang.cases.services import ConcurrentChange
from xinfang.cases.workflow import TransitionNotAllowed


def _routed(county) -> Case:
    case = register(county, None, bj(2026, 9, 1, 9))
    return services.case_route(case=case, by=None, unit=county.hr, at=bj(2026, 9, 2, 9))


def _events(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", flat=True))


# ---------------------------------------------------------------- stale versions


def test_second_officer_with_a_stale_page_is_told_the_matter_changed(county, people):
    case = _routed(county)
    mine = Case.objects.get(pk=case.pk)
    theirs = Case.objects.get(pk=case.pk)
    assert mine.version == theirs.version

    services.case_accept(
        case=mine, by=people.officer, at=bj(2026, 9, 3, 9), expected_version=mine.version
    )
    before = _events(case)
    row = Case.objects.get(pk=case.pk)
    with pytest.raises(ConcurrentChange) as exc:
        services.case_object(
            case=theirs,
            by=people.head,
            reason="非本单位",
            at=bj(2026, 9, 3, 10),
            expected_version=theirs.version,
        )
    assert "已被他人修改" in str(exc.value) and "刷新" in str(exc.value)
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.state, fresh.version, fresh.lead_unit_id) == (
        State.ACCEPTED,
        row.version,
        county.hr.pk,
    )
    assert _events(case) == before == ["case.registered", "case.routed", "case.accepted"]


def test_the_same_action_twice_with_one_version(county, people):
    case = _routed(county)
    version = case.version
    services.case_accept(
        case=case, by=people.officer, at=bj(2026, 9, 3, 9), expected_version=version
    )
    with pytest.raises(ConcurrentChange):
        services.case_accept(
            case=case, by=people.head, at=bj(2026, 9, 3, 9), expected_version=version
        )
    # Without a version the state check still refuses a second acceptance.
    with pytest.raises(TransitionNotAllowed, match="办理中"):
        services.case_accept(case=case, by=people.head, at=bj(2026, 9, 3, 9))
    assert _events(case).count("case.accepted") == 1


def test_the_fresh_version_works_after_a_refresh(county, people):
    case = _routed(county)
    stale = case.version
    case = services.case_accept(
        case=case, by=people.officer, at=bj(2026, 9, 3, 9), expected_version=stale
    )
    assert case.version == stale + 1
    case = services.case_reply(
        case=case,
        by=people.officer,
        outcome=Outcome.EXPLAINED,
        text="解释",
        at=bj(2026, 9, 10, 9),
        expected_version=case.version,
    )
    assert case.state == State.REPLIED and case.version == stale + 2


def test_a_repeat_submission_bumps_the_version_so_stale_pages_are_refused(county, people):
    case = services.case_accept(case=_routed(county), by=people.officer, at=bj(2026, 9, 3, 9))
    seen = case.version
    services.case_register(
        services.Registration(
            office=county.office,
            channel="phone",
            kind="appeal",
            title="再次反映",
            content="还没解决",
            place=county.place,
            petitioner=services.Petitioner(name="张三", phone="13812345678"),
            repeat_of=case,
        ),
        by=people.clerk,
        at=bj(2026, 9, 5, 9),
    )
    with pytest.raises(ConcurrentChange):
        services.case_reply(
            case=case,
            by=people.officer,
            outcome=Outcome.SUPPORTED,
            text="支持",
            at=bj(2026, 9, 6, 9),
            expected_version=seen,
        )


# ---------------------------------------------------------------- real threads


def _race(case_id: int, users, *, with_version: bool) -> list[object]:
    """Both users load the matter, wait for each other, then accept it at the same moment."""
    barrier = threading.Barrier(len(users))
    results: list[object] = [None] * len(users)

    def officer(i: int, user) -> None:
        try:
            loaded = Case.objects.get(pk=case_id)
            barrier.wait(timeout=10)
            deadline = time.monotonic() + 10
            while True:
                try:
                    services.case_accept(
                        case=loaded,
                        by=user,
                        at=bj(2026, 9, 3, 9),
                        expected_version=loaded.version if with_version else None,
                    )
                    results[i] = "accepted"
                    return
                except OperationalError as exc:
                    # In-memory SQLite (shared cache) reports a lock at once instead of waiting
                    # out the busy timeout as a file database does; wait the same way here.
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
        except Exception as exc:  # reported to the main thread
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=officer, args=(i, u)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_version", [True, False], ids=["expected_version", "state_check"])
def test_two_threads_accept_at_once_exactly_one_wins(with_version):
    county = make_county()
    people = make_personas(county)
    case = _routed(county)
    results = _race(case.pk, [people.officer, people.head], with_version=with_version)

    assert results.count("accepted") == 1, results
    (loser,) = [r for r in results if r != "accepted"]
    assert isinstance(loser, ConcurrentChange | TransitionNotAllowed), loser
    if with_version:
        assert isinstance(loser, ConcurrentChange)
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.state == State.ACCEPTED and fresh.version == case.version + 1
    assert _events(case) == ["case.registered", "case.routed", "case.accepted"]
    assert connection.vendor in {"sqlite", "postgresql"}
