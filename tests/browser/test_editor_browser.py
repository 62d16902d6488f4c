"""The editor as a user meets it: type, see the error on its line, fix it, save, diff."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.deployments.editor_fixtures import shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Acme")


def test_live_validation_save_and_diff_in_a_real_browser(page, personas, artifacts):
    shop(personas)
    log_in(page, "deployer", personas.password)
    page.goto("/t/acme/stacks/shop/edit/?file=services/api/queue.yaml")
    editor = page.locator(".cm-content")
    expect(editor).to_be_visible()
    expect(page.locator("#findings h2")).to_have_text("No errors")

    # Type a reference to an undefined variable at the end of the file (line 7).
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("  visibilityTimeout: ${UNDEFINED_TIMEOUT}")
    finding = page.locator("#findings .finding.error", has_text="unresolved-variable")
    expect(finding).to_be_visible(timeout=2_000)
    expect(finding.locator(".finding-link")).to_contain_text("services/api/queue.yaml:7:")
    expect(
        page.locator(".cm-lint-marker-error, .cm-gutterElement .pk-marker-error").first
    ).to_be_visible()
    page.screenshot(path=str(artifacts / "editor-with-findings.png"), full_page=True)

    # Fix it: the error clears.
    for _ in range(len("${UNDEFINED_TIMEOUT}")):
        page.keyboard.press("Backspace")
    page.keyboard.type("60")
    expect(page.locator("#findings h2")).to_have_text("No errors", timeout=2_000)

    page.fill("input[name=message]", "visibility timeout of one minute")
    page.click("#save-button")
    expect(page.locator(".messages")).to_contain_text("Saved revision 2")

    page.click("nav.tabs >> text=Revisions")
    expect(page.locator("#revision-2")).to_contain_text("visibility timeout of one minute")
    page.click("text=Compare selected")
    expect(page.locator("table.diff")).to_contain_text("visibilityTimeout: 60")


def test_an_outage_during_live_validation_is_said_and_then_cleared(page, personas, monkeypatch):
    """The database goes away while someone types: the 503's message shows in the page's
    alert region (htmx would otherwise drop a 503), the findings panel stays, and the
    next answered keystroke clears the message."""
    from django.db import OperationalError

    from deployments import editing

    shop(personas)
    log_in(page, "deployer", personas.password)
    page.goto("/t/acme/stacks/shop/edit/?file=services/api/queue.yaml")
    editor = page.locator(".cm-content")
    expect(page.locator("#findings h2")).to_have_text("No errors")
    alert = page.locator("#request-alert")
    expect(alert).to_be_hidden()

    real = editing.open_draft

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(editing, "open_draft", down)
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("  visibilityTimeout: ${UNDEFINED_TIMEOUT}")
    expect(alert).to_contain_text("The database cannot be reached right now", timeout=3_000)
    expect(page.locator("#findings h2")).to_have_text("No errors")  # untouched, still there

    monkeypatch.setattr(editing, "open_draft", real)
    page.keyboard.type(" ")
    finding = page.locator("#findings .finding.error", has_text="unresolved-variable")
    expect(finding).to_be_visible(timeout=3_000)
    expect(alert).to_be_hidden()
