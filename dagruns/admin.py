"""Django admin for the configuration people edit by hand: connections, variables, pools.

Secrets are write-only here: a connection's password and extra, and a sensitive variable's
value, are never rendered back into a page; leaving the field empty keeps the stored value.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Sum

from dagruns.masking import MASK
from dagruns.models import (
    AuditEvent,
    Connection,
    DagImportError,
    DagModel,
    Pool,
    TaskInstance,
    Variable,
)
from dagruns.models.states import TI_OCCUPYING_SLOT


class ConnectionForm(forms.ModelForm):
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave empty to keep the stored password.",
    )
    extra = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="JSON. Write-only. Leave empty to keep the stored extra.",
    )

    class Meta:
        model = Connection
        fields = ["conn_id", "conn_type", "description", "host", "schema", "login", "port"]

    def clean_extra(self):
        import json

        value = self.cleaned_data["extra"]
        if value:
            try:
                json.loads(value)
            except ValueError as exc:
                raise forms.ValidationError(f"extra is not valid JSON: {exc}") from None
        return value

    def save(self, commit=True):
        conn = super().save(commit=False)
        if self.cleaned_data.get("password"):
            conn.password = self.cleaned_data["password"]
        if self.cleaned_data.get("extra"):
            conn.extra = self.cleaned_data["extra"]
        if commit:
            conn.save()
        return conn


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ["conn_id", "conn_type", "host", "port", "login", "password_set"]
    search_fields = ["conn_id", "host", "conn_type"]

    @admin.display(description="password")
    def password_set(self, obj: Connection) -> str:
        return obj.masked_password()


class VariableForm(forms.ModelForm):
    val = forms.CharField(
        label="Value",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Values of keys that look secret are write-only: leave empty to keep them.",
    )

    class Meta:
        model = Variable
        fields = ["key", "val", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.instance.is_sensitive:
            self.initial["val"] = self.instance.val

    def save(self, commit=True):
        var = super().save(commit=False)
        value = self.cleaned_data.get("val", "")
        if value or not var.is_sensitive:
            var.val = value
        if commit:
            var.save()
        return var


@admin.register(Variable)
class VariableAdmin(admin.ModelAdmin):
    form = VariableForm
    list_display = ["key", "shown_value", "description"]
    search_fields = ["key"]

    @admin.display(description="value")
    def shown_value(self, obj: Variable) -> str:
        value = obj.display_value()
        return value if value == MASK or len(value) < 80 else value[:77] + "..."


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ["name", "slots", "used_slots", "description"]

    @admin.display(description="running + queued slots")
    def used_slots(self, obj: Pool) -> int:
        used = TaskInstance.objects.filter(pool=obj.name, state__in=TI_OCCUPYING_SLOT).aggregate(
            n=Sum("pool_slots")
        )["n"]
        return used or 0

    def has_delete_permission(self, request, obj=None):
        return not (obj and obj.is_default) and super().has_delete_permission(request, obj)


@admin.register(DagModel)
class DagModelAdmin(admin.ModelAdmin):
    list_display = ["dag_id", "is_paused", "is_active", "owners", "timetable_summary", "fileloc"]
    list_filter = ["is_paused", "is_active"]
    search_fields = ["dag_id"]
    readonly_fields = [f.name for f in DagModel._meta.fields if f.name != "is_paused"]


@admin.register(DagImportError)
class DagImportErrorAdmin(admin.ModelAdmin):
    list_display = ["filename", "line_number", "message", "timestamp"]
    readonly_fields = ["filename", "line_number", "message", "stack_trace", "timestamp"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["when", "owner", "event", "dag_id", "run_id", "task_id"]
    list_filter = ["event"]
    search_fields = ["dag_id", "owner", "run_id", "task_id"]

    def has_change_permission(self, request, obj=None):
        return False
