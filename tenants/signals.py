"""Authentication events that belong in the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import audit


@receiver(user_login_failed)
def login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # The password is never recorded; the username is what an auditor needs.
    audit.record(
        action="auth.login_failed",
        actor=None,
        tenant=None,
        target=f"user:{str(credentials.get('username', ''))[:150]}",
        request=request,
    )


@receiver(user_logged_in)
def logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(
        action="auth.login",
        actor=user,
        tenant=None,
        target=f"user:{user.get_username()}",
        request=request,
    )
