"""查询码: a random code of 50 bits, stored as a keyed HMAC (HMAC-SHA256 with a key derived
from SECRET_KEY, bound to the matter), checked in microseconds. A password hash (PBKDF2 at a
million rounds) cost about a second of CPU per portal look-up: 50 citizens at once queued for
a minute, and anyone could burn the server's CPU with wrong codes. Codes issued before keep
working and are rewritten in the new form on their first good look-up."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password

from tests.factories import bj, register
from xinfang.cases import querycode, services
from xinfang.cases.models import Case

AT = bj(2026, 10, 8, 9)


def _stored(case: Case) -> str:
    return Case.objects.values_list("query_code_hash", flat=True).get(pk=case.pk)


def test_a_code_is_stored_as_a_keyed_hmac_and_checks(county, people):
    case = register(county, people.clerk, AT)
    code = services.case_issue_query_code(case=case)
    stored = _stored(case)
    assert stored.startswith("hmac_sha256$") and code not in stored
    assert services.case_check_query_code(case=case, code=code)
    assert services.case_check_query_code(case=case, code=f" {code.lower()} ")  # as typed
    wrong = code[:-1] + ("X" if code[-1] != "X" else "Y")  # one symbol off (a code may end in X)
    assert not services.case_check_query_code(case=case, code=wrong)
    assert not services.case_check_query_code(case=case, code="")


def test_the_same_code_on_another_matter_stores_another_hash(county, people):
    one, two = register(county, people.clerk, AT), register(county, people.clerk, AT)
    assert querycode.digest(one, "ABCDEFGHJK") != querycode.digest(two, "ABCDEFGHJK")


def test_a_code_issued_as_a_password_hash_still_works_and_is_rewritten(county, people):
    case = register(county, people.clerk, AT)
    Case.objects.filter(pk=case.pk).update(query_code_hash=make_password("ABCDEFGHJK"))
    case.refresh_from_db()
    assert not services.case_check_query_code(case=case, code="ABCDEFGHJ2")
    assert not _stored(case).startswith("hmac_sha256$")  # a wrong code rewrites nothing
    assert services.case_check_query_code(case=case, code="ABCDEFGHJK")
    assert _stored(case).startswith("hmac_sha256$")
    assert services.case_check_query_code(case=case, code="ABCDEFGHJK")


def test_a_rotated_secret_key_keeps_the_codes_through_its_fallbacks(county, people, settings):
    case = register(county, people.clerk, AT)
    code = services.case_issue_query_code(case=case)
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50
    assert not services.case_check_query_code(case=case, code=code)
    settings.SECRET_KEY_FALLBACKS = [old]
    assert services.case_check_query_code(case=case, code=code)
    settings.SECRET_KEY_FALLBACKS = []
    assert services.case_check_query_code(case=case, code=code)  # rewritten with the new key
