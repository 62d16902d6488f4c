"""RDS: engine, instance, storage, database, backup and maintenance."""

from __future__ import annotations

import pytest

from ._support import DROP, check, errors, only_error, valid


def test_a_full_postgres_instance_validates_and_normalises():
    config = valid(check("RDS", {
        ("engine",): {"type": "postgres", "version": "14.7", "parameters": {"max_connections": 200}},
        ("instance",): {"class": "db.r6g.2xlarge", "storage": {"type": "io1", "allocatedGB": "500", "maxAllocatedGB": 1000},
                        "iops": "3000", "multiAZ": "true"},
        ("backup",): {"enabled": True, "retentionDays": "14", "preferredWindow": "03:00-04:00",
                      "maintenanceWindow": "Sun:05:00-Sun:06:00"},
        ("maintenance",): {"autoMinorVersionUpgrade": False},
    })).config()  # fmt: skip
    assert config["engine"]["parameters"] == {"max_connections": "200"}
    assert config["instance"] == {"class": "db.r6g.2xlarge", "storage": {"type": "io1", "allocatedGB": 500,
                                  "maxAllocatedGB": 1000}, "iops": 3000, "multiAZ": True}  # fmt: skip
    assert config["backup"]["maintenanceWindow"] == "sun:05:00-sun:06:00"
    assert config["maintenance"] == {"autoMinorVersionUpgrade": False}
    assert config["database"]["port"] == 5432


@pytest.mark.parametrize("engine, port", [("postgres", 5432), ("aurora-postgresql", 5432), ("mysql", 3306),
                                          ("mariadb", 3306), ("aurora-mysql", 3306)])  # fmt: skip
def test_the_port_defaults_by_engine(engine, port):
    assert valid(check("RDS", {("engine", "type"): engine})).config()["database"]["port"] == port


def test_the_engine_type_is_one_of_five():
    issue = only_error(check("RDS", {("engine", "type"): "oracle-ee"}))
    assert (issue.code, issue.path) == ("invalid-value", ("engine", "type"))
    assert "`aurora-postgresql`" in issue.message


@pytest.mark.parametrize("version, ok", [("15", True), (15, True), ("8.0.35", True), ("8.0.mysql_aurora.3.04.0", True),
                                         ("latest", False), ("", False)])  # fmt: skip
def test_the_engine_version_is_a_version_number(version, ok):
    assert (check("RDS", {("engine", "version"): version}).model is not None) is ok


def test_a_parameter_group_and_parameters_exclude_each_other():
    issue = only_error(
        check("RDS", {("engine", "parameterGroup"): "mine", ("engine", "parameters"): {"a": "1"}})
    )
    assert (issue.code, issue.path) == ("invalid-combination", ("engine", "parameterGroup"))
    valid(check("RDS", {("engine", "parameterGroup"): "mine"}))


@pytest.mark.parametrize("cls", ["t3.micro", "db.t3", "cache.t3.micro", "db.T3.micro"])
def test_the_instance_class_is_db_family_size(cls):
    issue = only_error(check("RDS", {("instance", "class"): cls}))
    assert (issue.code, issue.path) == ("invalid-value", ("instance", "class"))


def test_allocated_storage_is_required_except_for_aurora():
    issue = only_error(check("RDS", {("instance", "storage"): DROP}))
    assert (issue.code, issue.path) == ("missing-field", ("instance",))
    assert "`instance.storage.allocatedGB` is required for engine `postgres`" in issue.message
    issue = only_error(check("RDS", {("instance", "storage"): {"type": "gp2"}}))
    assert issue.path == ("instance", "storage")
    valid(check("RDS", {("engine", "type"): "aurora-postgresql", ("instance", "storage"): DROP}))


def test_max_allocated_storage_must_exceed_allocated():
    issue = only_error(check("RDS", {("instance", "storage", "maxAllocatedGB"): 20}))
    assert (issue.code, issue.path) == ("invalid-value", ("instance", "storage", "maxAllocatedGB"))


@pytest.mark.parametrize("kind", ["io1", "io2"])
def test_provisioned_iops_storage_needs_iops(kind):
    issue = only_error(check("RDS", {("instance", "storage", "type"): kind}))
    assert (issue.code, issue.path) == ("missing-field", ("instance",))
    valid(
        check("RDS", {("instance", "storage", "type"): kind, ("instance", "storage", "iops"): 1000})
    )


def test_iops_written_under_storage_is_the_same_setting():
    config = valid(
        check("RDS", {("instance", "storage"): {"type": "io2", "allocatedGB": 100, "iops": 2000}})
    ).config()
    assert config["instance"]["iops"] == 2000 and "iops" not in config["instance"]["storage"]
    issue = only_error(
        check(
            "RDS",
            {
                ("instance", "storage"): {"type": "io1", "allocatedGB": 100, "iops": 2000},
                ("instance", "iops"): 3000,
            },
        )
    )
    assert (issue.code, issue.path) == ("invalid-combination", ("instance", "storage", "iops"))


