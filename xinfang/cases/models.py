"""The petition (信访事项), its append-only timeline, and what hangs off it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from xinfang.orgs.models import Category, Place, Unit


class Channel(models.TextChoices):
    ONLINE = "online", "网上"
    LETTER = "letter", "来信"
    VISIT = "visit", "来访"
    PHONE = "phone", "来电"
    FAX = "fax", "传真"


class Kind(models.TextChoices):
    """Petition types, and the 12345 hotline types."""

    SUGGESTION = "suggestion", "建议意见"
    ACCUSATION = "accusation", "检举控告"
    APPEAL = "appeal", "申诉求决"
    HOTLINE_ENQUIRY = "hotline_enquiry", "咨询"
    HOTLINE_HELP = "hotline_help", "求助"
    HOTLINE_SUGGESTION = "hotline_suggestion", "建议"
    HOTLINE_COMPLAINT = "hotline_complaint", "投诉"
    HOTLINE_REPORT = "hotline_report", "举报"


HOTLINE_KINDS = frozenset(k for k in Kind.values if k.startswith("hotline_"))
# Types that may be submitted anonymously (suggestions and reports).
ANONYMOUS_KINDS = frozenset(
    {
        Kind.SUGGESTION,
        Kind.ACCUSATION,
        Kind.HOTLINE_SUGGESTION,
        Kind.HOTLINE_REPORT,
        Kind.HOTLINE_ENQUIRY,
    }
)
# Types where the complainant must be hidden from the accused.
CONFIDENTIAL_KINDS = frozenset({Kind.ACCUSATION, Kind.HOTLINE_REPORT, Kind.HOTLINE_COMPLAINT})


class Urgency(models.TextChoices):
    """12345 requests that run on hours instead of working days."""

    EMERGENCY = "emergency", "紧急（2小时）"
    OUTAGE = "outage", "水电气停供（24小时）"


class State(models.TextChoices):
    REGISTERED = "registered", "已登记"
    ROUTED = "routed", "待受理"
    ACCEPTED = "accepted", "办理中"
    REPLIED = "replied", "已答复"
    REVIEWING = "reviewing", "复查中"
    REVIEWED = "reviewed", "已复查"
    REREVIEWING = "rereviewing", "复核中"
    DECLINED = "declined", "不予受理"
    NOT_ACCEPTED_AGAIN = "not_accepted_again", "不再受理"
    FINAL = "final", "已终结"


CLOSED_STATES = frozenset({State.DECLINED, State.NOT_ACCEPTED_AGAIN, State.FINAL})


class Outcome(models.TextChoices):
    SUPPORTED = "supported", "支持"
    EXPLAINED = "explained", "解释"
    NOT_SUPPORTED = "not_supported", "不予支持"


class Rating(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASICALLY = "basically", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class RouteMode(models.TextChoices):
    TRANSFER = "transfer", "转送"
    ASSIGN = "assign", "交办"


# A new matter has no lead, review or re-review unit and no link yet: partial indexes
# (WHERE … IS NOT NULL) skip it, so registering writes 11 b-trees instead of 17, and every
# query that filters these columns with = or IN still uses them.
HAS_LEAD = Q(lead_unit__isnull=False)


class Case(models.Model):
    """One petition matter. Holds the current state and due times; the timeline holds the story."""

    # Foreign keys that a composite index below already leads with, or that are never
    # filtered on, get no index of their own: every index costs each registration a write.
    office = models.ForeignKey(
        Unit, verbose_name="登记机构", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    year = models.PositiveSmallIntegerField("年度")
    seq = models.PositiveIntegerField("序号")
    number = models.CharField("事项编号", max_length=40, unique=True)

    channel = models.CharField("来源渠道", max_length=10, choices=Channel.choices)
    kind = models.CharField("事项类型", max_length=20, choices=Kind.choices)
    title = models.CharField("标题", max_length=120)
    content = models.TextField("诉求内容")
    place = models.ForeignKey(Place, verbose_name="问题属地", on_delete=models.PROTECT)
    category = models.ForeignKey(
        Category, verbose_name="事项分类", null=True, blank=True, on_delete=models.PROTECT
    )

    anonymous = models.BooleanField("匿名", default=False)
    petitioner_name = models.CharField("信访人姓名", max_length=40, blank=True)
    petitioner_id_number = models.CharField("身份证号", max_length=18, blank=True)
    petitioner_phone = models.CharField("联系电话", max_length=20, blank=True)
    petitioner_address = models.CharField("住址", max_length=200, blank=True)
    group_size = models.PositiveIntegerField("来访人数", default=1)
    urgency = models.CharField("紧急程度", max_length=12, choices=Urgency.choices, blank=True)

    accused_unit = models.ForeignKey(
        Unit,
        verbose_name="被反映单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    accused_person = models.CharField("被反映人", max_length=60, blank=True)
    # A report may accuse several units: `accused_unit` is the first named, these are the rest.
    other_accused_units = models.ManyToManyField(
        Unit, verbose_name="其他被反映单位", blank=True, related_name="+"
    )
    # 被反映单位待确定: a report that came in without its accused unit(s) recorded (portal,
    # reception, Open311, an import). It cannot be routed, and only the registering office's
    # clerks see the petitioner, until a clerk records them (`case_record_accused`).
    accused_pending = models.BooleanField("被反映单位待确定", default=False)

    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.REGISTERED)
    lead_unit = models.ForeignKey(
        Unit,
        verbose_name="主办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    route_mode = models.CharField("转交方式", max_length=10, choices=RouteMode.choices, blank=True)
    report_required = models.BooleanField("需报送办结报告", default=False)
    report_submitted_at = models.DateTimeField("办结报告报送时间", null=True, blank=True)
    review_unit = models.ForeignKey(
        Unit,
        verbose_name="复查机关",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    rereview_unit = models.ForeignKey(
        Unit,
        verbose_name="复核机关",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    registered_at = models.DateTimeField("登记时间")
    routed_at = models.DateTimeField("转交时间", null=True, blank=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField("延期天数", default=0)
    outcome = models.CharField("处理结果", max_length=20, choices=Outcome.choices, blank=True)
    review_outcome = models.CharField(
        "复查结果", max_length=20, choices=Outcome.choices, blank=True
    )
    rereview_outcome = models.CharField(
        "复核结果", max_length=20, choices=Outcome.choices, blank=True
    )
    rating = models.CharField("评价", max_length=12, choices=Rating.choices, blank=True)

    # The running clock: which one, when it runs out, when it turns "due soon".
    clock = models.CharField("当前时限", max_length=24, blank=True)
    clock_started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField("到期时间", null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    paused = models.BooleanField("时限中止", default=False)
    # 交办 deadline for the completion report, and the misroute objection window.
    assign_due_at = models.DateTimeField("交办期限", null=True, blank=True)
    object_due_at = models.DateTimeField("异议期限", null=True, blank=True)

    linked_to = models.ForeignKey(
        "self",
        verbose_name="关联事项",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repeats",
        db_index=False,
    )
    repeat_count = models.PositiveIntegerField("重复信访次数", default=0)
    # The citizen's query code (查询码) is shown once; only a salted hash is kept.
    query_code_hash = models.CharField(max_length=128, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = verbose_name_plural = "信访事项"
        constraints = [
            models.UniqueConstraint(
                fields=["office", "year", "seq"], name="case_number_per_office_year"
            ),
        ]
        indexes = [
            models.Index(
                fields=["lead_unit", "state", "-registered_at", "-id"],
                name="case_unit_state_reg",
                condition=HAS_LEAD,
            ),
            models.Index(
                fields=["lead_unit", "-registered_at", "-id"],
                name="case_unit_reg",
                condition=HAS_LEAD,
            ),
            models.Index(fields=["office", "-registered_at", "-id"], name="case_office_reg"),
            models.Index(fields=["lead_unit", "due_at"], name="case_unit_due", condition=HAS_LEAD),
            models.Index(fields=["office", "due_at"], name="case_office_due"),
            models.Index(fields=["due_at"], name="case_due"),
            models.Index(fields=["-registered_at", "-id"], name="case_reg"),
            # The dashboard's groupings and its unit filter read only these columns: a covering
            # index lets them count a year of a county's matters without reading the rows.
            models.Index(
                fields=["registered_at", "channel", "category", "place", "lead_unit", "office"],
                name="case_reg_dims",
            ),
            models.Index(fields=["replied_at", "lead_unit", "office"], name="case_replied"),
            models.Index(fields=["petitioner_id_number"], name="case_petitioner_id"),
            models.Index(fields=["petitioner_phone"], name="case_petitioner_phone"),
            models.Index(
                fields=["review_unit"],
                name="case_review_unit",
                condition=Q(review_unit__isnull=False),
            ),
            models.Index(
                fields=["rereview_unit"],
                name="case_rereview_unit",
                condition=Q(rereview_unit__isnull=False),
            ),
            models.Index(
                fields=["linked_to"], name="case_linked_to", condition=Q(linked_to__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_closed(self) -> bool:
        return self.state in CLOSED_STATES

    @property
    def is_hotline(self) -> bool:
        return self.kind in HOTLINE_KINDS


class CaseEvent(models.Model):
    """One entry of a matter's timeline. Append-only: never updated, never deleted."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField("事件", max_length=40)
    at = models.DateTimeField("时间")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    public = models.BooleanField("对信访人公开", default=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "办理过程"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="event_case_at")]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class CoHandler(models.Model):
    """A co-handling unit (协办单位) of a matter with one lead unit."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="co_handlers")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "unit"], name="cohandler_unique")]
        indexes = [models.Index(fields=["unit", "case"], name="cohandler_unit")]

    def __str__(self) -> str:
        return f"协办：{self.unit_id}"


class Representative(models.Model):
    """A representative of a group visit (集体访); at most five per matter."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="representatives")
    name = models.CharField("姓名", max_length=40)
    id_number = models.CharField("身份证号", max_length=18, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)

    def __str__(self) -> str:
        return self.name


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("大小")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ClockPause(models.Model):
    """A recorded pause of the running clock (听证、鉴定). Without one the clock never stops."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses")
    clock = models.CharField(max_length=24)
    reason = models.CharField("中止事由", max_length=200)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.clock} 中止：{self.reason}"


class RepeatSubmission(models.Model):
    """A new submission about a matter already open or final: linked to it, not a new matter."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="repeat_submissions")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    content = models.TextField()
    received_at = models.DateTimeField()
    notice = models.CharField("告知类型", max_length=40)

    def __str__(self) -> str:
        return f"重复信访 {self.received_at:%Y-%m-%d}"


