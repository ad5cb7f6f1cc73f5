"""统计看板 pages: the dashboard, each panel's JSON and .xlsx twins, and the matters behind a figure.

Thin: parse the filters, call `reports.dashboard`, render its rows.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from xinfang.cases.models import State
from xinfang.orgs.http import AuthedRequest
from xinfang.reports import dashboard as dash
from xinfang.reports import panels as dash_panels
from xinfang.reports import xlsx
from xinfang.reports.forms import MAX_DAYS
from xinfang.reports.selectors import Period

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 100
EXPORT_MAX = 100_000
JSON_OPTS = {"ensure_ascii": False}


class DashboardForm(forms.Form):
    from_ = forms.DateField(
        label="起始日期",
        required=False,
        error_messages={"invalid": "请输入正确的日期，如 2026-01-01"},
    )
    to = forms.DateField(
        label="截止日期",
        required=False,
        error_messages={"invalid": "请输入正确的日期，如 2026-12-31"},
    )
    unit = forms.CharField(label="单位", required=False, max_length=20)
    panel = forms.CharField(required=False, max_length=20)
    format = forms.CharField(required=False, max_length=10)

    def __init__(self, user, data=None, *args, **kwargs):
        if data is not None and "from" in data:
            data = data.copy()
            data["from_"] = data.get("from")
        self.user = user
        super().__init__(data, *args, **kwargs)

    def clean_unit(self):
        value = (self.cleaned_data.get("unit") or "").strip()
        if not value:
            return None
        if not (value.isascii() and value.isdigit()) or len(value) > 12:
            raise forms.ValidationError("单位不正确")
        found = dash.scoped_units(self.user).filter(pk=int(value)).first()
        if found is None:
            raise forms.ValidationError("没有这个单位，或不在您的统计范围内")
        return found

    def clean_panel(self):
        value = (self.cleaned_data.get("panel") or "").strip()
        if value and value not in dash_panels.PANELS:
            raise forms.ValidationError("没有这个看板栏目")
        return value

    def clean_format(self):
        value = (self.cleaned_data.get("format") or "").strip()
        if value not in {"", "json", "xlsx"}:
            raise forms.ValidationError("format 只能是 json 或 xlsx")
        return value

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        default = dash.last_12_months()
        start, end = data.get("from_") or default.start, data.get("to") or default.end
        for day in (start, end):
            if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
                raise forms.ValidationError("日期应在 2000 年至 2100 年之间")
        if end < start:
            raise forms.ValidationError("截止日期不能早于起始日期")
        if (end - start).days > MAX_DAYS:
            raise forms.ValidationError("统计期最长三年")
        data["filters"] = dash.Filters(Period(start, end), data.get("unit"))
        return data


class DrillForm(DashboardForm):
    key = forms.CharField(required=False, max_length=40)
    series = forms.CharField(required=False, max_length=20)

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("panel") not in dash_panels.DRILLABLE:
            raise forms.ValidationError("请指定要查看的看板栏目")
        return data


def _errors(form) -> dict[str, list[str]]:
    return {("from" if k == "from_" else k): [str(m) for m in v] for k, v in form.errors.items()}


def _bad(request: HttpRequest, form, template: str, context: dict) -> HttpResponse:
    if request.GET.get("format") == "json":
        return JsonResponse(
            {"detail": "统计条件不正确", "errors": _errors(form)},
            status=400,
            json_dumps_params=JSON_OPTS,
        )
    return render(request, template, {"form": form, **context}, status=400)


def _xlsx(name: str, title: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}.xlsx"
    xlsx.write(response, title, header, rows)
    return response


def _panel_xlsx(p: dash.Panel, filters: dash.Filters) -> HttpResponse:
    period = filters.period
    title = f"{p.title} {period.start}至{period.end}" + (
        f" {filters.unit.name}" if filters.unit else ""
    )
    header = [p.group_label, *(label for _n, label in p.series)]
    rows = ([r.label, *(r.values[n] for n, _l in p.series)] for r in p.rows)
    return _xlsx(f"dashboard-{p.name}-{period.start}-{period.end}", title, header, rows)


def _card(p: dash.Panel, filters: dash.Filters) -> dict:
    """One panel for the page: the chart's data (the same rows as the JSON twin) and its table."""
    rows = [(r.label, [(r.values[n], r.links.get(n)) for n, _l in p.series]) for r in p.rows]
    return {"panel": p, "data": p.as_dict(filters), "id": f"chart-{p.name}", "rows": rows}


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    form = DashboardForm(request.user, request.GET)
    units = dash.scoped_units(request.user).only("pk", "name", "path").order_by("path")
    if not form.is_valid():
        return _bad(request, form, "reports/dashboard.html", {"panels": [], "units": units})
    data = form.cleaned_data
    filters, fmt, name = data["filters"], data["format"], data["panel"]
    if name:
        p = dash_panels.panel(request.user, name, filters)
        if fmt == "xlsx":
            return _panel_xlsx(p, filters)
        return JsonResponse(p.as_dict(filters), json_dumps_params=JSON_OPTS)
    panels = dash_panels.dashboard(request.user, filters)
    if fmt == "json":
        return JsonResponse(
            {
                "from": filters.period.start.isoformat(),
                "to": filters.period.end.isoformat(),
                "panels": [p.as_dict(filters) for p in panels],
            },
            json_dumps_params=JSON_OPTS,
        )
    if fmt == "xlsx":
        return JsonResponse(
            {"detail": "请指定要导出的看板栏目（panel）"}, status=400, json_dumps_params=JSON_OPTS
        )
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "filters": filters,
            "units": units,
            "query": filters.query(),
            "panels": [_card(p, filters) for p in panels],
            "counted_at": min((p.computed_at for p in panels if p.computed_at), default=None),
            "refresh_minutes": dash_panels.CACHE_SECONDS // 60,
        },
    )


