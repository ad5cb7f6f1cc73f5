"""The outbox (消息发件箱): every SMS and e-mail is a row here before it leaves.

A message is written in the same transaction as the event that causes it, so it exists exactly
when the event does; a worker (`xinfang notify_worker`) claims due rows with a conditional update
and a lease, so a killed worker loses nothing and two workers never send one row twice at once.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Outbox(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", "短信"
        EMAIL = "email", "电子邮件"

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"
        # past the SMS budget of the number for the day (xinfang/notify/budget.py): never sent
        SKIPPED = "skipped", "未发送（超出限额）"

    class Priority(models.IntegerChoices):
        """Who goes first when the worker has a queue: the citizen waiting for a query code,
        then staff reminders and digests, then the citizens' step messages, then bulk (an
        import's thousands of 已登记 messages, the demo's backlog)."""

        RECEIPT = 0, "提交回执"
        STAFF = 10, "提醒与汇总"
        CITIZEN = 20, "办理进度"
        BULK = 50, "批量"

    channel = models.CharField("渠道", max_length=8, choices=Channel.choices)
    recipient = models.CharField("收件人", max_length=254)
    subject = models.CharField("主题", max_length=200, blank=True)
    body = models.TextField("内容")
    case = models.ForeignKey(
        "cases.Case",
        verbose_name="事项",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # A staff message (reminder, digest) names the unit whose staff it goes to: the outbox page
    # shows it only to users whose scope holds that unit. Messages to a petitioner have none.
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name="收件单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField("类型", max_length=40)
    # The submission receipt carries the query code: its body is cleared once it is settled.
    sensitive = models.BooleanField(default=False)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次发送时间", default=timezone.now)
    last_error = models.TextField("最近错误", blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    claimed_by = models.CharField(max_length=80, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # 发送优先级: a smaller number goes first (see `Priority`); within one, the oldest due first.
    priority = models.PositiveSmallIntegerField("优先级", default=Priority.CITIZEN)

    class Meta:
        verbose_name = verbose_name_plural = "消息发件箱"
        ordering = ["-created_at", "-id"]
        indexes = [
            # The worker's queue: only pending rows, in the order it claims them.
            models.Index(
                fields=["priority", "next_attempt_at", "id"],
                name="outbox_queue",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["status", "claimed_until"], name="outbox_lease"),
            # the SMS budget counts a number's messages of the day
            models.Index(fields=["recipient", "created_at"], name="outbox_recipient_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.kind} {self.get_status_display()}"

    @property
    def to_staff(self) -> bool:
        """A message to staff (a reminder or a digest), not to a petitioner."""
        return (
            self.unit_id is not None or self.kind == "digest" or self.kind.startswith("reminder.")
        )


class CitizenContact(models.Model):
    """An e-mail address a citizen gave on the portal (the case row has no column for one)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField("电子邮箱")

    def __str__(self) -> str:
        return f"{self.case_id} 邮箱"


class Reminder(models.Model):
    """A reminder: one per matter, clock run and kind (due soon / overdue), to the unit holding
    the clock. It is shown in the app to that unit's staff at once; its e-mails go out when the
    unit has a staff address (`emailed_at` stays empty until then, so no reminder is lost)."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", "即将到期"
        OVERDUE = "overdue", "已超期"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    clock = models.CharField(max_length=24)
    clock_started_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name="提醒单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    emailed_at = models.DateTimeField("邮件发出时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "时限提醒记录"
        constraints = [
            models.UniqueConstraint(
                fields=["case", "clock", "clock_started_at", "kind"], name="reminder_once_per_clock"
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "created_at"], name="reminder_unit"),
            models.Index(fields=["emailed_at", "unit"], name="reminder_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.clock} {self.kind}"


class ReminderRead(models.Model):
    """A staff member has read a reminder in the app (标为已读)."""

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey("orgs.User", on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "提醒已读记录"
        constraints = [
            models.UniqueConstraint(fields=["reminder", "user"], name="reminder_read_once")
        ]

    def __str__(self) -> str:
        return f"{self.reminder_id} {self.user_id}"


class Digest(models.Model):
    """A daily digest already queued for a unit on a (Beijing) date."""

    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "每日汇总记录"
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="digest_once_per_day")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day}"
