"""Reading folders, files and zip uploads safely (format.md §7)."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from deployments.spec import limits
from deployments.spec.sources import SourceError, read_folder, read_path, read_zip


def make_zip(members: dict[str, bytes], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def refused(data: bytes) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read_zip(data)
    return caught.value


def test_a_zip_of_a_stack_folder_is_read_with_its_paths() -> None:
    data = make_zip(
        {"shop/stack.yaml": b"a: 1\n", "shop/services/web/x.yaml": b"b: 2\n", "shop/": b""}
    )
    assert read_zip(data) == {"shop/stack.yaml": b"a: 1\n", "shop/services/web/x.yaml": b"b: 2\n"}


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../up.yaml", "a/../../up.yaml", "C:/windows.yaml", "..\\win.yaml"]
)
def test_absolute_and_parent_paths_are_refused(name: str) -> None:
    error = refused(make_zip({name: b"a: 1\n"}))
    assert [f.code for f in error.findings] == ["unsafe-path"]
    assert error.status == 400


def test_links_are_refused() -> None:
    error = refused(make_zip({"stack.yaml": b"a: 1\n"}, link="services/web/link.yaml"))
    assert [f.code for f in error.findings] == ["unsafe-path"]
    assert "symbolic link" in error.findings[0].message


def test_a_zip_bomb_is_refused_by_its_uncompressed_size() -> None:
    error = refused(make_zip({"a.yaml": b"0" * (limits.MAX_ZIP_UNCOMPRESSED_BYTES + 1)}))
    assert ([f.code for f in error.findings], error.status) == (["too-large"], 413)


def test_a_member_over_the_file_limit_is_read_only_up_to_the_limit() -> None:
    files = read_zip(make_zip({"a.yaml": b"x" * (limits.MAX_FILE_BYTES + 50_000)}))
    assert len(files["a.yaml"]) == limits.MAX_FILE_BYTES + 1  # enough to report too-large


def test_too_many_members_are_refused() -> None:
    error = refused(make_zip({f"f{i}.yaml": b"" for i in range(limits.MAX_FILES + 1)}))
    assert error.status == 413


def test_not_a_zip_is_an_invalid_archive() -> None:
    assert [f.code for f in refused(b"PK\x03\x04 but not really").findings] == ["invalid-archive"]


def test_a_folder_is_read_without_hidden_entries_or_links(tmp_path: Path) -> None:
    (tmp_path / "services" / "web").mkdir(parents=True)
    (tmp_path / "stack.yaml").write_text("a: 1\n")
    (tmp_path / "services" / "web" / "x.yaml").write_text("b: 2\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("secret")
    os.symlink("/etc/hostname", tmp_path / "services" / "web" / "link.yaml")
    assert read_folder(tmp_path) == {"stack.yaml": b"a: 1\n", "services/web/x.yaml": b"b: 2\n"}


def test_read_path_reads_a_file_a_folder_or_a_zip(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text("a: 1\n")
    (tmp_path / "s.zip").write_bytes(make_zip({"stack.yaml": b"b: 2\n"}))
    assert read_path(tmp_path / "one.yaml") == {"one.yaml": b"a: 1\n"}
    assert read_path(tmp_path / "s.zip") == {"stack.yaml": b"b: 2\n"}
    assert set(read_path(tmp_path)) == {"one.yaml", "s.zip"}
    with pytest.raises(SourceError):
        read_path(tmp_path / "missing")
