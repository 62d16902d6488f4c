"""Issue 7's "done when", as a new user would try it: a tenant admin invites someone,
gives them deployer, and sees it in the audit log; the audit chain then verifies.

Only the login page and the invitation link (which the admin would send by email) are
opened by URL; everything else is reached by clicking visible links and buttons.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tenants.models import AuditEvent, Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "violet-harbour-93-quietly"


def test_an_admin_invites_a_deployer_and_sees_it_in_the_audit_log(
    browser, live_server, page, personas, artifacts
):
    # The admin signs in and lands on the tenant's home.
    page.goto("/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", personas.password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Acme")

    # Members tab → an invitation link for a viewer.
    page.click("nav.tabs >> text=Members")
    expect(page.locator("h1")).to_have_text("Members")
    invite = page.locator("section.card", has_text="Invite someone new")
    invite.locator("select[name=role]").select_option("viewer")
    invite.locator("button", has_text="Create invitation link").click()
    expect(page.locator(".messages")).to_contain_text("Invitation created")
    link = page.locator("#invitation-link").inner_text()
    assert link.startswith(live_server.url + "/invite/")

    # Someone new opens the link in their own browser, signs up and lands in the tenant.
    newcomer = browser.new_context(base_url=live_server.url)
    try:
        other = newcomer.new_page()
        other.set_default_timeout(10_000)
        other.goto(link)
        expect(other.locator("h1")).to_have_text("Join Acme")
        other.fill("input[name=username]", "dana")
        other.fill("input[name=email]", "dana@example.com")
        other.fill("input[name=password1]", NEW_PASSWORD)
        other.fill("input[name=password2]", NEW_PASSWORD)
        other.click("button:has-text('Sign up and join')")
        expect(other.locator("h1")).to_have_text("Acme")
        expect(other.locator(".messages")).to_contain_text("Welcome to Acme")
        expect(other.locator(".page-head .badge").first).to_have_text("viewer")
    finally:
        newcomer.close()

    # The admin sees the new member and makes them a deployer.
    page.reload()
    row = page.locator("#member-dana")
    expect(row).to_contain_text("dana@example.com")
    row.locator("select[name=role]").select_option("deployer")
    row.locator("button", has_text="Change").click()
    expect(page.locator(".messages")).to_contain_text("dana is now deployer")
    assert Membership.objects.get(user__username="dana").role == "deployer"

    # Back to the tenant, Audit log tab: the invitation, the join and the role change.
    page.click("nav.crumbs >> text=Acme")
    page.click("nav.tabs >> text=Audit log")
    expect(page.locator("h1")).to_have_text("Audit log")
    table = page.locator("table.table tbody")
    expect(table.locator("tr", has_text="member.invite")).to_contain_text("role=viewer")
    joined = table.locator("tr", has_text="member.join")
    expect(joined).to_contain_text("dana")
    expect(joined).to_contain_text("user:dana")
    changed = table.locator("tr", has_text="member.role")
    expect(changed).to_contain_text("admin")  # the actor
    expect(changed).to_contain_text("from=viewer")
    expect(changed).to_contain_text("to=deployer")
    page.screenshot(path=str(artifacts / "invite-audit-log.png"), full_page=True)

    # And the chain those events extend is intact.
    actions = list(
        AuditEvent.objects.filter(tenant=personas.tenant).values_list("action", flat=True)
    )
    assert actions[-3:] == ["member.invite", "member.join", "member.role"]
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "acme:" in out.getvalue() and "chain intact" in out.getvalue()
