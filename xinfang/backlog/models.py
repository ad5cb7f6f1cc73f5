"""积案化解 (backlog resolution) and 矛盾纠纷排查 (the dispute-screening ledger).

Scope rule: everything here is about matters and issues, never about people. A backlog case is
a matter that stays unresolved; a screening entry is an issue. No petitioner is listed, flagged
or scored. The petitioner's acceptance (息诉罢访) is the outcome of the matter, kept with its
evidence (a signed statement, a reply record).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xinfang.cases.events import label as event_label
from xinfang.cases.models import Case
from xinfang.orgs.models import Place, Unit

USER = settings.AUTH_USER_MODEL


class RuleKind(models.TextChoices):
    OPEN_DAYS = "open_days", "久拖未结（登记后超过N天未答复）"
    REVIEWED = "reviewed", "经复查、复核"
    REPEAT = "repeat", "重复信访（达到K次）"
    MANUAL = "manual", "督查标记"


class BacklogRule(models.Model):
    """One rule that turns a matter into a backlog case (积案认定规则), editable by admins."""

    kind = models.CharField("规则", max_length=12, choices=RuleKind.choices, unique=True)
    threshold = models.PositiveIntegerField(
        "阈值", default=0, help_text="久拖未结：天数；重复信访：次数；其他规则不用"
    )
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "积案认定规则"
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.threshold or ''}".strip()


class Status(models.TextChoices):
    OPEN = "open", "化解中"
    CLOSED = "closed", "已化解"
    REOPENED = "reopened", "重新化解"


ACTIVE_STATUSES = (Status.OPEN, Status.REOPENED)


class AcceptanceKind(models.TextChoices):
    SIGNED_STATEMENT = "signed_statement", "息诉罢访承诺书（签字）"
    REPLY_RECORD = "reply_record", "答复回执 / 送达记录"
    OTHER = "other", "其他书面材料"


class BacklogCase(models.Model):
    """A backlog case (积案): one matter, its owning leader (包案领导) and its resolution.

    `unit`, `office` and `registered_at` are copies of the matter's kept for the board, and
    `active` mirrors the status (open or reopened), so the board reads backlog rows only, walks
    the (active, registered_at) index, and never scans the matters.
    """

    case = models.OneToOneField(
        Case, verbose_name="信访事项", on_delete=models.CASCADE, related_name="backlog"
    )
    unit = models.ForeignKey(
        Unit, verbose_name="责任单位", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    office = models.ForeignKey(
        Unit, verbose_name="登记机构", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    registered_at = models.DateTimeField("事项登记时间")
    flag_rule = models.CharField("认定规则", max_length=12, choices=RuleKind.choices)
    flag_reason = models.CharField("认定理由", max_length=300, blank=True)
    flagged_at = models.DateTimeField("认定时间")
    flagged_by = models.ForeignKey(
        USER,
        verbose_name="认定人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    owner = models.ForeignKey(
        USER,
        verbose_name="包案领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_backlog",
        db_index=False,
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    active = models.BooleanField("在办", default=True)
    closed_at = models.DateTimeField("化解时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        USER,
        verbose_name="销号人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    reopened_at = models.DateTimeField("重新化解时间", null=True, blank=True)
    reopen_count = models.PositiveIntegerField("反弹次数", default=0)
    last_activity_at = models.DateTimeField("最近推进时间")

    # 息诉罢访: the outcome of the matter, with its evidence.
    acceptance_on = models.DateField("息诉罢访日期", null=True, blank=True)
    acceptance_kind = models.CharField(
        "佐证类型", max_length=20, choices=AcceptanceKind.choices, blank=True
    )
    acceptance_note = models.TextField("息诉罢访说明", blank=True)
    acceptance_evidence = models.FileField(
        "佐证材料", upload_to="backlog/acceptance/%Y/%m/", blank=True
    )

    task_force = models.ManyToManyField(
        USER, through="TaskForceMember", related_name="backlog_task_forces", verbose_name="工作专班"
    )

    class Meta:
        verbose_name = verbose_name_plural = "信访积案"
        indexes = [
            # Covering indexes of the board: the page walks the first in age order; the counts
            # read the second grouped by unit and owner. Both carry the scope columns.
            models.Index(
                fields=["active", "registered_at", "id", "unit", "office", "owner"],
                name="backlog_active_age",
            ),
            models.Index(
                fields=["active", "unit", "owner", "registered_at", "office"],
                name="backlog_active_unit_owner",
            ),
            models.Index(fields=["owner", "active"], name="backlog_owner_active"),
            models.Index(fields=["-flagged_at", "-id"], name="backlog_flagged"),
        ]

    def __str__(self) -> str:
        return f"积案 {self.case_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class BacklogUnit(models.Model):
    """A unit that takes part in the matter (登记机构、主办、协办、复查、复核): the access scope."""

    backlog = models.ForeignKey(
        BacklogCase, on_delete=models.CASCADE, related_name="units", db_index=False
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["backlog", "unit"], name="backlog_unit_unique")
        ]
        indexes = [models.Index(fields=["unit", "backlog"], name="backlog_unit_scope")]

    def __str__(self) -> str:
        return f"{self.backlog_id}:{self.unit_id}"


class TaskForceMember(models.Model):
    """A member of the task force (工作专班) of one backlog case."""

    class Role(models.TextChoices):
        LEADER = "leader", "专班组长"
        MEMBER = "member", "专班成员"

    backlog = models.ForeignKey(BacklogCase, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(USER, verbose_name="人员", on_delete=models.PROTECT, related_name="+")
    role = models.CharField("专班职务", max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = verbose_name_plural = "专班成员"
        constraints = [models.UniqueConstraint(fields=["backlog", "user"], name="taskforce_unique")]
        indexes = [models.Index(fields=["user", "backlog"], name="taskforce_user")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.user}"


class BacklogEvent(models.Model):
    """The backlog case's own timeline (认定、包案、方案、会议、销号、反弹…). Append-only."""

    backlog = models.ForeignKey(BacklogCase, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("事件", max_length=40)
    at = models.DateTimeField("时间")
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d}"

    @property
    def label(self) -> str:
        return event_label(self.kind)  # the one event vocabulary: cases.events.EVENTS


