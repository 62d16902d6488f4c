"""Forms of the stack pages."""

from __future__ import annotations

from django import forms

from tenants.models import NAME_RULE


class NewStackForm(forms.Form):
    name = forms.CharField(
        max_length=63, validators=[NAME_RULE], help_text="Lowercase letters, digits and hyphens."
    )
    description = forms.CharField(max_length=500, required=False)
    files = forms.FileField(
        required=False,
        widget=forms.ClearableFileInput(attrs={"allow_multiple_selected": True}),
        help_text="Optional: stack YAML files, or one .zip of a stack folder.",
    )
