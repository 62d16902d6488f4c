"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest


def tenant_switcher(request: HttpRequest) -> dict[str, object]:
    """The tenants the signed-in user belongs to, for the navigation's switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .access import tenants_for_user

    return {"my_tenants": tenants_for_user(user)}
