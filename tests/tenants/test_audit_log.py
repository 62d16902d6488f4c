import csv
import io
import json

from tenants import audit

URL = "/t/acme/audit/"


def events(personas):
    audit.record(
        action="stack.create", actor=personas.admin, tenant=personas.tenant, target="stack:shop"
    )
    audit.record(
        action="run.apply",
        actor=personas.deployer,
        tenant=personas.tenant,
        target="stack:shop/dev#1",
    )
    audit.record(
        action="stack.create", actor=personas.admin, tenant=personas.tenant, target="stack:other"
    )
    audit.record(
        action="secret.thing",
        actor=personas.outsider,
        tenant=personas.other_tenant,
        target="stack:theirs",
    )


def test_auditors_and_admins_filter_the_log(client, personas):
    events(personas)
    for persona in (personas.auditor, personas.admin):
        client.force_login(persona)
        page = client.get(URL).content.decode()
        assert "run.apply" in page and "secret.thing" not in page
        by_actor = client.get(URL + "?actor=deployer").content.decode()
        assert "run.apply" in by_actor and "stack:other" not in by_actor
        by_stack = client.get(URL + "?stack=other&action=stack.").content.decode()
        assert "stack:other" in by_stack and "stack:shop" not in by_stack
        assert "No events match" in client.get(URL + "?from=2999-01-01").content.decode()


def test_exports_carry_the_hashes_in_chain_order(client, personas):
    events(personas)
    client.force_login(personas.auditor)
    lines = b"".join(client.get(URL + "export.jsonl").streaming_content).decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["action"] for r in rows] == ["stack.create", "run.apply", "stack.create"]
    assert rows[1]["prev_hash"] == rows[0]["hash"] and rows[0]["prev_hash"] == ""
    text = b"".join(client.get(URL + "export.csv?action=run.").streaming_content).decode()
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == 1 and table[0]["action"] == "run.apply" and len(table[0]["hash"]) == 64
    assert client.get(URL + "export.xml").status_code == 404


def test_viewers_and_deployers_get_403_and_outsiders_404(client, personas):
    events(personas)
    for persona in (personas.viewer, personas.deployer):
        client.force_login(persona)
        assert client.get(URL).status_code == 403
        assert client.get(URL + "export.csv").status_code == 403
    client.force_login(personas.outsider)
    assert client.get(URL).status_code == 404
    client.force_login(personas.auditor)
    assert client.post(URL).status_code == 405
