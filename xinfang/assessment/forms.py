"""The queries of the assessment pages: the period (as on the rates pages), the scheme, the unit."""

from __future__ import annotations

from django import forms

from xinfang.assessment.models import Scheme
from xinfang.lib.formfields import IdChoiceField
from xinfang.reports.forms import RatesForm


class ComputeForm(RatesForm):
    scheme = IdChoiceField(
        label="考核方案",
        queryset=Scheme.objects.order_by("-active", "-pk"),
        required=False,
        error_messages={
            "invalid_choice": "没有这个考核方案",
            "invalid_pk_value": "没有这个考核方案",
        },
    )

    def clean_scheme(self):
        from xinfang.assessment.selectors import active_scheme

        scheme = self.cleaned_data.get("scheme") or active_scheme()
        if scheme is None:
            raise forms.ValidationError("还没有考核方案，请先在系统管理中建立")
        return scheme


def _small_id(value: str, message: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 12):
        raise forms.ValidationError(message)
    return int(value)


class RecordForm(RatesForm):
    """责任追究台账: a unit and a period, or the unit and period of one assessment."""

    unit = forms.CharField(label="单位", required=False, max_length=20)
    assessment = forms.CharField(label="考核结果", required=False, max_length=20)

    def clean_unit(self):
        return _small_id(self.cleaned_data.get("unit"), "单位不正确")

    def clean_assessment(self):
        return _small_id(self.cleaned_data.get("assessment"), "考核结果编号不正确")
