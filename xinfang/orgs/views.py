"""The staff login page: Django's LoginView with the throttled form; a lock answers 429."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

from xinfang.orgs.forms import LoginForm


class LoginView(auth_views.LoginView):
    template_name = "login.html"
    authentication_form = LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.lock is not None:
            response.status_code = 429
        return response
