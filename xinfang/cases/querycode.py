"""查询码: the code a citizen follows a matter with, and how it is kept.

Ten symbols of a 32-letter alphabet (no 0/O, 1/I: read aloud on the phone) are 50 random bits:
a look-up limited per address (xinfang/portal) never comes near guessing one. So the code is
kept as a keyed HMAC, like an API token, not as a password: HMAC-SHA256 under a key derived
from SECRET_KEY and bound to the matter's id, checked in microseconds. A password hash
(PBKDF2, a million rounds) cost a second of CPU per look-up, which queued 50 citizens for a
minute and let anyone burn the server's CPU with wrong codes. Whoever holds the database
without SECRET_KEY learns nothing from the stored value.

Codes stored before as password hashes still check (Django's hashers) and are rewritten in
the new form on their first good look-up; SECRET_KEY_FALLBACKS keep codes across a key
rotation the same way.
"""

from __future__ import annotations

import hmac
import secrets

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.utils.crypto import salted_hmac

from xinfang.cases.models import Case

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 10
PREFIX = "hmac_sha256$"
_SALT = "xinfang.cases.querycode"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normal(code: str) -> str:
    """As the citizen may type it: spaces around, lower case."""
    return (code or "").strip().upper()


def digest(case: Case, code: str, secret: str | None = None) -> str:
    """The stored form of `code` for `case` (under SECRET_KEY, or `secret`)."""
    mac = salted_hmac(
        _SALT, f"{case.pk}:{normal(code)}", secret=secret, algorithm="sha256"
    ).hexdigest()
    return PREFIX + mac


def issue(case: Case) -> str:
    """A new code for `case`; only its digest is stored. The code is shown once."""
    code = new_code()
    case.query_code_hash = digest(case, code)
    Case.objects.filter(pk=case.pk).update(query_code_hash=case.query_code_hash)
    return code


def check(case: Case, code: str) -> bool:
    """Whether `code` is the matter's code; an old form that matches is rewritten."""
    stored = case.query_code_hash or ""
    if not stored or not normal(code):
        return False
    if stored.startswith(PREFIX):
        if hmac.compare_digest(stored, digest(case, code)):
            return True
        fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", [])
        matched = any(hmac.compare_digest(stored, digest(case, code, key)) for key in fallbacks)
    else:
        matched = check_password(normal(code), stored)  # issued before as a password hash
    if matched:
        case.query_code_hash = digest(case, code)
        Case.objects.filter(pk=case.pk).update(query_code_hash=case.query_code_hash)
    return matched


def check_nothing(code: str) -> None:
    """The same work as `check`, for a number that does not exist or has no code: the answer's
    timing says nothing about which."""
    mac = salted_hmac(_SALT, f"0:{normal(code)}", algorithm="sha256").hexdigest()
    hmac.compare_digest(PREFIX + mac, PREFIX)
