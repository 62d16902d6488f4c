"""Forms of the platform admin pages: a new tenant, a tenant's settings, a suspension."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q

from .models import NAME_RULE, Tenant


def aws_regions() -> frozenset[str]:
    from deployments.aws.regions import known_regions

    return known_regions()


def kind_choices() -> list[tuple[str, str]]:
    """The component kinds the engine can deploy (its registry), for the allow-list."""
    from deployments.spec.kinds import DEPLOYABLE_KINDS

    return [(kind, kind) for kind in sorted(DEPLOYABLE_KINDS)]


def _words(value: str) -> list[str]:
    """``"a, b c"`` → ``["a", "b", "c"]``, first occurrence order, no duplicates."""
    return list(dict.fromkeys(w for w in re.split(r"[\s,]+", value or "") if w))


class NameListField(forms.CharField):
    """Names separated by commas or spaces, each by the format's name rule."""

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        return _words(str(value or ""))

    def validate(self, value: list[str]) -> None:  # type: ignore[override]
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        bad = [name for name in value if not _valid_name(name)]
        if bad:
            raise ValidationError(f"{', '.join(bad)}: {NAME_RULE.message}", code="invalid")

    def run_validators(self, value: list[str]) -> None:  # type: ignore[override]
        return None

    def prepare_value(self, value: object) -> object:
        return ", ".join(value) if isinstance(value, list | tuple) else value


def _valid_name(name: str) -> bool:
    try:
        NAME_RULE(name)
    except ValidationError:
        return False
    return True


class RegionListField(NameListField):
    def validate(self, value: list[str]) -> None:  # type: ignore[override]
        unknown = [region for region in value if region not in aws_regions()]
        if unknown:
            raise ValidationError(
                f"not an AWS region: {', '.join(unknown)} (for example us-east-1, eu-west-1)",
                code="invalid",
            )


class TenantSettingsForm(forms.Form):
    """What a platform admin sets for a tenant; the engine's guardrails read it."""

    display_name = forms.CharField(max_length=200)
    max_stacks = forms.IntegerField(min_value=0, max_value=100_000)
    max_services_per_stack = forms.IntegerField(min_value=1, max_value=100_000)
    max_components_per_service = forms.IntegerField(min_value=1, max_value=100_000)
    allowed_kinds = forms.MultipleChoiceField(
        choices=kind_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every kind the engine can deploy.",
    )
    allowed_regions = RegionListField(
        required=False, help_text="Comma-separated AWS regions; empty: any region."
    )
    environments = NameListField(help_text="Comma-separated; at least one.")
    protected_environments = NameListField(
        required=False,
        help_text="Runs there need an admin's approval; each must be one of the environments.",
    )

    FIELDS = (
        "display_name", "max_stacks", "max_services_per_stack", "max_components_per_service",
        "allowed_kinds", "allowed_regions", "environments", "protected_environments",
    )  # fmt: skip

    @classmethod
    def for_tenant(cls, tenant: Tenant, data=None) -> TenantSettingsForm:
        return cls(data, initial={name: getattr(tenant, name) for name in cls.FIELDS})

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        environments = cleaned.get("environments") or []
        protected = cleaned.get("protected_environments") or []
        stray = [name for name in protected if name not in environments]
        if environments and stray:
            self.add_error(
                "protected_environments",
                f"not one of the tenant's environments: {', '.join(stray)}",
            )
        cleaned["allowed_kinds"] = sorted(cleaned.get("allowed_kinds") or [])
        return cleaned


class TenantCreateForm(forms.Form):
    slug = forms.CharField(
        label="Name",
        max_length=63,
        validators=[NAME_RULE],
        help_text="The tenant's name in stacks (metadata.tenant), S3 keys and lock keys; "
        "it cannot change later.",
    )
    display_name = forms.CharField(max_length=200)
    first_admin = forms.CharField(
        required=False,
        max_length=254,
        help_text="Optional: username or email of an existing user who becomes its admin.",
    )

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug == "new":  # platform/tenants/new/ is the page that creates one
            raise ValidationError("This name is reserved; choose another.")
        if Tenant.objects.filter(slug=slug).exists():
            raise ValidationError("A tenant with this name already exists.")
        return slug

    def clean_first_admin(self):  # noqa: ANN201 - a user or None
        who = self.cleaned_data["first_admin"].strip()
        if not who:
            return None
        users = list(get_user_model().objects.filter(Q(username=who) | Q(email__iexact=who))[:2])
        if not users:
            raise ValidationError(
                f"No user {who!r}. Create the tenant without one and send an invitation link "
                "from its members page."
            )
        if len(users) > 1:
            raise ValidationError(f"Several users match {who!r}; give the username.")
        return users[0]


class SuspendForm(forms.Form):
    reason = forms.CharField(max_length=500, help_text="Shown to the tenant's members.")
