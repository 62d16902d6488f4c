"""RDS provisioner against the emulator: instance and Aurora create, adopt, update, delete, drift."""

from __future__ import annotations

import json

import pytest

from deployments.aws.clients import client
from deployments.aws.provisioners import ProvisionError, provisioner_for
from deployments.aws.provisioners.rds import master_password, names_for, parameter_family

from .conftest import config_of, state_entry

PASSWORD = "s3cret-Pa55word-xyz"


def spec(**overrides):
    base = {
        "engine": {
            "type": "postgres",
            "version": "15",
            "parameters": {"log_min_duration_statement": "500"},
        },
        "instance": {"class": "db.t3.micro", "storage": {"allocatedGB": 20, "maxAllocatedGB": 100}},
        "database": {"name": "app", "username": "app", "passwordSecret": {"ref": "shop/db"}},
        "tags": {"owner": "payments"},
    }
    base.update(overrides)
    return base


def aurora_spec(**overrides):
    aurora = {
        "engine": {
            "type": "aurora-postgresql",
            "version": "15",
            "parameters": {"log_min_duration_statement": "250"},
        },
        "instance": {"class": "db.r6g.large"},
    }
    return spec(**{**aurora, **overrides})


@pytest.fixture
def rds(aws):
    return client(aws, "rds")


@pytest.fixture
def secret(aws):
    client(aws, "secretsmanager").create_secret(
        Name="shop/db", SecretString=json.dumps({"username": "app", "password": PASSWORD})
    )


def tags_of(rds, arn):
    return {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=arn)["TagList"]}


def user_parameters(rds, group, *, cluster=False):
    if cluster:
        params = rds.describe_db_cluster_parameters(
            DBClusterParameterGroupName=group, Source="user"
        )["Parameters"]
    else:
        params = rds.describe_db_parameters(DBParameterGroupName=group, Source="user")["Parameters"]
    return {p["ParameterName"]: p["ParameterValue"] for p in params}


def create(make_ctx, config):
    ctx = make_ctx("RDS", "db")
    return ctx, provisioner_for("RDS").create(ctx, config)


def test_create_makes_an_encrypted_private_instance_in_its_subnet_group(make_ctx, rds, secret):
    config = config_of("RDS", spec())
    ctx, outcome = create(make_ctx, config)

    ident = "shop-dev-svc-db"
    assert outcome.id == ident
    db = rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
    assert (db["Engine"], db["EngineVersion"], db["DBInstanceClass"]) == (
        "postgres",
        "15",
        "db.t3.micro",
    )
    assert (db["AllocatedStorage"], db["MaxAllocatedStorage"], db["StorageType"]) == (
        20,
        100,
        "gp3",
    )
    assert db["StorageEncrypted"] is True
    assert db["PubliclyAccessible"] is False
    assert db["MultiAZ"] is False
    assert db["BackupRetentionPeriod"] == 7
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == ident
    assert len(db["DBSubnetGroup"]["Subnets"]) >= 2
    default_sg = client(ctx.aws, "ec2").describe_security_groups(
        Filters=[
            {"Name": "group-name", "Values": ["default"]},
            {"Name": "vpc-id", "Values": [db["DBSubnetGroup"]["VpcId"]]},
        ]
    )["SecurityGroups"][0]["GroupId"]
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == [default_sg]
    assert db["DBParameterGroups"][0]["DBParameterGroupName"] == "shop-dev-svc-db-postgres15"
    assert user_parameters(rds, "shop-dev-svc-db-postgres15") == {
        "log_min_duration_statement": "500"
    }
    tags = tags_of(rds, db["DBInstanceArn"])
    assert tags["owner"] == "payments" and tags["team"] == "platform"
    assert (
        tags["panka:kind"] == "RDS"
        and tags["panka:resource"] == "db"
        and tags["panka:managed"] == "true"
    )

    assert outcome.attributes == {
        "instance_id": ident,
        "endpoint": db["Endpoint"]["Address"],
        "port": 5432,
        "arn": db["DBInstanceArn"],
        "database_name": "app",
    }
    assert ":" not in outcome.attributes["endpoint"]
    assert PASSWORD not in repr(outcome) and PASSWORD not in "\n".join(ctx.logs)