def _figure(user, name: str, filters: dash.Filters, key: str, series: str) -> dict:
    """The figure clicked as the dashboard shows it: its name (e.g. "按来源渠道 · 来访 · 登记件数"),
    its value and when it was counted."""
    p = dash_panels.panel(user, name, filters)
    row = next((r for r in p.rows if r.key == key), None)
    labels = dict(p.series)
    series = series if series in labels else p.series[0][0]
    label = " · ".join(x for x in (p.title, row.label if row else key, labels[series]) if x)
    return {
        "label": label,
        "value": row.values.get(series) if row else None,
        "counted_at": p.computed_at,
    }


@login_required
def dashboard_matters(request: AuthedRequest) -> HttpResponse:
    """The matters behind one figure of the dashboard, with JSON and .xlsx twins."""
    form = DrillForm(request.user, request.GET)
    if not form.is_valid():
        return _bad(request, form, "reports/dashboard_matters.html", {"page": None})
    data = form.cleaned_data
    filters, name = data["filters"], data["panel"]
    qs = dash_panels.panel_cases(
        request.user, name, filters, data.get("key") or "", data.get("series") or ""
    )
    if qs is None:
        form.add_error(None, "没有这个统计项")
        return _bad(request, form, "reports/dashboard_matters.html", {"page": None})
    qs = qs.select_related("lead_unit", "office").order_by("-registered_at", "-id")
    states = dict(State.choices)
    figure = _figure(request.user, name, filters, data.get("key") or "", data.get("series") or "")
    label = figure["label"]

    def lines(cases):
        for c in cases:
            unit = c.lead_unit or c.office
            yield {
                "id": c.pk,
                "number": c.number,
                "title": c.title,
                "unit": unit.name if unit else "",
                "state": c.state,
                "state_label": states.get(c.state, c.state),
                "registered_at": c.registered_at,
            }

    fmt = data["format"]
    if fmt in {"json", "xlsx"}:
        items = list(lines(qs[:EXPORT_MAX]))
        if fmt == "json":
            for item in items:
                item["registered_at"] = timezone.localtime(item["registered_at"]).isoformat()
            return JsonResponse(
                {
                    "panel": name,
                    "key": data.get("key"),
                    "series": data.get("series") or "",
                    "count": len(items),
                    "matters": items,
                },
                json_dumps_params=JSON_OPTS,
            )
        return _xlsx(
            f"dashboard-{name}-matters",
            label,
            ["事项编号", "标题", "主办单位", "状态", "登记时间"],
            (
                [
                    i["number"],
                    i["title"],
                    i["unit"],
                    i["state_label"],
                    timezone.localtime(i["registered_at"]).strftime("%Y-%m-%d %H:%M"),
                ]
                for i in items
            ),
        )
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "reports/dashboard_matters.html",
        {
            "form": form,
            "page": page,
            "items": list(lines(page)),
            "label": label,
            "figure": figure,
            "back": reverse("reports:dashboard") + "?" + filters.query(),
            "query": query.urlencode(),
        },
    )