class CaseCounter(models.Model):
    """The last number issued per office and year, so case numbers never collide."""

    office = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["office", "year"], name="counter_unique")]

    def __str__(self) -> str:
        return f"{self.office_id}/{self.year}: {self.last}"


class HolidayOverride(models.Model):
    """An admin's correction of the holiday calendar, for years the library does not know yet."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否工作日")
    note = models.CharField("说明", max_length=60, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "节假日调整"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.note}"


class ImportJob(models.Model):
    """One import of a ledger file (台帐导入), so a killed import resumes without duplicates.

    `committed_rows` counts the data rows already written; it is updated in the same
    transaction as each batch, so it never disagrees with the matters in the database.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "导入中"
        DONE = "done", "已完成"

    # Foreign keys that a composite index below already leads with, or that are never
    # filtered on, get no index of their own: every index costs each registration a write.
    office = models.ForeignKey(
        Unit, verbose_name="登记机构", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    sha256 = models.CharField("文件摘要", max_length=64, db_index=True)
    file_name = models.CharField("文件名", max_length=200, blank=True)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    committed_rows = models.PositiveIntegerField("已写入行数", default=0)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.RUNNING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "台帐导入记录"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.file_name} {self.get_status_display()} {self.committed_rows}/{self.total_rows}"
        )
