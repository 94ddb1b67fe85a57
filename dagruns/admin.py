"""Django admin for the configuration people edit by hand: connections, variables, pools,
users and groups — behind the roles, not Django's staff flags: Op and Admin may use the admin
(connections, variables, pools, and read the rest); only Admins manage users and groups.

Secrets are write-only here: a connection's password and a sensitive variable's value are
never rendered back into a page; leaving the field empty keeps the stored value. A
connection's extra is shown and edited as JSON with the values under secret-looking keys
masked (`***`); a mask sent back keeps the stored value (Airflow's connection form does so).
The connection form has Airflow's Test button (templates/admin/dagruns/connection/
change_form.html): it sends the unsaved fields to `POST /api/v2/connections/test`, which runs
the hook's `test_connection()`; ORCH_TEST_CONNECTION (Airflow's `[core] test_connection`,
Disabled by default) greys it out or hides it.
Saves and deletes go through dagruns.actions, so they are validated and audited exactly as
the REST API's and the CLI's are.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.html import format_html, format_html_join

from dagruns.actions import connection_test
from dagruns.actions import connections as conn_actions
from dagruns.actions import pools as pool_actions
from dagruns.actions import variables as var_actions
from dagruns.actions.audit import Actor
from dagruns.actions.text import nul_message
from dagruns.domain.roles import Role, has_role
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
from dagruns.sdk.masking import MASK

if TYPE_CHECKING:
    from typing import TypedDict

    from django_stubs_ext import WithAnnotations

    class _Usage(TypedDict):
        used: int

    # A Pool row as PoolAdmin.get_queryset annotates it.
    PoolWithUsage = WithAnnotations[Pool, _Usage]


class RefusesNul:
    """A form mixin: a NUL character in any field is refused with the message every surface
    uses (Django's CharField already refuses it; this gives its error our wording)."""

    fields: dict[str, forms.Field]  # provided by the form class this is mixed into

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.error_messages["null_characters_not_allowed"] = nul_message(name)


def _admin_site_permission(request) -> bool:
    return request.user.is_active and has_role(request.user, Role.OP)


# Django's default site, with our permission rule (mypy flags any assignment to a method).
admin.site.has_permission = _admin_site_permission  # type: ignore[method-assign]
admin.site.site_header = "orchestrator admin"
admin.site.site_title = "orchestrator admin"
admin.site.site_url = "/"


class RoleAdmin(admin.ModelAdmin):
    """Permissions from roles: `view_role` reads, `change_role` adds, changes and deletes."""

    view_role = Role.OP
    change_role = Role.OP

    def has_module_permission(self, request):
        return has_role(request.user, self.view_role)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, self.view_role)

    def has_add_permission(self, request):
        return has_role(request.user, self.change_role)

    def has_change_permission(self, request, obj=None):
        return has_role(request.user, self.change_role)

    def has_delete_permission(self, request, obj=None):
        return has_role(request.user, self.change_role)


