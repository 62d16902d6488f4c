"""DynamoDB: a table with optional indexes, TTL, PITR and a stream."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainValidator

from .base import ComponentSpec, ListRules, RuledModel, Rules, SpecModel, section
from .common import Bool, Checked, Enum, IntStar, NonEmptyStr, fail, to_str
from .syntax import table_name_problem

MAX_INDEXES = 20
PROVISIONED = "PROVISIONED"
DEFAULT_VIEW_TYPE = "NEW_AND_OLD_IMAGES"
AttrType = Enum("S", "N", "B")


class KeyAttr(SpecModel):
    name: NonEmptyStr
    type: AttrType


class IndexKeyAttr(SpecModel):
    """An index key: ``{name, type}``, or just the attribute name, whose type then comes
    from the table's keys or another index."""

    name: NonEmptyStr
    type: AttrType | None = None


def _index_key(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value  # the shorthand


IndexKey = Annotated[IndexKeyAttr, BeforeValidator(_index_key)]


def _table_name(value: object) -> str | None:
    text = to_str(value)
    if text == "":
        return None  # "" means generated
    problem = table_name_problem(text)
    if problem:
        raise fail("invalid-value", problem)
    return text


class Index(RuledModel):
    name: Checked(table_name_problem)  # index names follow the table-name rule
    hashKey: IndexKey
    rangeKey: IndexKey | None = None
    projection: Enum("ALL", "KEYS_ONLY", "INCLUDE")
    nonKeyAttributes: list[NonEmptyStr] | None = None
    readCapacity: IntStar(1) | None = None
    writeCapacity: IntStar(1) | None = None

    def check(self, rules: Rules) -> None:
        both = ("projection", "nonKeyAttributes")
        if self.projection == "INCLUDE" and not self.nonKeyAttributes:
            rules.missing((), "`{p}nonKeyAttributes` is required with projection `INCLUDE`", both)
        elif self.projection != "INCLUDE" and self.nonKeyAttributes is not None:
            rules.add(
                "invalid-combination",
                ("nonKeyAttributes",),
                f"`{{p}}nonKeyAttributes` is only allowed with projection `INCLUDE`, not `{self.projection}`",
                both,
            )


class Ttl(RuledModel):
    enabled: Bool = False
    attributeName: NonEmptyStr | None = None

    def check(self, rules: Rules) -> None:
        if self.enabled and self.attributeName is None:
            rules.missing(
                (),
                "`{p}attributeName` is required when `{p}enabled` is true",
                ("enabled", "attributeName"),
            )


class Encryption(RuledModel):
    enabled: Bool = False  # off: the AWS-owned key
    kmsKey: NonEmptyStr | None = None

    def check(self, rules: Rules) -> None:
        if self.kmsKey is not None and not self.enabled:
            rules.add(
                "invalid-combination",
                ("kmsKey",),
                "`{p}kmsKey` needs `{p}enabled: true`",
                ("enabled", "kmsKey"),
            )


class Stream(RuledModel):
    enabled: Bool = False
    viewType: Enum("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY") | None = None

    def check(self, rules: Rules) -> None:
        if self.enabled and self.viewType is None:
            self.viewType = DEFAULT_VIEW_TYPE  # kinds.md gives no default; AWS needs one


class DynamoDBSpec(ComponentSpec):
    billingMode: Enum("PAY_PER_REQUEST", PROVISIONED) = "PAY_PER_REQUEST"
    tableName: Annotated[str | None, PlainValidator(_table_name)] = None
    hashKey: KeyAttr
    rangeKey: KeyAttr | None = None
    readCapacity: IntStar(1) | None = None
    writeCapacity: IntStar(1) | None = None
    globalSecondaryIndexes: Annotated[
        list[Index], ListRules(unique="name", max_n=MAX_INDEXES, what="indexes")
    ] = Field(default_factory=list)
    ttl: Ttl = section(Ttl)
    encryption: Encryption = section(Encryption)
    pointInTimeRecovery: Bool = False
    stream: Stream = section(Stream)

    def check(self, rules: Rules) -> None:
        provisioned = self.billingMode == PROVISIONED
        _capacity(
            rules, (), self, provisioned, "", ("billingMode", "readCapacity", "writeCapacity")
        )
        for i, index in enumerate(self.globalSecondaryIndexes):
            where = f"globalSecondaryIndexes[{i}]."
            _capacity(
                rules,
                ("globalSecondaryIndexes", i),
                index,
                provisioned,
                where,
                ("billingMode", "globalSecondaryIndexes"),
            )
        self._attribute_types(rules)

    def _attribute_types(self, rules: Rules) -> None:
        """One type per attribute name across the table and its indexes; fills in the type
        of an index key written as a bare name."""
        involves = ("hashKey", "rangeKey", "globalSecondaryIndexes")
        keys: list[tuple[tuple, str, Any]] = [(("hashKey",), "hashKey", self.hashKey)]
        if self.rangeKey is not None:
            keys.append((("rangeKey",), "rangeKey", self.rangeKey))
        for i, index in enumerate(self.globalSecondaryIndexes):
            for attr in ("hashKey", "rangeKey"):
                key = getattr(index, attr)
                if key is not None:
                    keys.append(
                        (
                            ("globalSecondaryIndexes", i, attr),
                            f"globalSecondaryIndexes[{i}].{attr}",
                            key,
                        )
                    )
        types: dict[str, tuple[str, str]] = {}  # attribute -> (type, where it was set)
        for path, where, key in keys:
            if key.type is None:
                continue
            seen = types.setdefault(key.name, (key.type, where))
            if seen[0] != key.type:
                rules.add(
                    "invalid-combination",
                    path + ("type",),
                    f"`{where}.type` makes attribute `{key.name}` type {key.type}, but `{seen[1]}` "
                    f"made it {seen[0]}; an attribute keeps one type",
                    involves,
                )
        for path, where, key in keys:
            if key.type is None:
                known = types.get(key.name)
                if known is None:
                    rules.missing(
                        path,
                        f"`{where}.type` is required: attribute `{key.name}` has no type elsewhere "
                        "in the table (write `{name, type}`)",
                        involves,
                    )
                else:
                    key.type = known[0]


def _capacity(
    rules: Rules, path: tuple, owner: Any, provisioned: bool, prefix: str, involves: tuple
) -> None:
    for name in ("readCapacity", "writeCapacity"):
        value = getattr(owner, name)
        if provisioned and value is None:
            rules.missing(
                path, f"`{prefix}{name}` is required with billingMode `PROVISIONED`", involves
            )
        elif not provisioned and value is not None:
            rules.add(
                "invalid-combination",
                path + (name,),
                f"`{prefix}{name}` is not allowed with billingMode `PAY_PER_REQUEST`",
                involves,
            )


DYNAMODB_OUTPUTS = ("table_name", "arn", "stream_arn")
_NO_STREAM = frozenset(DYNAMODB_OUTPUTS[:2])
_WITH_STREAM = frozenset(DYNAMODB_OUTPUTS)


def dynamodb_available(model: DynamoDBSpec) -> frozenset[str]:
    return _WITH_STREAM if model.stream.enabled else _NO_STREAM


def dynamodb_replace(old: dict, new: dict) -> str | None:
    for name in ("hashKey", "rangeKey", "tableName"):
        if old.get(name) != new.get(name):
            return name
    return None
