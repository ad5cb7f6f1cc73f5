"""Admin: see and revoke credentials (they are made by command, never shown again)."""

from django.contrib import admin

from xinfang.api.models import ApiToken, Open311Key, Open311Request


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "created", "last_used", "revoked"]
    list_filter = ["revoked"]
    readonly_fields = ["user", "token_hash", "created", "last_used"]
    fields = ["user", "name", "token_hash", "created", "last_used", "revoked"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):
    list_display = ["name", "created", "last_used", "revoked"]
    list_filter = ["revoked"]
    readonly_fields = ["key_hash", "created", "last_used"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ["token", "case", "service_code", "requested_at"]
    readonly_fields = [f.name for f in Open311Request._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