def test_password_comes_from_json_password_key_or_plain_text(make_ctx, aws, rds):
    secrets = client(aws, "secretsmanager")
    secrets.create_secret(Name="json", SecretString=json.dumps({"password": "from-json-1"}))
    secrets.create_secret(Name="plain", SecretString="plain-text-1")
    secrets.create_secret(Name="nopass", SecretString=json.dumps({"user": "x"}))
    ctx = make_ctx("RDS", "db")

    assert master_password(ctx, "json") == "from-json-1"
    assert master_password(ctx, "plain") == "plain-text-1"
    with pytest.raises(ProvisionError, match="without a non-empty `password` key"):
        master_password(ctx, "nopass")
    with pytest.raises(ProvisionError, match="get_secret_value: ResourceNotFoundException"):
        create(make_ctx, config_of("RDS", spec()))  # shop/db does not exist
    assert rds.describe_db_instances()["DBInstances"] == []


def test_create_again_adopts_and_an_unchanged_update_makes_no_mutating_calls(make_ctx, rds, secret):
    config = config_of("RDS", spec())
    _, first = create(make_ctx, config)

    ctx, second = create(make_ctx, config)
    assert second == first
    assert ctx.mutating_calls == 0
    assert any("adopting" in line for line in ctx.logs)
    assert len(rds.describe_db_instances()["DBInstances"]) == 1

    ctx = make_ctx("RDS", "db")
    assert provisioner_for("RDS").update(ctx, config, state_entry("RDS", first, config)) == first
    assert ctx.mutating_calls == 0


def test_create_refuses_an_instance_panka_did_not_make(make_ctx, rds, secret):
    rds.create_db_instance(
        DBInstanceIdentifier="shop-dev-svc-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="someone",
        MasterUserPassword="elsewhere-1",
    )
    with pytest.raises(ProvisionError, match="not created by Panka"):
        create(make_ctx, config_of("RDS", spec()))


def test_update_changes_class_storage_retention_parameters_tags_and_password(
    make_ctx, aws, rds, secret
):
    config = config_of("RDS", spec())
    _, outcome = create(make_ctx, config)
    client(aws, "secretsmanager").create_secret(
        Name="shop/db2", SecretString="rotated-Pa55word-abc"
    )
    changed = config_of(
        "RDS",
        spec(
            engine={"type": "postgres", "version": "15", "parameters": {"work_mem": "65536"}},
            instance={
                "class": "db.t3.small",
                "storage": {"allocatedGB": 30, "maxAllocatedGB": 100},
                "multiAZ": True,
            },
            database={"name": "app", "username": "app", "passwordSecret": {"ref": "shop/db2"}},
            backup={"retentionDays": 3},
            tags={"cost-center": "42"},
        ),
    )
    ctx = make_ctx("RDS", "db")

    after = provisioner_for("RDS").update(ctx, changed, state_entry("RDS", outcome, config))

    db = rds.describe_db_instances(DBInstanceIdentifier="shop-dev-svc-db")["DBInstances"][0]
    assert (
        db["DBInstanceClass"],
        db["AllocatedStorage"],
        db["BackupRetentionPeriod"],
        db["MultiAZ"],
    ) == (
        "db.t3.small",
        30,
        3,
        True,
    )
    modified = next(line for line in ctx.logs if line.startswith("modified RDS instance"))
    assert "MasterUserPassword" in modified
    assert "rotated-Pa55word-abc" not in "\n".join(ctx.logs) + repr(after)
    # moto has no reset_db_parameter_group: the dropped parameter stays there (logged).
    assert user_parameters(rds, "shop-dev-svc-db-postgres15")["work_mem"] == "65536"
    assert any("cannot reset" in line for line in ctx.logs)
    tags = tags_of(rds, db["DBInstanceArn"])
    assert tags["cost-center"] == "42" and "owner" not in tags and tags["panka:resource"] == "db"
    assert after.attributes == outcome.attributes


