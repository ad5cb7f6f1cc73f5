"""Leader reception (领导接访): the rota, reception records, instructions, appointments, group visits.

The records are about matters and instructions, never about people: nothing here lists,
counts or flags petitioners. A booking keeps a name and phone only so the office can call back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xinfang.orgs.models import Unit


class ReceptionRota(models.Model):
    """The rota (接访排班表) of one petition office."""

    office = models.OneToOneField(
        Unit, verbose_name="信访机构", on_delete=models.CASCADE, related_name="reception_rota"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "领导接访排班表"

    def __str__(self) -> str:
        return f"{self.office} 接访排班"


class RotaDay(models.Model):
    """One working day of the rota: the leader on duty, or a named leader who is not a user."""

    rota = models.ForeignKey(ReceptionRota, on_delete=models.CASCADE, related_name="days")
    date = models.DateField("日期")
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接访领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    leader_name = models.CharField("接访领导（非系统用户）", max_length=40, blank=True)
    leader_absent = models.BooleanField("领导缺席", default=False)
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="替班领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    substitute_name = models.CharField(
        "替班领导（非系统用户）", max_length=80, blank=True, help_text="可填多人，用“、”分隔"
    )
    note = models.CharField("备注", max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "接访日"
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["rota", "date"], name="rota_day_unique")]

    def __str__(self) -> str:
        return f"{self.date} {self.on_duty or '待安排'}"

    @property
    def leader_label(self) -> str:
        return str(self.leader) if self.leader_id else self.leader_name

    @property
    def substitute_label(self) -> str:
        names = [str(self.substitute)] if self.substitute_id else []
        if self.substitute_name:
            names.append(self.substitute_name)
        return "、".join(names)

    @property
    def on_duty(self) -> str:
        """Who receives that day: the leader, or when absent the substitute; "" is a gap."""
        if self.leader_label and not self.leader_absent:
            return self.leader_label
        return self.substitute_label


class ReceptionKind(models.TextChoices):
    ROTA = "rota", "领导接访"
    APPOINTMENT = "appointment", "约访"
    LOCALITY = "locality", "带案下访"
    HOME = "home", "走访"


class ReceptionRecord(models.Model):
    """One reception (接访记录): when, which leader, where, how many came, which matters."""

    office = models.ForeignKey(
        Unit, verbose_name="信访机构", on_delete=models.PROTECT, related_name="+"
    )
    held_at = models.DateTimeField("接访时间", db_index=True)
    kind = models.CharField(
        "接访形式", max_length=12, choices=ReceptionKind.choices, default=ReceptionKind.ROTA
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接访领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    leader_name = models.CharField("接访领导（非系统用户）", max_length=40, blank=True)
    place = models.CharField("接访地点", max_length=120, blank=True)
    visitors = models.PositiveIntegerField("来访人数", default=1)
    summary = models.TextField("反映问题概述", blank=True)
    slot = models.ForeignKey(
        "AppointmentSlot",
        verbose_name="约访时段",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cases = models.ManyToManyField("cases.Case", through="ReceptionMatter", related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "接访记录"
        ordering = ["-held_at", "-id"]
        indexes = [models.Index(fields=["office", "-held_at"], name="reception_office_held")]

    def __str__(self) -> str:
        return f"{self.held_at:%Y-%m-%d} {self.get_kind_display()} {self.leader_label}"

    @property
    def leader_label(self) -> str:
        return str(self.leader) if self.leader_id else self.leader_name


class ReceptionMatter(models.Model):
    """A matter raised at a reception: an existing one, or one registered there (`registered`)."""

    record = models.ForeignKey(ReceptionRecord, on_delete=models.CASCADE, related_name="matters")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    registered = models.BooleanField("接访时新登记", default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "case"], name="reception_matter_unique")
        ]
        indexes = [models.Index(fields=["case"], name="reception_matter_case")]

    def __str__(self) -> str:
        return f"{self.record_id} → {self.case_id}"


class Instruction(models.Model):
    """A leader's instruction (领导批示): what to do, who owns it, by when, and what came of it."""

    record = models.ForeignKey(
        ReceptionRecord, on_delete=models.CASCADE, related_name="instructions"
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name="涉及事项",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField("批示内容")
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner_unit = models.ForeignKey(
        Unit,
        verbose_name="责任单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deadline = models.DateTimeField("办理期限", db_index=True)
    # An explicit date on a rest day moves to the next working day; this says so.
    deadline_note = models.CharField("期限说明", max_length=80, blank=True)
    done_at = models.DateTimeField("落实时间", null=True, blank=True)
    result = models.TextField("落实结果", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "领导批示"
        ordering = ["deadline", "id"]

    def __str__(self) -> str:
        return self.text[:30]

    @property
    def owner_label(self) -> str:
        return " / ".join(str(x) for x in (self.owner_unit, self.owner_user) if x is not None)


class AppointmentSlot(models.Model):
    """A time the office offers for an appointment with a leader (约访时段)."""

    office = models.ForeignKey(
        Unit, verbose_name="信访机构", on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField("日期")
    start = models.TimeField("开始时间")
    end = models.TimeField("结束时间")
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接访领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    leader_name = models.CharField("接访领导（非系统用户）", max_length=40, blank=True)
    place = models.CharField("地点", max_length=120, blank=True)
    capacity = models.PositiveSmallIntegerField("可约人数", default=5)
    booked = models.PositiveSmallIntegerField("已约人数", default=0)
    open = models.BooleanField("开放预约", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "约访时段"
        ordering = ["date", "start"]
        indexes = [models.Index(fields=["office", "date"], name="slot_office_date")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("capacity")), name="slot_not_overbooked"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.start:%H:%M}-{self.end:%H:%M} {self.leader_label}"

    @property
    def leader_label(self) -> str:
        return str(self.leader) if self.leader_id else self.leader_name

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.booked, 0)


class Booking(models.Model):
    """A citizen's booking of a slot. The phone is personal data: masked in lists, views audited."""

    class Status(models.TextChoices):
        BOOKED = "booked", "已预约"
        CANCELLED = "cancelled", "已取消"

    slot = models.ForeignKey(AppointmentSlot, on_delete=models.PROTECT, related_name="bookings")
    reference = models.CharField("预约号", max_length=16, unique=True)
    name = models.CharField("姓名", max_length=40)
    phone = models.CharField("联系电话", max_length=20)
    description = models.TextField("反映事项")
    case_number = models.CharField("已有事项编号", max_length=40, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.BOOKED)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "约访预约"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.reference


class BookingPhoneView(models.Model):
    """Audit log: who saw a booking's full phone number, and when."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="phone_views")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "预约电话查看记录"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.user_id} 查看 {self.booking_id}"


class GroupVisitReception(models.Model):
    """A group visit (集体访) that a leader must receive within the set hours of registration."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="+")
    office = models.ForeignKey(
        Unit, verbose_name="信访机构", on_delete=models.PROTECT, related_name="+"
    )
    group_size = models.PositiveIntegerField("来访人数")
    registered_at = models.DateTimeField("登记时间")
    due_at = models.DateTimeField("接待时限", db_index=True)
    received_at = models.DateTimeField("领导接待时间", null=True, blank=True)
    record = models.ForeignKey(
        ReceptionRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "集体访领导接待"
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["office", "received_at", "due_at"], name="groupvisit_open")]

    def __str__(self) -> str:
        return f"集体访 {self.case_id}"

    @property
    def on_time(self) -> bool | None:
        return None if self.received_at is None else self.received_at <= self.due_at


class CalendarFeedToken(models.Model):
    """A private calendar link (订阅链接) for one user's rota feed. Only the SHA-256 digest of the
    token is kept; the link is shown once. A new link or 停用 revokes the old one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "日历订阅链接"

    def __str__(self) -> str:
        return f"{self.user_id} {'已停用' if self.revoked else '启用'}"
