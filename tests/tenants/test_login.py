"""Login: failures are audited, repeated failures lock the username out, sessions expire."""

from __future__ import annotations

from django.conf import settings

from tenants.models import AuditEvent


def attempt(client, password):
    return client.post(
        "/login/", {"username": "viewer", "password": password}, REMOTE_ADDR="127.0.0.7"
    )


def test_a_failed_login_is_audited_without_the_password(client, personas):
    response = attempt(client, "wrong-password-123")
    assert response.status_code == 200 and "didn" in response.content.decode()
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.target == "user:viewer" and "wrong-password-123" not in str(event.details)
    assert event.source_ip == "127.0.0.7"


def test_five_failures_lock_the_username_out_even_with_the_right_password(client, personas):
    for _ in range(5):
        attempt(client, "nope")
    locked = attempt(client, personas.password)
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_is_audited_and_sessions_expire(client, personas):
    response = attempt(client, personas.password)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor_name="viewer").exists()
    assert settings.SESSION_COOKIE_AGE == 12 * 3600 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_password_change_page(client, personas):
    client.force_login(personas.viewer)
    assert client.get("/account/password/").status_code == 200
    response = client.post(
        "/account/password/",
        {
            "old_password": personas.password,
            "new_password1": "Another-long-pw-42",
            "new_password2": "Another-long-pw-42",
        },
    )
    assert response.status_code == 302
    personas.viewer.refresh_from_db()
    assert personas.viewer.check_password("Another-long-pw-42")
    client.logout()
    assert client.get("/account/password/").status_code == 302
