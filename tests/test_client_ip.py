"""Behind the TLS proxy, logins are counted and audited per browser, not per proxy."""

from __future__ import annotations

from django.test import RequestFactory

from panka_web.client_ip import client_ip
from tenants.models import AuditEvent


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_proxy_the_peer_is_the_browser_and_headers_are_ignored(settings):
    settings.PANKA_PROXY_COUNT = 0
    assert client_ip(request_from("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_one_proxy_its_entry_counts_and_a_forged_one_does_not(settings):
    settings.PANKA_PROXY_COUNT = 1
    assert client_ip(request_from("10.0.0.2", "198.51.100.1")) == "198.51.100.1"
    # The browser sent "X-Forwarded-For: 1.2.3.4"; the proxy appended what it saw.
    assert client_ip(request_from("10.0.0.2", "1.2.3.4, 198.51.100.1")) == "198.51.100.1"
    assert client_ip(request_from("10.0.0.2")) == "10.0.0.2"


def test_behind_two_proxies_the_outer_ones_entry_counts(settings):
    settings.PANKA_PROXY_COUNT = 2
    assert client_ip(request_from("10.0.0.3", "1.2.3.4, 198.51.100.1, 10.0.0.2")) == (
        "198.51.100.1"
    )


def test_one_browsers_failures_do_not_lock_out_another_behind_the_same_proxy(
    client, personas, settings
):
    settings.PANKA_PROXY_COUNT = 1

    def attempt(browser: str, password: str):
        return client.post(
            "/login/",
            {"username": "viewer", "password": password},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=browser,
        )

    for _ in range(5):
        attempt("198.51.100.66", "nope")
    assert attempt("198.51.100.66", personas.password).status_code == 429
    assert attempt("198.51.100.7", personas.password).status_code == 302
    failed = AuditEvent.objects.filter(action="auth.login_failed").first()
    assert failed.source_ip == "198.51.100.66"
