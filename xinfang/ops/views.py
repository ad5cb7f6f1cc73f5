"""个人信息查看记录 for administrators: a page (filtered, paginated) and its .xlsx twin."""

from __future__ import annotations

import io
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from xinfang.ops import audit
from xinfang.orgs.http import AuthedRequest
from xinfang.reports import xlsx

PER_PAGE = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_GET
def audit_log(request: AuthedRequest) -> HttpResponse:
    if not audit.is_auditor(request.user):
        raise PermissionDenied("只有系统管理员可以查看个人信息查看记录")
    f, form = audit.filter_from(request.GET)
    rows = audit.audit_rows(f)
    if request.GET.get("format") == "xlsx":
        values = [audit.row_values(v) for v in rows.iterator(chunk_size=2000)]
        audit.audit_access_record(user=request.user, f=f, fmt="xlsx", rows=len(values))
        out = io.BytesIO()
        xlsx.write(out, "个人信息查看记录", audit.HEADER, values)
        response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.xlsx"'
        return response
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    audit.audit_access_record(user=request.user, f=f, fmt="html", rows=len(page.object_list))
    query = urlencode({k: v for k, v in f.as_dict().items() if v})
    return render(
        request,
        "ops/audit.html",
        {
            "form": form,
            "page": page,
            "rows": [
                (*audit.row_values(v), v.case_id if f.kind == "case" else None)
                for v in page.object_list
            ],
            "header": audit.HEADER,
            "query": query,
            "retention_days": audit.retention_days(),
        },
    )
