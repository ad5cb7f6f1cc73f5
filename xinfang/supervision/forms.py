from __future__ import annotations

from django import forms


class IssueForm(forms.Form):
    unit = forms.TypedChoiceField(label="被督办单位", coerce=int, choices=())
    requirements = forms.CharField(
        label="督办要求", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    deadline = forms.DateField(
        label="反馈期限",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="遇休息日顺延至下一个工作日",
    )

    def __init__(self, *args, units=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, u.name) for u in units]


class FeedbackForm(forms.Form):
    feedback = forms.CharField(
        label="反馈情况", widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )


class CloseForm(forms.Form):
    decision = forms.ChoiceField(
        label="审核意见", choices=[("close", "办结"), ("redo", "退回重办")]
    )
    note = forms.CharField(label="意见", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    deadline = forms.DateField(
        label="重新反馈期限（退回重办时填写）",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class OpinionForm(forms.Form):
    text = forms.CharField(
        label="协办意见或结果", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
