from django.contrib import admin

from xinfang.reception.models import AppointmentSlot, Instruction, ReceptionRecord, RotaDay


@admin.register(RotaDay)
class RotaDayAdmin(admin.ModelAdmin):
    list_display = ("date", "rota", "leader", "leader_name", "leader_absent", "substitute")
    list_filter = ("rota",)
    date_hierarchy = "date"


@admin.register(ReceptionRecord)
class ReceptionRecordAdmin(admin.ModelAdmin):
    list_display = ("held_at", "office", "kind", "leader", "visitors")
    list_filter = ("kind", "office")


@admin.register(Instruction)
class InstructionAdmin(admin.ModelAdmin):
    list_display = ("text", "owner_unit", "owner_user", "deadline", "done_at")


@admin.register(AppointmentSlot)
class AppointmentSlotAdmin(admin.ModelAdmin):
    list_display = ("date", "start", "end", "office", "leader", "capacity", "booked", "open")
