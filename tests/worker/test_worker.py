"""`xinfang worker` makes expired windows final and delivers what the outbox holds."""

import io

from django.core.management import call_command

from tests.factories import bj, register
from xinfang.cases import services
from xinfang.cases.models import State
from xinfang.notify.models import Outbox


def test_one_pass_finalizes_an_unused_review_window_and_sends_the_messages(
    county, people, settings
):
    case = register(county, people.clerk, bj(2026, 9, 1, 9))
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 2, 9))
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 9, 3, 9))
    case = services.case_reply(
        case=case, by=people.officer, outcome="supported", text="已解决", at=bj(2026, 9, 10, 9)
    )
    assert Outbox.objects.filter(case=case).exists()
    out = io.StringIO()
    call_command("worker", once=True, stdout=out)
    case.refresh_from_db()
    assert case.state == State.FINAL
    assert "期满终结 1 件" in out.getvalue()
    assert not Outbox.objects.filter(case=case, status="pending").exists()
