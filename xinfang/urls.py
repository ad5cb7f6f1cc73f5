"""URL routes."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from xinfang.cases import urls as cases_urls
from xinfang.ledger import urls as ledger_urls
from xinfang.orgs import views as orgs_views

admin.site.site_header = "信访事项办理系统 · 管理"
admin.site.site_title = "信访系统管理"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cases:queue", permanent=False)),
    path("login/", orgs_views.LoginView.as_view(), name="login"),  # throttled (orgs/throttle.py)
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # the matters and the ledger's pages share the `cases` namespace (cases:import, cases:export)
    path("cases/", include((ledger_urls.urlpatterns + cases_urls.urlpatterns, "cases"))),
    path("portal/", include("xinfang.portal.urls")),
    path("notify/", include("xinfang.notify.urls")),
    path("backlog/", include("xinfang.backlog.urls")),
    path("reception/", include("xinfang.reception.urls")),
    path("routing/", include("xinfang.routing.urls")),
    path("answers/", include("xinfang.answers.urls")),
    path("supervision/", include("xinfang.supervision.urls")),
    path("reports/", include("xinfang.reports.urls")),
    path("exports/", include("xinfang.exports.urls")),
    path("assessment/", include("xinfang.assessment.urls")),
    path("ops/", include("xinfang.ops.urls")),  # 个人信息查看记录 (administrators)
    path("", include("xinfang.api.urls")),  # /api/... and /open311/v2/...
    path("admin/", admin.site.urls),
]