class ReadOnlyRoleAdmin(RoleAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _actor(request) -> Actor:
    return Actor(user=request.user)


# --- connections ----------------------------------------------------------------------------


class ConnTypeInput(forms.TextInput):
    """A text input offering the known connection types (a datalist): pick one, or type any
    other type, as Airflow's REST API and CLI accept any."""

    def __init__(self) -> None:
        super().__init__(attrs={"list": "conn-types", "autocomplete": "off"})

    def render(self, name, value, attrs=None, renderer=None):
        options = format_html_join(
            "", '<option value="{}">{}</option>', conn_actions.connection_types()
        )
        datalist = format_html('<datalist id="conn-types">{}</datalist>', options)
        return super().render(name, value, attrs, renderer) + datalist


JSON_KINDS = {
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
    type(None): "null",
}


def _masked_places(value: object, path: str = "") -> list[str]:
    """Where a value is still the mask (`***`) in a submitted extra."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _masked_places(v, f"{path}{k}.")]
    return [path.rstrip(".")] if value == MASK else []


class ConnectionForm(RefusesNul, forms.ModelForm):
    conn_type = forms.CharField(
        label="Connection type",
        max_length=500,
        widget=ConnTypeInput(),
        help_text="Pick a known type or type another (your own hook may read any type).",
    )
    login = forms.CharField(required=False, widget=forms.TextInput)
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave empty to keep the stored password.",
    )
    extra = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "json-extra", "spellcheck": "false"}),
        help_text="A JSON object. Values under secret-looking keys (password, token, key…) "
        "show as *** — leave *** to keep the stored value. Empty: no extra.",
    )

    class Meta:
        model = Connection
        fields = ["conn_id", "conn_type", "description", "host", "schema", "login", "port"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.extra:
            shown = conn_actions.masked_extra_text(self.instance) or ""
            # Text that is not JSON is shown as stored, to be replaced.
            with contextlib.suppress(ValueError):
                shown = json.dumps(json.loads(shown), indent=2, ensure_ascii=False)
            self.initial["extra"] = shown

    def clean_conn_id(self):
        try:
            return conn_actions.check_conn_id(self.cleaned_data["conn_id"])
        except conn_actions.ConnectionInvalid as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_extra(self) -> str:
        text = self.cleaned_data.get("extra", "").strip()
        if not text:
            return ""
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Extra is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
            ) from None
        if not isinstance(value, dict):
            kind = JSON_KINDS.get(type(value), type(value).__name__)
            raise forms.ValidationError(f"Extra must be a JSON object ({{…}}), not {kind}.")
        stored = self.instance.extra_dejson if self.instance.pk else {}
        value = conn_actions.keep_masked(value, stored)
        masked = _masked_places(value)
        if masked:
            raise forms.ValidationError(
                f"*** stands for a stored secret, and there is none to keep at "
                f"{', '.join(masked)}: enter the value."
            )
        return json.dumps(value, ensure_ascii=False)

    def clean(self):
        """The action's own checks, each error shown on its field (a port out of range is a
        field error, not a failure when saving)."""
        cleaned = super().clean()
        for name, value in self.action_fields().items():
            if value in (None, "") or name in self.errors:
                continue
            try:
                conn_actions.check_fields({name: value})
            except conn_actions.ConnectionInvalid as exc:
                self.add_error(name, str(exc))
        return cleaned

    def action_fields(self) -> dict:
        data = self.cleaned_data
        fields = {
            k: data.get(k) for k in ("conn_type", "description", "host", "schema", "login", "port")
        }
        if data.get("password"):
            fields["password"] = data["password"]
        # The extra is shown (masked) and sent back whole: what is in the box is the extra.
        if "extra" in data:
            fields["extra"] = data["extra"]
        return fields


@admin.register(Connection)
class ConnectionAdmin(RoleAdmin):
    form = ConnectionForm
    list_display = ["conn_id", "conn_type", "host", "port", "login", "password_set", "extra_keys"]
    search_fields = ["conn_id", "host", "conn_type"]

    def get_readonly_fields(self, request, obj=None):
        return ["conn_id"] if obj else []

    def render_change_form(self, request, context, *args, **kwargs):
        context["test_connection_mode"] = connection_test.testing_mode()
        context["test_connection_disabled"] = connection_test.TESTING_DISABLED
        return super().render_change_form(request, context, *args, **kwargs)

    @admin.display(description="password")
    def password_set(self, obj: Connection) -> str:
        return conn_actions.connection_fields(obj, secrets="masked")["password"] or ""

    @admin.display(description="extra")
    def extra_keys(self, obj: Connection) -> str:
        return (conn_actions.masked_extra_text(obj) or "")[:80]

    def save_model(self, request, obj, form, change):
        if change:
            saved = conn_actions.do_update_connection(
                obj.conn_id, form.action_fields(), _actor(request)
            )
        else:
            saved = conn_actions.do_create_connection(
                form.cleaned_data["conn_id"], form.action_fields(), _actor(request)
            )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        conn_actions.do_delete_connection(obj.conn_id, _actor(request))

    def delete_queryset(self, request, queryset):
        for conn in queryset:
            self.delete_model(request, conn)


# --- variables ------------------------------------------------------------------------------


class VariableForm(RefusesNul, forms.ModelForm):
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

    def clean_key(self):
        try:
            return var_actions.check_key(self.cleaned_data["key"])
        except var_actions.VariableError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(Variable)
class VariableAdmin(RoleAdmin):
    form = VariableForm
    list_display = ["key", "shown_value", "description"]
    search_fields = ["key"]

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj else []

    @admin.display(description="value")
    def shown_value(self, obj: Variable) -> str:
        value = obj.display_value()
        return value if value == MASK or len(value) < 80 else value[:77] + "..."

    def save_model(self, request, obj, form, change):
        value = form.cleaned_data.get("val", "")
        description = form.cleaned_data.get("description", "")
        key = obj.key
        if change and obj.is_sensitive and not value:
            saved = var_actions.do_update_variable(key, _actor(request), description=description)
        else:
            saved = var_actions.do_set_variable(
                key, value, _actor(request), description=description
            )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        var_actions.do_delete_variable(obj.key, _actor(request))

    def delete_queryset(self, request, queryset):
        for var in queryset:
            self.delete_model(request, var)


# --- pools ----------------------------------------------------------------------------------


class PoolForm(RefusesNul, forms.ModelForm):
    pass


@admin.register(Pool)
class PoolAdmin(RoleAdmin):
    form = PoolForm
    list_display = ["name", "slots", "used_slots", "open_slots", "description"]
    fields = ["name", "slots", "description", "include_deferred"]

    def get_queryset(self, request):
        # Slot usage for the whole page in the same query (no query per pool).
        used = (
            TaskInstance.objects.filter(pool=OuterRef("name"), state__in=TI_OCCUPYING_SLOT)
            .values("pool")
            .annotate(total=Sum("pool_slots"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(used=Coalesce(Subquery(used, output_field=IntegerField()), Value(0)))
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["name", "description"] if obj.is_default else ["name"]

    @admin.display(description="occupied slots (queued + running)")
    def used_slots(self, obj: PoolWithUsage) -> int:
        return obj.used

    @admin.display(description="open slots")
    def open_slots(self, obj: PoolWithUsage) -> str:
        return "unlimited" if obj.slots < 0 else str(max(obj.slots - obj.used, 0))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            fields = {
                "slots": data["slots"],
                "include_deferred": data.get("include_deferred", False),
            }
            if not obj.is_default:
                fields["description"] = data.get("description", "")
            saved = pool_actions.do_update_pool(obj.name, _actor(request), **fields)
        else:
            saved = pool_actions.do_create_pool(
                data["name"],
                data["slots"],
                _actor(request),
                description=data.get("description", ""),
                include_deferred=data.get("include_deferred", False),
            )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return not (obj and obj.is_default) and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        pool_actions.do_delete_pool(obj.name, _actor(request))

    def delete_queryset(self, request, queryset):
        for pool in queryset.exclude(name=pool_actions.DEFAULT_POOL_NAME):
            self.delete_model(request, pool)


# --- what the system records (read-only here; pause from the dashboard) ---------------------


@admin.register(DagModel)
class DagModelAdmin(ReadOnlyRoleAdmin):
    list_display = ["dag_id", "is_paused", "is_active", "owners", "timetable_summary", "fileloc"]
    list_filter = ["is_paused", "is_active"]
    search_fields = ["dag_id"]


@admin.register(DagImportError)
class DagImportErrorAdmin(ReadOnlyRoleAdmin):
    list_display = ["filename", "line_number", "message", "timestamp"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyRoleAdmin):
    list_display = ["when", "owner", "event", "dag_id", "run_id", "task_id"]
    list_filter = ["event"]
    search_fields = ["dag_id", "owner", "run_id", "task_id"]


# --- users and groups: Admins only ---------------------------------------------------------

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class RoleUserAdmin(RoleAdmin, UserAdmin):
    view_role = Role.ADMIN
    change_role = Role.ADMIN
    list_display = ["username", "email", "is_active", "is_superuser", "roles", "last_login"]

    @admin.display(description="roles")
    def roles(self, obj: User) -> str:
        return ", ".join(g.name for g in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")


@admin.register(Group)
class RoleGroupAdmin(RoleAdmin, GroupAdmin):
    view_role = Role.ADMIN
    change_role = Role.ADMIN
