"""The safe loader: plain data, positions, and every parse problem as a finding."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deployments.spec import limits
from deployments.spec.loader import NodeBudget, _load_indexed, _load_plain, load_file, load_text

from .conftest import dedent


def load(text: str | bytes, name: str = "f.yaml"):
    return load_file(name, text, NodeBudget())


def only_doc(text: str):
    result = load(text)
    assert result.findings == []
    (doc,) = result.documents
    return doc


def test_plain_data_matches_pyyaml_for_ordinary_documents() -> None:
    text = dedent("""
        a: 1
        b: [x, 2.5, true, null, "3"]
        c: {d: -7, e: 'q'}
        f: |
          multi
          line
        """)
    assert only_doc(text).data == yaml.safe_load(text)


def test_yaml_1_1_words_and_timestamps_stay_strings_like_go() -> None:
    doc = only_doc("a: yes\nb: off\nc: 2024-01-01\nd: 0123\ne: 1_000\nf: True\ng: ~\n")
    assert doc.data == {
        "a": "yes",
        "b": "off",
        "c": "2024-01-01",
        "d": "0123",
        "e": "1_000",
        "f": True,
        "g": None,
    }


def test_numbers_keep_their_source_text_for_variables() -> None:
    doc = only_doc("v: 1.10\nn: 0x1F\n")
    assert doc.data == {"v": 1.1, "n": 31}
    assert doc.texts[("v",)] == "1.10"


def test_positions_of_keys_and_values_are_one_based() -> None:
    doc = only_doc("spec:\n  ports:\n    - name: http\n      port: 80\n")
    assert doc.position(("spec", "ports", 0, "port")) == (4, 13)
    assert doc.position(("spec", "ports", 0, "port"), key=True) == (4, 7)
    assert doc.position(("spec",), key=True) == (1, 1)


def test_a_missing_path_falls_back_to_its_nearest_written_ancestor() -> None:
    doc = only_doc("spec:\n  image:\n    repository: x\n")
    assert doc.position(("spec", "image", "tag")) == (2, 3)


def test_documents_are_split_by_the_parser_with_comments_crlf_and_empty_ones() -> None:
    text = "# leading comment\r\n---\r\na: 1\r\n---\r\n# only a comment\r\n---\r\nb: '---'\r\n"
    result = load(text)
    assert result.findings == []
    assert [d.data for d in result.documents] == [{"a": 1}, {"b": "---"}]
    assert result.documents[1].position(("b",)) == (7, 4)


def test_anchors_and_aliases_share_the_built_object() -> None:
    doc = only_doc("base: &b {x: 1}\nuse: *b\n")
    assert doc.data["use"] is doc.data["base"]
    assert doc.aliased


def test_merge_keys_merge_and_explicit_keys_win() -> None:
    doc = only_doc("d: &d {a: 1, b: 2}\ne:\n  <<: *d\n  b: 3\n")
    assert doc.data["e"] == {"a": 1, "b": 3}


def test_duplicate_keys_are_reported_at_the_second_key_and_the_first_value_wins() -> None:
    result = load("a: 1\nb: 2\na: 3\n")
    (finding,) = result.findings
    assert (finding.code, finding.line, finding.column) == ("duplicate-key", 3, 1)
    assert "first at line 1" in finding.message
    assert result.documents[0].data == {"a": 1, "b": 2}


def test_unsafe_tags_are_refused_and_never_constructed() -> None:
    result = load("a: !!python/object/apply:os.system ['echo pwned']\nb: !custom x\n")
    assert [(f.code, f.line) for f in result.findings] == [("unsafe-tag", 1), ("unsafe-tag", 2)]
    assert result.documents[0].data == {"a": None, "b": None}


def test_standard_tags_are_allowed() -> None:
    doc = only_doc("a: !!str 3\nb: !!int '7'\nc: !!float 1\nd: !!binary aGk=\n")
    assert doc.data == {"a": "3", "b": 7, "c": 1.0, "d": "aGk="}


def test_a_collection_used_as_a_key_is_reported() -> None:
    result = load("? [a, b]\n: 1\nc: 2\n")
    assert [f.code for f in result.findings] == ["invalid-key"]
    assert result.documents[0].data == {"c": 2}


def test_syntax_errors_become_findings_with_the_parser_position() -> None:
    result = load("a: 1\nb: [1, 2\nc: 3\n")
    (finding,) = result.findings
    assert finding.code == "yaml-syntax"
    assert finding.line == 3
    assert result.incomplete


def test_documents_before_a_syntax_error_are_kept() -> None:
    result = load("a: 1\n---\nb: : :\n")
    assert [d.data for d in result.documents] == [{"a": 1}]
    assert result.incomplete


def test_depth_is_limited_and_counted_through_aliases() -> None:
    deep = "a: " + "[" * (limits.MAX_DEPTH + 1) + "]" * (limits.MAX_DEPTH + 1) + "\n"
    assert [f.code for f in load(deep).findings] == ["too-deep"]
    half = limits.MAX_DEPTH // 2 + 2
    nested = "[" * half + "]" * half
    aliased = f"a: &x {nested}\nb: {'[' * half}*x{']' * half}\n"
    assert [f.code for f in load(aliased).findings] == ["too-deep"]


def test_the_alias_expanded_node_count_is_limited_per_document_and_per_stack() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 6):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    text = "\n".join(lines) + "\n"
    result = load_text("f.yaml", text, NodeBudget(alias_limit=10**9))
    assert [f.code for f in result.findings] == ["too-many-nodes"]
    assert result.findings[0].line == 5  # a4 is the first to pass 100,000 (10**5 nodes)
    assert "100,000 nodes" in result.findings[0].message

    budget = NodeBudget(limit=50)
    first = load_text("a.yaml", "x: [" + ", ".join(["1"] * 40) + "]\n", budget)
    second = load_text("b.yaml", "y: [" + ", ".join(["1"] * 40) + "]\n", budget)
    assert first.findings == []
    assert [f.code for f in second.findings] == ["too-many-nodes"]


def test_aliases_may_add_only_so_many_nodes_to_a_whole_stack() -> None:
    # Each document is small and far under 100,000 nodes, but every node the aliases
    # add is walked again by the schemas: the stack's total is capped.
    doc = "a: &a [" + ", ".join(["x"] * 99) + "]\nb: [" + ", ".join(["*a"] * 100) + "]\n"
    budget = NodeBudget()
    results = [load_text(f"{i}.yaml", doc, budget) for i in range(6)]
    assert [bool(r.findings) for r in results] == [False] * 5 + [True]
    assert "aliases in this stack repeat more than 50,000 nodes" in results[5].findings[0].message
    assert results[5].incomplete


def test_a_huge_integer_is_out_of_range_not_a_value_error() -> None:
    result = load("n: " + "9" * 5000 + "\nm: 9223372036854775808\nok: 9223372036854775807\n")
    assert [(f.code, f.line) for f in result.findings] == [
        ("number-out-of-range", 1),
        ("number-out-of-range", 2),
    ]
    assert result.documents[0].data == {"n": None, "m": None, "ok": 2**63 - 1}


def test_non_utf8_bytes_are_reported_with_their_position() -> None:
    result = load(b"a: 1\nb: caf\xe9\n")
    (finding,) = result.findings
    assert (finding.code, finding.line, finding.column) == ("not-utf8", 2, 7)
    assert result.documents == []


def test_a_utf8_bom_is_accepted() -> None:
    assert only_doc("\ufeffa: 1\n").data == {"a": 1}


def test_a_file_over_the_size_limit_is_not_parsed() -> None:
    result = load(b"a: " + b"x" * limits.MAX_FILE_BYTES)
    assert [f.code for f in result.findings] == ["too-large"]
    assert result.documents == []


def test_string_scalars_with_references_keep_their_source_span() -> None:
    text = 'a: "x ${B}"\n'
    doc = only_doc(text)
    start, end = doc.spans[("a",)]
    assert text[start:end] == '"x ${B}"'


# --- the plain loader (the fast path) against the indexing loader ----------------------

_REPO = Path(__file__).resolve().parents[2]
_CORPUS = [
    *sorted((_REPO / "examples").rglob("*.y*ml")),
    *sorted((_REPO.parent / "shared" / "fixtures" / "panka-examples").rglob("*.y*ml")),
]
_ODD = {
    "scalars": "a: 1\nb: 1.10\nc: 0x1F\nd: 0123\ne: ~\nf:\ng: True\nh: .inf\ni: -7\nj: '3'\n",
    "words": "a: [yes, off, null, Null, NULL, false, FALSE, 2024-01-01, +1, -.5, .NaN]\n",
    "references": 'a: "x ${B}"\nb: [y, "${C:-d}", {e: "$${F}"}]\nc: {d: {e: "${G}"}}\n',
    "nested": "a:\n  - b: [1, [2, {c: 3}]]\n    d: {e: [f, {g: h}]}\n  - [i, j]\n",
    "documents": "# c\r\n---\r\na: 1\r\n---\r\n---\r\nb: '---'\r\n...\r\n",
    "scalar documents": "--- 1\n--- x\n--- ''\n---\n",
    "block scalars": "a: |\n  x ${Y}\n  z\nb: >-\n  folded\n  text\n",
    "empty collections": "a: {}\nb: []\nc: [{}, []]\n",
    "keys": "\"a b\": 2\n3: 4\n? c\n: 5\n'x': 6\n",
    "quoted merge key": "'<<': 1\nb: 2\n",
}


def _plain_cases() -> dict[str, str]:
    cases = {str(p.relative_to(_REPO.parent)): p.read_text() for p in _CORPUS}
    cases.update(_ODD)
    return cases


@pytest.mark.parametrize("text", list(_plain_cases().values()), ids=list(_plain_cases()))
def test_the_plain_loader_gives_what_the_indexing_loader_gives(text: str) -> None:
    plain = _load_plain("f.yaml", text, NodeBudget())
    indexed = _load_indexed("f.yaml", text, NodeBudget())
    if plain is None:  # left to the indexing loader, which then is the only result
        assert load_text("f.yaml", text, NodeBudget()) == indexed
        return
    assert plain.findings == indexed.findings == []
    assert plain.incomplete == indexed.incomplete
    assert len(plain.documents) == len(indexed.documents)
    for a, b in zip(plain.documents, indexed.documents, strict=True):
        assert (a.index, a.data, a.nodes, a.aliased) == (b.index, b.data, b.nodes, b.aliased)
        assert list(a.data) == list(b.data) if isinstance(a.data, dict) else True  # key order
        assert a.texts == b.texts
        assert list(a.spans.items()) == list(b.spans.items())  # document order
        assert (a.values, a.keys) == (b.values, b.keys)  # built on first use, the same


def test_the_plain_loader_takes_the_ordinary_files() -> None:
    for name in ("scalars", "references", "nested", "documents", "keys", "block scalars"):
        assert _load_plain("f.yaml", _ODD[name], NodeBudget()) is not None, name


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchors and aliases
        "a: !!str 1\n",  # tags
        "d: {a: 1}\ne:\n  <<: {b: 2}\n",  # merge keys
        "a: 1\na: 2\n",  # duplicate keys
        "? [a]\n: 1\n",  # a collection as a key
        "n: 99999999999999999999\n",  # out of range
        "a: [1, 2\n",  # a syntax error
        "a: " + "[" * 70 + "]" * 70 + "\n",  # too deep
    ],
)
def test_anything_unusual_is_left_to_the_indexing_loader(text: str) -> None:
    assert _load_plain("f.yaml", text, NodeBudget()) is None


def test_the_plain_loader_charges_the_budget_only_for_a_whole_file() -> None:
    budget = NodeBudget(limit=50)
    assert _load_plain("a.yaml", "x: [" + ", ".join(["1"] * 40) + "]\n", budget) is not None
    assert budget.used == 43  # the mapping, its key, the list and its 40 items
    assert _load_plain("b.yaml", "y: [" + ", ".join(["1"] * 40) + "]\n", budget) is None
    assert budget.used == 43  # the indexing loader then reports it from the same budget
