"""While PostgreSQL or Redis is down the web answers 503 with a message, not a 500 with a
traceback (the real outages are in tests/integration/test_faults.py)."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

from deployments.views import stacks


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (OperationalError("server closed the connection unexpectedly"), "The database cannot"),
        (RedisConnectionError("Error 111 connecting to 127.0.0.1:6379"), "The job queue cannot"),
    ],
)
def test_an_outage_is_a_503_page_with_a_message(personas, client, monkeypatch, error, message):
    def down(*args, **kwargs):
        raise error

    monkeypatch.setattr(stacks, "get_tenant_for_user", down)
    client.force_login(personas.viewer)
    response = client.get(reverse("tenant_home", args=["acme"]))
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert message in body and "Traceback" not in body and str(error) not in body
    partial = client.get(reverse("tenant_home", args=["acme"]), headers={"HX-Request": "true"})
    assert partial.status_code == 503 and "<html" not in partial.content.decode()
    assert message in partial.content.decode()
    # htmx puts it in the page's alert region, not in the element it meant to update.
    assert (partial["HX-Retarget"], partial["HX-Reswap"]) == ("#request-alert", "innerHTML")


def test_other_errors_are_not_dressed_up_as_outages(personas, client, monkeypatch):
    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(stacks, "get_tenant_for_user", bug)
    client.force_login(personas.viewer)
    with pytest.raises(ZeroDivisionError):
        client.get(reverse("tenant_home", args=["acme"]))
