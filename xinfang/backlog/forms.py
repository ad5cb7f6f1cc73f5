"""Forms of the backlog pages: they parse; the services decide."""

from __future__ import annotations

from django import forms

from xinfang.backlog.models import (
    AcceptanceKind,
    CoordinationMeeting,
    CycleStep,
    HardshipAid,
    HearingParticipant,
    LawyerMediation,
    RuleKind,
    ScreeningEntry,
    Status,
    TaskForceMember,
)
from xinfang.backlog.screening import CONVERT_CHANNELS
from xinfang.backlog.selectors import BUCKETS
from xinfang.cases.models import Channel
from xinfang.lib import bounds
from xinfang.lib.formfields import IdChoiceField, IdMultipleChoiceField
from xinfang.orgs.models import Place, Role, Unit, User

DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
FOLLOW_UP_ROWS = 3


def _units():
    return Unit.objects.order_by("path")


def _staff():
    # The choice labels name each user's unit: read the units in the same query.
    return (
        User.objects.filter(is_active=True)
        .exclude(role=Role.ADMIN)
        .select_related("unit")
        .order_by("unit__path", "username")
    )


def _leaders():
    return _staff().filter(role__in=[Role.HEAD, Role.SUPERVISOR])


def _user_label(obj: User) -> str:
    return f"{obj}（{obj.unit or '—'}）"


class UserChoice(IdChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return _user_label(obj)


class UsersChoice(IdMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return _user_label(obj)


class BoardFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("active", "未化解（含重新化解）"), *Status.choices, ("all", "全部")],
    )
    unit = IdChoiceField(label="责任单位", queryset=_units(), required=False)
    owner = bounds.ID.form_field(label="包案领导", required=False, widget=forms.HiddenInput)
    bucket = forms.ChoiceField(
        label="积案时长",
        required=False,
        choices=[("", "全部"), *[(k, label) for k, label, _d in BUCKETS]],
    )
    rule = forms.ChoiceField(
        label="认定规则", required=False, choices=[("", "全部"), *RuleKind.choices]
    )
    stuck = forms.BooleanField(label="长期未推进", required=False)
    page = bounds.PAGE.form_field(required=False, widget=forms.HiddenInput)