def test_major_upgrade_moves_to_a_parameter_group_of_the_new_family(make_ctx, rds, secret):
    config = config_of("RDS", spec())
    _, outcome = create(make_ctx, config)
    upgraded = config_of(
        "RDS",
        spec(engine={"type": "postgres", "version": "16", "parameters": {"work_mem": "65536"}}),
    )
    ctx = make_ctx("RDS", "db")

    provisioner_for("RDS").update(ctx, upgraded, state_entry("RDS", outcome, config))

    db = rds.describe_db_instances(DBInstanceIdentifier="shop-dev-svc-db")["DBInstances"][0]
    assert db["EngineVersion"] == "16"
    assert db["DBParameterGroups"][0]["DBParameterGroupName"] == "shop-dev-svc-db-postgres16"
    assert user_parameters(rds, "shop-dev-svc-db-postgres16") == {"work_mem": "65536"}
    groups = {
        g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
    }
    assert "shop-dev-svc-db-postgres15" not in groups
    modified = next(line for line in ctx.logs if line.startswith("modified RDS instance"))
    assert "AllowMajorVersionUpgrade" in modified


def test_read_reports_drift_then_delete_snapshots_and_removes_everything(make_ctx, rds, secret):
    config = config_of(
        "RDS", spec(instance={"class": "db.t3.micro", "storage": {"allocatedGB": 20}})
    )
    _, outcome = create(make_ctx, config)
    entry = state_entry("RDS", outcome, config)
    provisioner = provisioner_for("RDS")

    assert provisioner.read(make_ctx("RDS", "db"), entry).fields == {
        "instance.class": "db.t3.micro",
        "instance.storage.allocatedGB": 20,
        "instance.multiAZ": False,
        "backup.enabled": True,
        "backup.retentionDays": 7,
    }
    rds.modify_db_instance(
        DBInstanceIdentifier="shop-dev-svc-db",
        DBInstanceClass="db.t3.large",
        BackupRetentionPeriod=1,
        ApplyImmediately=True,
    )
    observed = provisioner.read(make_ctx("RDS", "db"), entry).fields
    assert observed["instance.class"] == "db.t3.large" and observed["backup.retentionDays"] == 1

    provisioner.delete(make_ctx("RDS", "db"), entry)

    assert rds.describe_db_instances()["DBInstances"] == []
    assert rds.describe_db_subnet_groups()["DBSubnetGroups"] == []
    groups = rds.describe_db_parameter_groups()["DBParameterGroups"]
    assert "shop-dev-svc-db-postgres15" not in {g["DBParameterGroupName"] for g in groups}
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier="shop-dev-svc-db")["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"].startswith("shop-dev-svc-db-final-") for s in snapshots] == [
        True
    ]
    assert provisioner.read(make_ctx("RDS", "db"), entry) is None
    provisioner.delete(make_ctx("RDS", "db"), entry)  # already gone is fine


def test_mysql_without_backups_deletes_without_a_final_snapshot(make_ctx, rds, secret):
    engine = {"type": "mysql", "version": "8.0", "parameters": {"max_connections": "200"}}
    config = config_of("RDS", spec(engine=engine, backup={"enabled": False}))
    _, outcome = create(make_ctx, config)
    db = rds.describe_db_instances()["DBInstances"][0]
    assert (db["Engine"], db["BackupRetentionPeriod"], outcome.attributes["port"]) == (
        "mysql",
        0,
        3306,
    )
    assert db["DBParameterGroups"][0]["DBParameterGroupName"] == "shop-dev-svc-db-mysql8-0"

    provisioner_for("RDS").delete(make_ctx("RDS", "db"), state_entry("RDS", outcome, config))

    assert rds.describe_db_instances()["DBInstances"] == []
    assert rds.describe_db_snapshots()["DBSnapshots"] == []
    groups = {
        g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
    }
    assert "shop-dev-svc-db-mysql8-0" not in groups


