from django.contrib import admin

from .models import Deployment, Stack, StackRevision


@admin.register(Stack)
class StackAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "created_at"]
    list_filter = ["tenant"]
    search_fields = ["name", "tenant__slug"]


@admin.register(StackRevision)
class StackRevisionAdmin(admin.ModelAdmin):
    """Revisions are immutable: viewable here, never editable."""

    list_display = ["stack", "number", "author", "created_at", "error_count", "warning_count"]
    list_filter = ["stack__tenant"]
    readonly_fields = [f.name for f in StackRevision._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ["stack", "environment", "kind", "status", "requested_by", "created_at"]
    list_filter = ["status", "kind", "environment"]
    search_fields = ["stack__name"]
