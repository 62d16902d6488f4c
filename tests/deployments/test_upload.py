"""Uploads: every hostile input is refused with a message and stores nothing."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from deployments.models import Stack, StackRevision
from tenants.models import AuditEvent

from .editor_fixtures import FILES, shop

NEW = "/t/acme/stacks/new/"
UPLOAD = "/t/acme/stacks/shop/upload/"


def alias_bomb() -> bytes:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


def zip_of(entries: dict[str, bytes], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


HOSTILE_FILES = {
    "alias bomb": (alias_bomb(), 413),
    "nesting depth 10,000": (b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", 400),
    "100,000-digit integer": (b"a: " + b"9" * 100_000 + b"\n", 400),
    "python tag": (b"a: !!python/object/apply:os.system ['echo hi']\n", 400),
    "duplicate keys": (b"kind: Stack\nkind: Stack\n", 400),
    "non-UTF-8": (b"kind: St\xff\xfeack\n", 400),
    "10 MiB file": (b"# " + b"x" * (10 * 1024 * 1024) + b"\n", 413),
}

HOSTILE_ZIPS = {
    "absolute path": (zip_of({"/etc/stack.yaml": FILES["stack.yaml"].encode()}), 400),
    "parent path": (zip_of({"../stack.yaml": FILES["stack.yaml"].encode()}), 400),
    "link": (zip_of({"stack.yaml": FILES["stack.yaml"].encode()}, link="services/x.yaml"), 400),
    "expands past the limit": (zip_of({"stack.yaml": b"# " + b"0" * (3 * 1024 * 1024)}), 413),
}


def counts():
    return Stack.objects.count(), StackRevision.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize("case", sorted(HOSTILE_FILES))
def test_hostile_file_uploads_to_a_new_stack_are_refused(client, personas, case):
    data, status = HOSTILE_FILES[case]
    client.force_login(personas.deployer)
    before = counts()
    upload = SimpleUploadedFile("stack.yaml", data)
    response = client.post(NEW, {"name": "evil", "files": [upload]})
    assert response.status_code == status, response.content[:300]
    assert "upload-error" in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize("case", sorted(HOSTILE_ZIPS))
def test_hostile_zips_are_refused_for_an_existing_stack(client, personas, case):
    shop(personas)
    data, status = HOSTILE_ZIPS[case]
    client.force_login(personas.deployer)
    before = counts()
    response = client.post(UPLOAD, {"files": [SimpleUploadedFile("stack.zip", data)]})
    assert response.status_code == status, response.content[:300]
    assert "nothing was stored" in response.content.decode()
    assert counts() == before


def test_a_zip_of_a_stack_folder_keeps_the_folder_layout(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    files = {f"shop/{path}": text.encode() for path, text in FILES.items()}
    files["shop/services/api/config/app.conf"] = b"port=8080\n"
    client.post(
        UPLOAD, {"files": [SimpleUploadedFile("shop.zip", zip_of(files))], "message": "zip"}
    )
    revision = Stack.objects.get(name="shop").latest_revision()
    assert revision.number == 2 and revision.message == "zip"
    assert "services/api/config/app.conf" in "".join(revision.files)
    assert revision.error_count == 0


def test_several_yaml_files_create_a_stack(client, personas):
    client.force_login(personas.deployer)
    single = (
        FILES["stack.yaml"].replace("name: shop", "name: loose")
        + "---\n"
        + FILES["services/api/queue.yaml"].replace("name: orders", "name: orders\n  service: api")
    )
    response = client.post(
        NEW, {"name": "loose", "files": [SimpleUploadedFile("all.yaml", single.encode())]}
    )
    assert response.status_code == 302
    revision = Stack.objects.get(name="loose").latest_revision()
    assert list(revision.files) == ["all.yaml"] and revision.error_count == 0


def test_a_stack_with_ordinary_errors_is_stored_as_a_draft(client, personas):
    client.force_login(personas.deployer)
    text = FILES["stack.yaml"].replace("region: us-east-1", "region: ${NOPE}")
    response = client.post(
        NEW, {"name": "drafty", "files": [SimpleUploadedFile("stack.yaml", text.encode())]}
    )
    assert response.status_code == 302
    assert Stack.objects.get(name="drafty").latest_revision().is_draft


def test_a_new_stack_without_upload_starts_from_the_template(client, personas):
    client.force_login(personas.deployer)
    response = client.post(NEW, {"name": "fresh", "description": "from scratch"})
    assert response.status_code == 302
    revision = Stack.objects.get(name="fresh").latest_revision()
    assert "name: fresh" in revision.files["stack.yaml"] and revision.error_count == 0


def test_a_duplicate_or_invalid_name_is_refused(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    assert client.post(NEW, {"name": "shop"}).status_code == 400
    assert client.post(NEW, {"name": "Bad_Name"}).status_code == 400
    assert Stack.objects.count() == 1


def test_viewer_gets_403_and_outsider_404(client, personas):
    shop(personas)
    for persona, status in (
        (personas.viewer, 403),
        (personas.auditor, 403),
        (personas.outsider, 404),
    ):
        client.force_login(persona)
        assert client.get(NEW).status_code == status
        assert client.post(NEW, {"name": "x"}).status_code == status
        assert client.get(UPLOAD).status_code == status
    assert Stack.objects.count() == 1


def test_wrong_method_is_refused(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    assert client.put(NEW).status_code == 405
    assert client.delete(UPLOAD).status_code == 405
