"""The staff login forms, with the login throttle (xinfang/orgs/throttle.py) in front."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from xinfang.orgs import throttle
from xinfang.orgs.http import client_address


class ThrottledLogin(forms.Form):
    """Refuses a locked account or address before any password is checked; counts failures.

    `lock` is the lock that refused this attempt (or that this failure caused), else None.
    """

    lock: throttle.Lock | None = None

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        lock = throttle.login_lock(username=username, address=address)
        if lock is not None:
            self._refuse(lock)
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username and self.cleaned_data.get("password"):
                caused = throttle.login_failed(username=username, address=address)
                if caused is not None:
                    self._refuse(caused)
            raise
        if self.get_user() is not None:
            throttle.login_succeeded(username=username)
        return cleaned

    def _refuse(self, lock: throttle.Lock) -> None:
        self.lock = lock
        raise forms.ValidationError(lock.message, code="locked")


class LoginForm(ThrottledLogin, AuthenticationForm):
    """工作人员登录 (/login/)."""


class AdminLoginForm(ThrottledLogin, AdminAuthenticationForm):
    """The admin's own login page (/admin/login/) counts against the same limits."""
