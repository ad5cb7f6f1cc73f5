from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from xinfang.orgs.models import Category, DispatchRule, PersonalDataView, Place, Unit, User


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "display_name", "unit", "role", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name")
    fieldsets = (*UserAdmin.fieldsets, ("岗位", {"fields": ("display_name", "unit", "role")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("岗位", {"fields": ("display_name", "unit", "role")}))


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "level", "kind", "parent", "place")
    list_filter = ("level", "kind")
    search_fields = ("name", "code")


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "parent")
    search_fields = ("name", "code")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "parent")
    search_fields = ("name", "code")


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "place", "unit")
    list_filter = ("unit",)
    autocomplete_fields = ("category", "place", "unit")


@admin.register(PersonalDataView)
class PersonalDataViewAdmin(admin.ModelAdmin):
    """The audit log is read-only: nobody edits or deletes who looked at what."""

    list_display = ("at", "user", "case", "fields", "purpose")
    list_filter = ("purpose",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