class FlagForm(forms.Form):
    case_number = forms.CharField(label="事项编号", max_length=40)
    reason = forms.CharField(
        label="认定理由", max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class OwnerForm(forms.Form):
    owner = UserChoice(label="包案领导", queryset=_leaders())


class MemberForm(forms.Form):
    user = UserChoice(label="人员", queryset=_staff())
    role = forms.ChoiceField(label="专班职务", choices=TaskForceMember.Role.choices)


class PlanForm(forms.Form):
    lead_unit = IdChoiceField(label="主责单位", queryset=_units())
    secondary_units = IdMultipleChoiceField(label="次责单位", queryset=_units(), required=False)
    supporting_units = IdMultipleChoiceField(label="配合单位", queryset=_units(), required=False)
    path = forms.CharField(label="化解路径", widget=forms.Textarea(attrs={"rows": 3}))
    funds_source = forms.CharField(label="资金来源", max_length=200, required=False)
    funds_amount = forms.DecimalField(
        label="资金数额（元）", max_digits=14, decimal_places=2, required=False, min_value=0
    )
    plan_date = forms.DateField(label="方案日期", widget=DATE)
    deadline_days = bounds.DAYS.form_field(
        label="期限（自然日，自方案日期起）",
        required=False,
        help_text="届满日遇节假日顺延至下一个工作日；与“具体日期”二选一",
    )
    due_on = forms.DateField(label="或具体期限日期", required=False, widget=DATE)


class ExecutedForm(forms.Form):
    on = forms.DateField(label="方案落实日期", widget=DATE)


class StepForm(forms.Form):
    step = forms.ChoiceField(label="环节", choices=CycleStep.Step.choices)
    held_on = forms.DateField(label="日期", widget=DATE)
    attendees = UsersChoice(label="参加人员", queryset=_staff(), required=False)
    external_attendees = forms.CharField(label="其他参加人员", max_length=300, required=False)
    notes = forms.CharField(
        label="情况记录", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    plan = bounds.VERSION.form_field(label="形成的方案版本（议、定）", required=False)
    score = forms.DecimalField(
        label="考核得分（考）", required=False, max_digits=5, decimal_places=1
    )
    grade = forms.ChoiceField(
        label="考核等次（考）", required=False, choices=[("", "—"), *CycleStep.Grade.choices]
    )
    comment = forms.CharField(
        label="考核意见（考）", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label="会议类型", choices=CoordinationMeeting.Kind.choices)
    held_on = forms.DateField(label="会议日期", widget=DATE)
    attendee_units = IdMultipleChoiceField(label="参会单位", queryset=_units())
    decisions = forms.CharField(label="议定事项", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, FOLLOW_UP_ROWS + 1):
            self.fields[f"action{i}_description"] = forms.CharField(
                label=f"落实事项{i}", max_length=300, required=False
            )
            self.fields[f"action{i}_owner"] = UserChoice(
                label="责任人", queryset=_staff(), required=False
            )
            self.fields[f"action{i}_unit"] = IdChoiceField(
                label="责任单位", queryset=_units(), required=False
            )
            self.fields[f"action{i}_due_days"] = bounds.DAYS.form_field(
                label="期限（工作日）", required=False
            )
            self.fields[f"action{i}_due_on"] = forms.DateField(
                label="或期限日期", required=False, widget=DATE
            )

    def clean(self):
        data = super().clean()
        for i in range(1, FOLLOW_UP_ROWS + 1):
            if data.get(f"action{i}_description") and not (
                data.get(f"action{i}_owner") and data.get(f"action{i}_unit")
            ):
                self.add_error(f"action{i}_owner", f"落实事项{i}须指定责任人和责任单位")
        return data


class AidForm(forms.Form):
    kind = forms.ChoiceField(label="救助类型", choices=HardshipAid.Kind.choices)
    amount = forms.DecimalField(label="金额（元）", max_digits=14, decimal_places=2)
    source = forms.CharField(label="资金来源", max_length=200)
    approved_by = forms.CharField(label="审批人", max_length=60)
    approved_on = forms.DateField(label="审批日期", widget=DATE)
    paid_on = forms.DateField(label="发放日期", required=False, widget=DATE)
    note = forms.CharField(label="说明", max_length=300, required=False)


class MediationForm(forms.Form):
    lawyer_name = forms.CharField(label="律师姓名", max_length=40)
    law_firm = forms.CharField(label="律师事务所", max_length=100)
    session_on = forms.DateField(label="首次调解日期", required=False, widget=DATE)
    session_notes = forms.CharField(
        label="调解情况", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    outcome = forms.ChoiceField(label="调解结果", choices=LawyerMediation.Outcome.choices)
    outcome_note = forms.CharField(
        label="结果说明", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SessionForm(forms.Form):
    mediation = bounds.ID.form_field(widget=forms.HiddenInput)
    held_on = forms.DateField(label="调解日期", widget=DATE)
    notes = forms.CharField(label="调解情况", widget=forms.Textarea(attrs={"rows": 2}))
    outcome = forms.ChoiceField(
        label="调解结果", required=False, choices=[("", "不变"), *LawyerMediation.Outcome.choices]
    )


class HearingForm(forms.Form):
    held_on = forms.DateField(label="听证日期", widget=DATE)
    place = forms.CharField(label="听证地点", max_length=120)
    minutes = forms.CharField(label="听证记录", widget=forms.Textarea(attrs={"rows": 3}))
    findings = forms.CharField(label="评议意见", widget=forms.Textarea(attrs={"rows": 2}))
    decision = forms.CharField(label="听证结论", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in HearingParticipant.Kind.choices:
            self.fields[f"p_{kind}"] = forms.CharField(
                label=f"{label}（多人以、分隔）", required=False, max_length=400
            )

    def participants(self) -> list[tuple[str, str]]:
        out = []
        for kind, _label in HearingParticipant.Kind.choices:
            for name in (
                self.cleaned_data.get(f"p_{kind}", "")
                .replace("，", "、")
                .replace(",", "、")
                .split("、")
            ):
                if name.strip():
                    out.append((kind, name.strip()))
        return out


class SummonsForm(forms.Form):
    unit = IdChoiceField(label="被约谈单位", queryset=_units())
    head_name = forms.CharField(label="被约谈负责人", max_length=40)
    held_on = forms.DateField(label="约谈日期", widget=DATE)
    reason = forms.CharField(label="约谈事由", widget=forms.Textarea(attrs={"rows": 2}))
    commitments = forms.CharField(
        label="整改承诺", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AcceptanceForm(forms.Form):
    on = forms.DateField(label="息诉罢访日期", widget=DATE)
    kind = forms.ChoiceField(label="佐证类型", choices=AcceptanceKind.choices)
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.FileField(label="佐证材料")


class RoundForm(forms.Form):
    name = forms.CharField(label="排查名称", max_length=100)
    period_start = forms.DateField(label="开始日期", widget=DATE)
    period_end = forms.DateField(label="结束日期", widget=DATE)


class EntryForm(forms.Form):
    issue = forms.CharField(label="矛盾纠纷问题", widget=forms.Textarea(attrs={"rows": 2}))
    place = IdChoiceField(label="属地", queryset=Place.objects.order_by("code"))
    location = forms.CharField(label="具体地点", max_length=200, required=False)
    units = IdMultipleChoiceField(label="涉及单位", queryset=_units(), required=False)
    responsible = UserChoice(label="责任领导", queryset=_leaders(), required=False)
    plan = forms.CharField(
        label="化解措施", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    deadline = forms.DateField(label="化解期限", required=False, widget=DATE)
    status = forms.ChoiceField(label="状态", choices=ScreeningEntry.EntryStatus.choices)
    households = bounds.HOUSEHOLDS.form_field(label="涉及户数", initial=0)


class ImportForm(forms.Form):
    file = forms.FileField(label="排查台帐（.xlsx）")


class ConvertForm(forms.Form):
    channel = forms.ChoiceField(
        label="来源渠道", choices=[(c.value, c.label) for c in Channel if c in CONVERT_CHANNELS]
    )
