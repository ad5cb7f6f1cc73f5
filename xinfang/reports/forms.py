"""The query of the rates pages: period, grouping, and for a drill-down the figure clicked."""

from __future__ import annotations

import datetime as dt

from django import forms

from xinfang.cases.models import Channel
from xinfang.reports.rates import BY_NAME
from xinfang.reports.selectors import GROUPINGS, NONE_KEY, TOTAL, Period, current_quarter

MAX_DAYS = 3 * 366


class RatesForm(forms.Form):
    by = forms.ChoiceField(
        label="分组", required=False, choices=[(k, v[0]) for k, v in GROUPINGS.items()]
    )
    from_ = forms.DateField(
        label="起始日期",
        required=False,
        error_messages={"invalid": "请输入正确的日期，如 2026-01-01"},
    )
    to = forms.DateField(
        label="截止日期",
        required=False,
        error_messages={"invalid": "请输入正确的日期，如 2026-03-31"},
    )

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "from" in data:
            data = data.copy()
            data["from_"] = data.get("from")
        super().__init__(data, *args, **kwargs)

    def clean(self):
        data = super().clean()
        default = current_quarter()
        start = data.get("from_") or default.start
        end = data.get("to") or default.end
        for day in (start, end):
            if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
                raise forms.ValidationError("日期应在 2000 年至 2100 年之间")
        if end < start:
            raise forms.ValidationError("截止日期不能早于起始日期")
        if (end - start).days > MAX_DAYS:
            raise forms.ValidationError("统计期最长三年")
        data["period"] = Period(start, end)
        data["by"] = data.get("by") or "unit"
        return data


class DrillForm(RatesForm):
    rate = forms.ChoiceField(
        label="指标",
        choices=[(k, r.label) for k, r in BY_NAME.items()],
        error_messages={"invalid_choice": "没有这个指标", "required": "请指定指标"},
    )
    part = forms.ChoiceField(
        label="分子/分母",
        required=False,
        choices=[("numerator", "分子"), ("denominator", "分母")],
        error_messages={"invalid_choice": "part 只能是 numerator 或 denominator"},
    )
    group = forms.CharField(label="分组值", required=False, max_length=40)

    def clean(self):
        data = super().clean()
        data["part"] = data.get("part") or "denominator"
        group = (data.get("group") or TOTAL).strip()
        by = data.get("by") or "unit"
        ok = group in {TOTAL, NONE_KEY} or (
            group in Channel.values
            if by == "channel"
            else group.isascii() and group.isdigit() and len(group) <= 12
        )
        if not ok or (by == TOTAL and group != TOTAL):
            raise forms.ValidationError("分组值不正确")
        data["group"] = group
        return data