def test_gp3_iops_below_400_gb_accepts_only_the_baseline_which_is_not_sent():
    config = valid(
        check("RDS", {("instance", "storage", "allocatedGB"): 100, ("instance", "iops"): 3000})
    ).config()
    assert config["instance"]["iops"] is None
    issue = only_error(
        check("RDS", {("instance", "storage", "allocatedGB"): 100, ("instance", "iops"): 4000})
    )
    assert (issue.code, issue.path) == ("invalid-combination", ("instance", "iops"))
    config = valid(
        check("RDS", {("instance", "storage", "allocatedGB"): 400, ("instance", "iops"): 12000})
    ).config()
    assert config["instance"]["iops"] == 12000


def test_gp2_takes_no_iops():
    issue = only_error(
        check("RDS", {("instance", "storage", "type"): "gp2", ("instance", "iops"): 3000})
    )
    assert (issue.code, issue.path) == ("invalid-combination", ("instance", "iops"))


@pytest.mark.parametrize("name, ok", [("app", True), ("App_1", True), ("1app", False), ("my-app", False),
                                      ("a" * 63, True), ("a" * 64, False)])  # fmt: skip
def test_database_names_start_with_a_letter_and_have_at_most_63_characters(name, ok):
    result = check("RDS", {("database", "name"): name})
    assert (result.model is not None) is ok
    if not ok:
        assert errors(result) == [("invalid-value", ("database", "name"))]


@pytest.mark.parametrize("engine", ["mysql", "mariadb", "aurora-mysql"])
def test_mysql_family_usernames_have_at_most_16_characters(engine):
    valid(check("RDS", {("engine", "type"): engine, ("database", "username"): "u" * 16}))
    issue = only_error(
        check("RDS", {("engine", "type"): engine, ("database", "username"): "u" * 17})
    )
    assert (issue.code, issue.path) == ("invalid-value", ("database", "username"))
    valid(check("RDS", {("database", "username"): "u" * 40}))  # postgres: no such limit


def test_the_username_starts_with_a_letter():
    issue = only_error(check("RDS", {("database", "username"): "_admin"}))
    assert (issue.code, issue.path) == ("invalid-value", ("database", "username"))


def test_the_password_secret_ref_is_required():
    issue = only_error(check("RDS", {("database", "passwordSecret"): {}}))
    assert (issue.code, issue.path) == ("missing-field", ("database", "passwordSecret"))


@pytest.mark.parametrize("window, ok", [("03:00-04:00", True), ("23:30-00:30", True), ("3:00-4:00", False),
                                        ("24:00-01:00", False), ("03:00", False)])  # fmt: skip
def test_the_backup_window_is_hh_mm_hh_mm(window, ok):
    assert (check("RDS", {("backup", "preferredWindow"): window}).model is not None) is ok


@pytest.mark.parametrize("window, ok", [("mon:04:00-mon:05:00", True), ("SAT:23:00-sun:01:00", True),
                                        ("monday:04:00-monday:05:00", False), ("mon:4:00-mon:5:00", False),
                                        ("04:00-05:00", False)])  # fmt: skip
def test_the_maintenance_window_is_ddd_hh_mm_ddd_hh_mm(window, ok):
    assert (check("RDS", {("backup", "maintenanceWindow"): window}).model is not None) is ok
    assert (check("RDS", {("maintenance", "preferredWindow"): window}).model is not None) is ok


def test_maintenance_preferred_window_is_another_spelling_of_the_maintenance_window():
    config = valid(
        check("RDS", {("maintenance",): {"preferredWindow": "mon:04:00-mon:05:00"}})
    ).config()
    assert config["backup"]["maintenanceWindow"] == "mon:04:00-mon:05:00"
    assert config["maintenance"] == {"autoMinorVersionUpgrade": True}
    issue = only_error(
        check(
            "RDS",
            {
                ("maintenance",): {"preferredWindow": "mon:04:00-mon:05:00"},
                ("backup",): {"maintenanceWindow": "tue:04:00-tue:05:00"},
            },
        )
    )
    assert (issue.code, issue.path) == ("invalid-combination", ("maintenance", "preferredWindow"))


def test_merging_the_window_never_leaks_into_other_specs():
    valid(check("RDS", {("maintenance",): {"preferredWindow": "mon:04:00-mon:05:00"}}))
    assert valid(check("RDS")).config()["backup"]["maintenanceWindow"] is None
