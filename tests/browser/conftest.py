"""A real browser: Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-output"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(
            "Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)"
        )
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between browser steps are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


# Every page of every browser test runs under the real Content-Security-Policy: the
# browser reports each blocked script, style or image as a `securitypolicyviolation`
# event, which this script hands to Python (and Chromium also logs it to the console).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__pankaCspViolation({
    directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample,
    source: e.sourceFile + ":" + e.lineNumber, page: location.href,
  });
});
"""


def watch_csp(context, violations: list[str], base_url: str) -> None:
    """Record in ``violations`` every CSP violation in ``context``'s pages, and every page
    of ours served without the header (a test that forgot it would prove nothing)."""
    context.expose_function("__pankaCspViolation", lambda v: violations.append(f"violation: {v}"))
    context.add_init_script(_CSP_LISTENER)

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"console: {message.text}")

    def on_response(response) -> None:
        request = response.request
        ours = request.resource_type == "document" and request.url.startswith(base_url)
        if ours and "content-security-policy" not in response.headers:
            violations.append(f"no Content-Security-Policy header on {request.url}")

    context.on("console", on_console)
    context.on("response", on_response)


@pytest.fixture
def csp_violations() -> list[str]:
    """What the ``page`` fixture's browser reported against the CSP; empty at the end, or
    the test fails. A test that provokes a violation on purpose clears it."""
    return []


@pytest.fixture
def page(browser, live_server, csp_violations):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    watch_csp(context, csp_violations, live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    if not page.is_closed():
        page.evaluate("0")  # a round trip: reports still in flight arrive first
    context.close()
    assert not csp_violations, "the Content-Security-Policy blocked something:\n" + "\n".join(
        csp_violations
    )


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
