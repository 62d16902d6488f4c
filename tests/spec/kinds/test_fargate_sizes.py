"""Fargate cpu/memory combinations, with `256m` and `Mi`/`Gi` spellings."""

from __future__ import annotations

import pytest

from ._support import check, only_error, valid

GIB = 1024
VALID = {
    256: [512, 1024, 2048],
    512: [n * GIB for n in range(1, 5)],
    1024: [n * GIB for n in range(2, 9)],
    2048: [n * GIB for n in range(4, 17)],
    4096: [n * GIB for n in range(8, 31)],
}
COMBINATIONS = [(cpu, mem) for cpu, mems in VALID.items() for mem in mems]
INVALID = [
    (256, 256), (256, 1536), (256, 3072),
    (512, 512), (512, 5 * GIB), (512, 1536),
    (1024, 1 * GIB), (1024, 9 * GIB), (1024, 2560),
    (2048, 3 * GIB), (2048, 17 * GIB),
    (4096, 7 * GIB), (4096, 31 * GIB), (4096, 8704),
]  # fmt: skip


@pytest.mark.parametrize("kind", ["MicroService", "Worker", "CronJob"])
@pytest.mark.parametrize("cpu, memory", COMBINATIONS)
def test_every_valid_fargate_combination_is_accepted(kind, cpu, memory):
    config = valid(check(kind, {("runtime",): {"cpu": cpu, "memory": memory}})).config()
    assert (config["runtime"]["cpu"], config["runtime"]["memory"]) == (cpu, memory)


@pytest.mark.parametrize("cpu, memory", INVALID)
def test_memory_outside_the_range_of_the_cpu_is_an_invalid_combination(cpu, memory):
    issue = only_error(check("MicroService", {("runtime",): {"cpu": cpu, "memory": memory}}))
    assert (issue.code, issue.path) == ("invalid-combination", ("runtime", "memory"))
    assert f"`runtime.cpu` {cpu}" in issue.message and "allowed:" in issue.message


@pytest.mark.parametrize(
    "cpu, memory", [(256, 512), (512, 1024), (1024, 2048), (2048, 4096), (4096, 8192)]
)
def test_memory_defaults_to_the_smallest_size_valid_for_the_cpu(cpu, memory):
    assert (
        valid(check("MicroService", {("runtime",): {"cpu": cpu}})).config()["runtime"]["memory"]
        == memory
    )


def test_the_default_task_size_is_256_cpu_and_512_mib():
    runtime = valid(check("MicroService")).config()["runtime"]
    assert (runtime["cpu"], runtime["memory"]) == (256, 512)


@pytest.mark.parametrize("cpu, memory, expected", [
    ("256m", "512Mi", (256, 512)),
    ("1024", "2Gi", (1024, 2048)),
    (" 512m ", "0.5Gi", None),  # 512 MiB with 512 cpu: parsed, then an invalid combination
    ("4096", "30Gi", (4096, 30720)),
    ("256", "2048", (256, 2048)),
    (512, "4096Mi", (512, 4096)),
    ("256", "1gi", (256, 1024)),
])  # fmt: skip
def test_cpu_and_memory_accept_their_suffixed_spellings(cpu, memory, expected):
    result = check("MicroService", {("runtime",): {"cpu": cpu, "memory": memory}})
    if expected is None:
        assert only_error(result).code == "invalid-combination"
    else:
        runtime = valid(result).config()["runtime"]
        assert (runtime["cpu"], runtime["memory"]) == expected


@pytest.mark.parametrize("cpu", [128, 300, 8192, "1vcpu", "0.25", "256mm", True])
def test_a_cpu_outside_the_fargate_sizes_is_refused(cpu):
    issue = only_error(check("MicroService", {("runtime", "cpu"): cpu}))
    assert issue.path == ("runtime", "cpu")
    assert issue.code in ("invalid-value", "invalid-type")


@pytest.mark.parametrize("memory", ["2GB", "1.3Gi", "-512", 0, "lots"])
def test_memory_that_is_not_mib_or_a_mi_gi_size_is_refused(memory):
    issue = only_error(check("MicroService", {("runtime", "memory"): memory}))
    assert issue.path == ("runtime", "memory")
    assert issue.code == "invalid-value"
