"""The plan's fast canonical JSON (orjson) gives exactly the bytes of canonical_json.

Config hashes stored in states are compared with new ones (entries without ``config``),
so a faster encoder must never change a hash: for any JSON tree, ``_tree_json`` is
``canonical_json(...).encode()``, byte for byte, whichever path it takes.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deployments.spec.plan import _tree_json, canonical_json

# Text over all of ASCII (control characters, DEL, quotes, backslashes) plus some
# non-ASCII, keys included; numbers of every size and floats of every spelling.
_text = st.text(st.characters(max_codepoint=0x7F) | st.sampled_from("éß€😀\u2028"), max_size=12)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_trees = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(_text, _trees, max_size=5))
def test_the_fast_text_is_the_canonical_text(config: dict) -> None:
    assert _tree_json(config) == canonical_json(config).encode()


def test_typical_configs_take_the_fast_path_and_agree() -> None:
    config = {
        "kind": "MicroService",
        "service": "web",
        "region": "eu-west-1",
        "labels": {"team": "platform"},
        "spec": {"image": {"repository": "r.example.com/api", "tag": "1.2.3"}, "replicas": 2,
                 "ports": [{"name": "http", "port": 8080}], "tags": {}},
    }  # fmt: skip
    assert _tree_json(config) == canonical_json(config).encode()


def test_floats_and_non_ascii_text_agree() -> None:
    for value in (1e-07, 5.9e-05, 1e16, -0.0, 0.1, "naïve", "\x7f", {"b": 1, "a": [1.5]}):
        config = {"spec": {"v": value}}
        assert _tree_json(config) == canonical_json(config).encode()