class ResolutionPlan(models.Model):
    """One version of the resolution plan (化解方案). Every edit is a new version; the latest rules."""

    backlog = models.ForeignKey(BacklogCase, on_delete=models.CASCADE, related_name="plans")
    version = models.PositiveIntegerField("版本")
    lead_unit = models.ForeignKey(
        Unit, verbose_name="主责单位", on_delete=models.PROTECT, related_name="+"
    )
    secondary_units = models.ManyToManyField(
        Unit, verbose_name="次责单位", blank=True, related_name="+"
    )
    supporting_units = models.ManyToManyField(
        Unit, verbose_name="配合单位", blank=True, related_name="+"
    )
    path = models.TextField("化解路径")
    funds_source = models.CharField("资金来源", max_length=200, blank=True)
    funds_amount = models.DecimalField("资金数额（元）", max_digits=14, decimal_places=2, default=0)
    plan_date = models.DateField("方案日期")
    deadline_days = models.PositiveIntegerField("期限（自然日）", null=True, blank=True)
    due_on = models.DateField("化解期限")
    due_at = models.DateTimeField("期限届满时刻")
    # An explicit date on a rest day moves to the next working day; this says so.
    due_note = models.CharField("期限说明", max_length=80, blank=True)
    executed_on = models.DateField("方案落实日期", null=True, blank=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField("编制时间")

    class Meta:
        verbose_name = verbose_name_plural = "化解方案"
        ordering = ["backlog", "version"]
        constraints = [
            models.UniqueConstraint(fields=["backlog", "version"], name="plan_version_unique")
        ]

    def __str__(self) -> str:
        return f"方案第{self.version}版"


class CycleStep(models.Model):
    """One dated step of the five-step cycle (听、议、明、定、考)."""

    class Step(models.TextChoices):
        HEAR = "hear", "听（听取进展）"
        DELIBERATE = "deliberate", "议（研究完善方案）"
        DESIGNATE = "designate", "明（明确责任单位）"
        DECIDE = "decide", "定（确定路径、资金、时限）"
        ASSESS = "assess", "考（考核评估）"

    class Grade(models.TextChoices):
        EXCELLENT = "excellent", "优秀"
        GOOD = "good", "良好"
        FAIR = "fair", "一般"
        POOR = "poor", "较差"

    backlog = models.ForeignKey(BacklogCase, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField("环节", max_length=12, choices=Step.choices)
    held_on = models.DateField("日期")
    attendees = models.ManyToManyField(USER, verbose_name="参加人员", blank=True, related_name="+")
    external_attendees = models.CharField("其他参加人员", max_length=300, blank=True)
    notes = models.TextField("情况记录", blank=True)
    plan = models.ForeignKey(
        ResolutionPlan,
        verbose_name="形成的方案版本",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="steps",
    )
    score = models.DecimalField("考核得分", max_digits=5, decimal_places=1, null=True, blank=True)
    grade = models.CharField("考核等次", max_length=10, choices=Grade.choices, blank=True)
    comment = models.TextField("考核意见", blank=True)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = verbose_name_plural = "五步工作法记录"
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_step_display()} {self.held_on}"


class CoordinationMeeting(models.Model):
    """A joint coordination or progress meeting (协调会、推进会)."""

    class Kind(models.TextChoices):
        COORDINATION = "coordination", "协调会"
        PROGRESS = "progress", "推进会"

    backlog = models.ForeignKey(BacklogCase, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField("会议类型", max_length=12, choices=Kind.choices)
    held_on = models.DateField("会议日期")
    attendee_units = models.ManyToManyField(Unit, verbose_name="参会单位", related_name="+")
    decisions = models.TextField("议定事项")
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = verbose_name_plural = "协调会议"
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.held_on}"


class FollowUpAction(models.Model):
    """A follow-up action a meeting decided, with an owner and a deadline on the clocks."""

    meeting = models.ForeignKey(
        CoordinationMeeting, on_delete=models.CASCADE, related_name="actions"
    )
    description = models.CharField("落实事项", max_length=300)
    owner = models.ForeignKey(
        USER, verbose_name="责任人", on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, verbose_name="责任单位", on_delete=models.PROTECT, related_name="+"
    )
    due_days = models.PositiveIntegerField("期限（工作日）", null=True, blank=True)
    due_on = models.DateField("完成期限")
    due_at = models.DateTimeField("期限届满时刻")
    due_note = models.CharField("期限说明", max_length=80, blank=True)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "会议落实事项"
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return self.description


class HardshipAid(models.Model):
    """Hardship assistance (帮扶救助) granted in the matter."""

    class Kind(models.TextChoices):
        SOCIAL_RELIEF = "social_relief", "社会救助"
        JUDICIAL_AID = "judicial_aid", "司法救助"
        OTHER = "other", "其他帮扶"

    backlog = models.ForeignKey(BacklogCase, on_delete=models.CASCADE, related_name="aids")
    kind = models.CharField("救助类型", max_length=16, choices=Kind.choices)
    amount = models.DecimalField("金额（元）", max_digits=14, decimal_places=2)
    source = models.CharField("资金来源", max_length=200)
    approved_by = models.CharField("审批人", max_length=60)
    approved_on = models.DateField("审批日期")
    paid_on = models.DateField("发放日期", null=True, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = verbose_name_plural = "帮扶救助"
        ordering = ["approved_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}元"


class LawyerMediation(models.Model):
    """Lawyer-guided mediation (律师引导调解)."""

    class Outcome(models.TextChoices):
        ONGOING = "ongoing", "调解中"
        AGREED = "agreed", "达成调解协议"
        FAILED = "failed", "调解未成"

    backlog = models.ForeignKey(BacklogCase, on_delete=models.CASCADE, related_name="mediations")
    lawyer_name = models.CharField("律师姓名", max_length=40)
    law_firm = models.CharField("律师事务所", max_length=100)
    outcome = models.CharField(
        "调解结果", max_length=10, choices=Outcome.choices, default=Outcome.ONGOING
    )
    outcome_note = models.TextField("结果说明", blank=True)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = verbose_name_plural = "律师引导调解"

    def __str__(self) -> str:
        return f"{self.law_firm} {self.lawyer_name}"


class MediationSession(models.Model):
    mediation = models.ForeignKey(
        LawyerMediation, on_delete=models.CASCADE, related_name="sessions"
    )
    held_on = models.DateField("调解日期")
    notes = models.TextField("调解情况")

    class Meta:
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return f"调解 {self.held_on}"


class Hearing(models.Model):
    """A hearing (听证评议) with invited participants, minutes, findings and a decision."""

    backlog = models.ForeignKey(BacklogCase, on_delete=models.CASCADE, related_name="hearings")
    held_on = models.DateField("听证日期")
    place = models.CharField("听证地点", max_length=120)
    minutes = models.TextField("听证记录")
    findings = models.TextField("评议意见")
    decision = models.TextField("听证结论")
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = verbose_name_plural = "听证评议"
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return f"听证 {self.held_on}"


class HearingParticipant(models.Model):
    class Kind(models.TextChoices):
        DEPUTY = "deputy", "人大代表"
        COMMITTEE = "committee", "政协委员"
        LAWYER = "lawyer", "律师"
        NOTARY = "notary", "公证员"
        UNIT = "unit", "单位代表"
        PETITIONER = "petitioner", "信访人"
        OTHER = "other", "其他"

    hearing = models.ForeignKey(Hearing, on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField("身份", max_length=12, choices=Kind.choices)
    name = models.CharField("姓名/单位", max_length=80)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class UnitHeadSummons(models.Model):
    """A summons of a unit head (约谈) when a case stays stuck."""

    backlog = models.ForeignKey(BacklogCase, on_delete=models.CASCADE, related_name="summonses")
    unit = models.ForeignKey(
        Unit, verbose_name="被约谈单位", on_delete=models.PROTECT, related_name="+"
    )
    head_name = models.CharField("被约谈负责人", max_length=40)
    held_on = models.DateField("约谈日期")
    reason = models.TextField("约谈事由")
    commitments = models.TextField("整改承诺", blank=True)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = verbose_name_plural = "约谈"
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return f"约谈 {self.unit_id} {self.held_on}"


class BacklogSnapshot(models.Model):
    """The open backlog by age bucket at one month (written by `xinfang backlog_scan`)."""

    month = models.DateField("月份")
    bucket = models.CharField("时长", max_length=8)
    count = models.PositiveIntegerField("积案数")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "bucket"], name="snapshot_unique")]
        ordering = ["month", "bucket"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.bucket} {self.count}"


# ---------------------------------------------------------------- 矛盾纠纷排查


class ScreeningRound(models.Model):
    """A screening round (矛盾纠纷排查), e.g. 2027年春节前矛盾纠纷排查."""

    name = models.CharField("排查名称", max_length=100)
    period_start = models.DateField("排查开始")
    period_end = models.DateField("排查结束")
    office = models.ForeignKey(
        Unit, verbose_name="组织单位", on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "矛盾纠纷排查"
        ordering = ["-period_start", "-id"]

    def __str__(self) -> str:
        return self.name


class ScreeningEntry(models.Model):
    """One issue in the screening ledger (台帐). An issue, never a person."""

    class EntryStatus(models.TextChoices):
        PENDING = "pending", "待化解"
        IN_PROGRESS = "in_progress", "化解中"
        RESOLVED = "resolved", "已化解"

    round = models.ForeignKey(ScreeningRound, on_delete=models.CASCADE, related_name="entries")
    issue = models.TextField("矛盾纠纷问题")
    place = models.ForeignKey(
        Place, verbose_name="属地", on_delete=models.PROTECT, related_name="+"
    )
    location = models.CharField("具体地点", max_length=200, blank=True)
    units = models.ManyToManyField(Unit, verbose_name="涉及单位", blank=True, related_name="+")
    responsible = models.ForeignKey(
        USER,
        verbose_name="责任领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    plan = models.TextField("化解措施", blank=True)
    deadline = models.DateField("化解期限", null=True, blank=True)
    deadline_note = models.CharField("期限说明", max_length=80, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=EntryStatus.choices, default=EntryStatus.PENDING
    )
    households = models.PositiveIntegerField("涉及户数", default=0)
    converted_case = models.ForeignKey(
        Case,
        verbose_name="转为信访事项",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = "排查台帐条目"
        ordering = ["round", "id"]

    def __str__(self) -> str:
        return self.issue[:30]
