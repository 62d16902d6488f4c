"""Which files are parsed and which service folder each belongs to (format.md §2)."""

from __future__ import annotations

from deployments.spec.layout import normalise, plan_layout


def parsed(layout) -> list[tuple[str, str | None]]:
    return [(f.name, f.service) for f in layout.parsed]


def test_the_folder_layout_parses_stack_yaml_and_service_folders() -> None:
    layout = plan_layout(
        [
            "stack.yaml",
            "services/web/service.yaml",
            "services/web/app.yml",
            "services/web/config/nginx.conf",
            "services/web/config/x.yaml",
            "README.md",
        ]
    )
    assert layout.kind == "folder"
    assert parsed(layout) == [
        ("services/web/app.yml", "web"),
        ("services/web/service.yaml", "web"),
        ("stack.yaml", None),
    ]
    assert layout.stored == [
        "README.md",
        "services/web/config/nginx.conf",
        "services/web/config/x.yaml",
    ]
    assert layout.ignored == []


def test_a_zip_with_a_top_folder_is_rooted_at_its_stack_yaml() -> None:
    layout = plan_layout(["shop/stack.yaml", "shop/services/api/a.yaml"])
    assert layout.root == "shop/"
    assert parsed(layout) == [("shop/services/api/a.yaml", "api"), ("shop/stack.yaml", None)]


def test_yaml_files_outside_the_layout_are_ignored_with_a_reason() -> None:
    layout = plan_layout(["stack.yaml", "docs/notes.yaml", "services/web/deep/x.yaml"])
    assert layout.ignored == ["docs/notes.yaml", "services/web/deep/x.yaml"]


def test_one_file_is_the_single_file_layout_whatever_its_name() -> None:
    layout = plan_layout(["pasted.txt"])
    assert (layout.kind, parsed(layout)) == ("single-file", [("pasted.txt", None)])


def test_loose_files_without_stack_yaml_are_all_parsed() -> None:
    layout = plan_layout(["upload/a.yaml", "upload/b.yml"])
    assert layout.kind == "files"
    assert parsed(layout) == [("upload/a.yaml", None), ("upload/b.yml", None)]


def test_a_shared_services_prefix_is_not_mistaken_for_the_root() -> None:
    layout = plan_layout(["services/web/a.yaml", "services/web/b.yaml"])
    assert parsed(layout) == [("services/web/a.yaml", "web"), ("services/web/b.yaml", "web")]


def test_names_are_normalised() -> None:
    assert normalise(".\\services\\web\\a.yaml") == "services/web/a.yaml"
    assert normalise("./././stack.yaml") == "stack.yaml"