def test_aurora_creates_a_cluster_and_a_writer(make_ctx, rds, secret):
    config = config_of("RDS", aurora_spec())
    ctx, outcome = create(make_ctx, config)

    cluster = rds.describe_db_clusters(DBClusterIdentifier="shop-dev-svc-db")["DBClusters"][0]
    assert cluster["Engine"] == "aurora-postgresql" and cluster["StorageEncrypted"] is True
    assert cluster["DBSubnetGroup"] == "shop-dev-svc-db"
    assert cluster["DBClusterParameterGroup"] == "shop-dev-svc-db-aurora-postgresql15"
    assert user_parameters(rds, "shop-dev-svc-db-aurora-postgresql15", cluster=True) == {
        "log_min_duration_statement": "250"
    }
    assert [
        (m["DBInstanceIdentifier"], m["IsClusterWriter"]) for m in cluster["DBClusterMembers"]
    ] == [("shop-dev-svc-db-writer", True)]
    writer = rds.describe_db_instances(DBInstanceIdentifier="shop-dev-svc-db-writer")[
        "DBInstances"
    ][0]
    assert writer["DBInstanceClass"] == "db.r6g.large" and writer["PubliclyAccessible"] is False
    assert tags_of(rds, cluster["DBClusterArn"])["panka:resource"] == "db"

    assert outcome.id == "shop-dev-svc-db"
    assert outcome.attributes == {
        "instance_id": "shop-dev-svc-db-writer",
        "endpoint": cluster["Endpoint"],
        "port": 5432,
        "arn": cluster["DBClusterArn"],
        "database_name": "app",
        "cluster_id": "shop-dev-svc-db",
        "reader_endpoint": cluster["ReaderEndpoint"],
    }
    assert PASSWORD not in repr(outcome) and PASSWORD not in "\n".join(ctx.logs)


def test_aurora_adopts_updates_and_reads(make_ctx, rds, secret):
    config = config_of("RDS", aurora_spec())
    _, outcome = create(make_ctx, config)
    ctx, again = create(make_ctx, config)
    assert again == outcome and ctx.mutating_calls == 0
    assert (
        len(rds.describe_db_clusters()["DBClusters"])
        == len(rds.describe_db_instances()["DBInstances"])
        == 1
    )
    entry = state_entry("RDS", outcome, config)
    noop = make_ctx("RDS", "db")
    provisioner_for("RDS").update(noop, config, entry)
    assert noop.mutating_calls == 0

    changed = config_of(
        "RDS", aurora_spec(instance={"class": "db.r6g.xlarge"}, backup={"retentionDays": 14})
    )
    provisioner_for("RDS").update(make_ctx("RDS", "db"), changed, entry)

    assert provisioner_for("RDS").read(make_ctx("RDS", "db"), entry).fields == {
        "instance.class": "db.r6g.xlarge",
        "backup.retentionDays": 14,
    }


def test_aurora_delete_removes_writer_cluster_and_groups_with_a_final_snapshot(
    make_ctx, rds, secret
):
    config = config_of("RDS", aurora_spec())
    _, outcome = create(make_ctx, config)
    entry = state_entry("RDS", outcome, config)

    provisioner_for("RDS").delete(make_ctx("RDS", "db"), entry)

    assert rds.describe_db_instances()["DBInstances"] == []
    assert rds.describe_db_clusters()["DBClusters"] == []
    assert rds.describe_db_subnet_groups()["DBSubnetGroups"] == []
    groups = rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
    assert "shop-dev-svc-db-aurora-postgresql15" not in {
        g["DBClusterParameterGroupName"] for g in groups
    }
    snapshots = rds.describe_db_cluster_snapshots(
        DBClusterIdentifier="shop-dev-svc-db", SnapshotType="manual"
    )
    assert [
        s["DBClusterSnapshotIdentifier"].startswith("shop-dev-svc-db-final-")
        for s in snapshots["DBClusterSnapshots"]
    ] == [True]
    assert provisioner_for("RDS").read(make_ctx("RDS", "db"), entry) is None


@pytest.mark.parametrize(
    ("engine", "version", "family"),
    [
        ("postgres", "15", "postgres15"),
        ("postgres", "14.7", "postgres14"),
        ("postgres", "9.6.24", "postgres9.6"),
        ("mysql", "8.0.35", "mysql8.0"),
        ("mysql", "8", "mysql8.0"),
        ("mariadb", "10.11", "mariadb10.11"),
        ("aurora-postgresql", "15.4", "aurora-postgresql15"),
        ("aurora-mysql", "8.0.mysql_aurora.3.04.0", "aurora-mysql8.0"),
    ],
)
def test_parameter_family_comes_from_engine_and_version(engine, version, family):
    assert parameter_family(engine, version) == family


def test_long_names_are_hashed_within_63_characters(make_ctx):
    ctx = make_ctx(
        "RDS",
        "a-really-long-component-name-for-the-orders-database",
        service="checkout-and-payments",
    )
    names = names_for(ctx, aurora=True)
    for name in (names.base, names.writer):
        assert len(name) <= 63 and "--" not in name and not name.endswith("-")
    assert names.writer.endswith("-writer")
