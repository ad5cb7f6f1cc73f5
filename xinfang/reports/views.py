"""The rates pages: the table and the matters behind each figure, each with JSON and .xlsx twins
from the same selector."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from xinfang.cases.models import State
from xinfang.exports import services as exports
from xinfang.exports.kinds import ExportError
from xinfang.orgs.http import AuthedRequest
from xinfang.reports import xlsx
from xinfang.reports.forms import DrillForm, RatesForm
from xinfang.reports.rates import BY_NAME, COMPOSITE_LABEL, RATES, composite_definition
from xinfang.reports.selectors import (
    GROUPINGS,
    drill_rows,
    rates_table,
    shown_title,
    table_json,
    unit_names,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 100


def _errors(form) -> dict[str, list[str]]:
    return {("from" if k == "from_" else k): [str(m) for m in v] for k, v in form.errors.items()}


def _query(period, by: str, **extra) -> str:
    return urlencode(
        {"by": by, "from": period.start.isoformat(), "to": period.end.isoformat(), **extra}
    )


def _without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _to_job(request: AuthedRequest) -> HttpResponse:
    """A large 统计指标明细 becomes an export job: its progress page, or the jobs with the reason."""
    try:
        job = exports.export_start(owner=request.user, kind="rate_matters", query=request.GET)
    except ExportError as exc:
        messages.error(request, str(exc))
        return redirect("exports:jobs")
    messages.info(request, exports.handed_over_notice())
    return redirect("exports:detail", pk=job.pk)


@login_required
def rates(request: AuthedRequest) -> HttpResponse:
    form = RatesForm(request.GET)
    fmt = request.GET.get("format", "")
    if not form.is_valid():
        if fmt == "json":
            return JsonResponse(
                {"detail": "统计条件不正确", "errors": _errors(form)},
                status=400,
                json_dumps_params={"ensure_ascii": False},
            )
        return render(request, "reports/rates.html", {"form": form, "table": None}, status=400)
    table = rates_table(request.user, form.cleaned_data["period"], form.cleaned_data["by"])
    if fmt == "json":
        return JsonResponse(table_json(table), json_dumps_params={"ensure_ascii": False})
    if fmt == "xlsx":
        header = [GROUPINGS[table.by][0]]
        for rate in RATES:
            header += [f"{rate.label} 分子", f"{rate.label} 分母", f"{rate.label} %"]
        header.append(f"{COMPOSITE_LABEL}")

        def line(row):
            out = [row.label]
            for rate in RATES:
                f = row.figures[rate.name]
                out += [f.numerator, f.denominator, f.pct]
            return [*out, row.composite]

        response = HttpResponse(content_type=XLSX)
        name = f"rates-{table.period.start}-{table.period.end}.xlsx"
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
        title = f"统计与考核指标 {table.period.start}至{table.period.end}"
        xlsx.write(response, title, header, [*(line(r) for r in table.rows), line(table.total)])
        return response
    cells = []
    for row in [*table.rows, table.total]:
        items = []
        for rate in RATES:
            f = row.figures[rate.name]
            base = (
                reverse("reports:rate_matters")
                + "?"
                + _query(table.period, table.by, rate=rate.name, group=row.key)
            )
            items.append((f, base + "&part=numerator", base + "&part=denominator"))
        cells.append((row, items))
    return render(
        request,
        "reports/rates.html",
        {
            "form": form,
            "table": table,
            "cells": cells,
            "rates": RATES,
            "group_label": GROUPINGS[table.by][0],
            "composite_label": COMPOSITE_LABEL,
            "composite_definition": composite_definition(table.config),
            "query": _query(table.period, table.by),
        },
    )


@login_required
def rate_matters(request: AuthedRequest) -> HttpResponse:
    form = DrillForm(request.GET)
    fmt = request.GET.get("format", "")
    if not form.is_valid():
        if fmt == "json":
            return JsonResponse(
                {"detail": "查询条件不正确", "errors": _errors(form)},
                status=400,
                json_dumps_params={"ensure_ascii": False},
            )
        return render(
            request, "reports/rate_matters.html", {"form": form, "page": None}, status=400
        )
    data = form.cleaned_data
    rate = BY_NAME[data["rate"]]
    qs = drill_rows(request.user, rate, data["part"], data["period"], data["by"], data["group"])
    part_label = "分子" if data["part"] == "numerator" else "分母"
    states = dict(State.choices)

    def lines(rows):
        names = unit_names(r._unit for r in rows)
        for r in rows:
            c = r.case
            yield {
                "id": c.pk,
                "number": c.number,
                "title": shown_title(r),
                "visible": r._visible,
                "unit": names.get(r._unit, ""),
                "lead_unit": c.lead_unit.name if c.lead_unit else "",
                "state": c.state,
                "state_label": states.get(c.state, c.state),
                "at": r._at,
            }

    if fmt == "xlsx" and exports.is_large(qs):
        return _to_job(request)  # streamed by the worker
    if fmt in {"json", "xlsx"}:
        rows = list(qs[:100_000])
        items = list(lines(rows))
        if fmt == "json":
            for item in items:
                item["at"] = timezone.localtime(item["at"]).isoformat()
            return JsonResponse(
                {
                    "rate": rate.name,
                    "label": rate.label,
                    "part": data["part"],
                    "count": len(items),
                    "matters": items,
                },
                json_dumps_params={"ensure_ascii": False},
            )
        response = HttpResponse(content_type=XLSX)
        response["Content-Disposition"] = (
            f"attachment; filename*=UTF-8''{rate.name}-{data['part']}.xlsx"
        )
        xlsx.write(
            response,
            f"{rate.label}（{part_label}）",
            ["事项编号", "标题", "计入单位", "主办单位", "状态", "时间"],
            (
                [
                    i["number"],
                    i["title"],
                    i["unit"],
                    i["lead_unit"],
                    i["state_label"],
                    timezone.localtime(i["at"]).strftime("%Y-%m-%d %H:%M"),
                ]
                for i in items
            ),
        )
        return response
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/rate_matters.html",
        {
            "form": form,
            "rate": rate,
            "part_label": part_label,
            "page": page,
            "items": list(lines(page)),
            "group": data["group"],
            "back": reverse("reports:rates") + "?" + _query(data["period"], data["by"]),
            "query": _without(request, "page", "format"),
        },
    )
