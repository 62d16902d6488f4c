from deployments.services import save_revision
from tenants.models import AuditEvent

from .editor_fixtures import FILES, QUEUE_YAML, shop

BASE = "/t/acme/stacks/shop/revisions/"
PATH = "services/api/queue.yaml"


def two_revisions(personas):
    stack = shop(personas)
    save_revision(
        stack=stack,
        files={**FILES, PATH: QUEUE_YAML + "  delaySeconds: 5\n"},
        actor=personas.deployer,
        message="delay",
    )
    return stack


def test_the_list_shows_every_revision_newest_first(client, personas):
    two_revisions(personas)
    client.force_login(personas.viewer)
    page = client.get(BASE).content.decode()
    assert page.index('id="revision-2"') < page.index('id="revision-1"')
    assert "delay" in page


def test_the_diff_shows_the_changed_line_in_both_modes(client, personas):
    two_revisions(personas)
    client.force_login(personas.viewer)
    unified = client.get(BASE + "diff/?a=1&b=2").content.decode()
    assert "+  delaySeconds: 5" in unified and "modified" in unified
    split = client.get(BASE + "diff/?a=1&b=2&mode=split").content.decode()
    assert 'class="add">  delaySeconds: 5' in split


def test_a_diff_of_an_unknown_revision_is_404(client, personas):
    two_revisions(personas)
    client.force_login(personas.viewer)
    assert client.get(BASE + "diff/?a=1&b=9").status_code == 404
    assert client.get(BASE + "diff/?a=x&b=2").status_code == 404


def test_restore_creates_a_new_revision_with_the_old_content_and_an_audit_event(client, personas):
    stack = two_revisions(personas)
    client.force_login(personas.deployer)
    assert client.post(BASE + "1/restore/").status_code == 302
    restored = stack.revisions.get(number=3)
    assert restored.files == stack.revisions.get(number=1).files
    assert restored.message == "Restore revision 1"
    assert AuditEvent.objects.filter(action="revision.restore").count() == 1


def test_viewer_cannot_restore(client, personas):
    stack = two_revisions(personas)
    client.force_login(personas.viewer)
    assert client.post(BASE + "1/restore/").status_code == 403
    assert stack.revisions.count() == 2


def test_outsider_gets_404_everywhere(client, personas):
    two_revisions(personas)
    client.force_login(personas.outsider)
    for url in (BASE, BASE + "1/", BASE + "diff/?a=1&b=2"):
        assert client.get(url).status_code == 404
    assert client.post(BASE + "1/restore/").status_code == 404


def test_wrong_methods_are_refused(client, personas):
    two_revisions(personas)
    client.force_login(personas.deployer)
    assert client.post(BASE).status_code == 405
    assert client.get(BASE + "1/restore/").status_code == 405
