"""S3: a bucket with tagging, versioning, encryption, lifecycle and CORS."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PlainValidator

from .base import ComponentSpec, ListRules, RuledModel, Rules, SpecModel, na, section
from .common import AnyMapping, Bool, Enum, IntStar, NonEmptyStr, Str, StrMap, fail, to_str
from .results import SpecIssue
from .syntax import bucket_name_problem

ACLS = ("private", "public-read", "public-read-write", "authenticated-read")
STORAGE_CLASSES = ("STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE")
IA_MIN_DAYS = 30


def _bucket_name(value: object) -> str | None:
    text = to_str(value)
    if text == "":
        return None  # "" means generated
    problem = bucket_name_problem(text)
    if problem:
        raise fail("invalid-value", problem)
    return text


class Bucket(SpecModel):
    name: Annotated[str | None, PlainValidator(_bucket_name)] = None
    # Only `private` is applied; the rest are NA (warned below). Left out of config()
    # because every bucket is private whatever is written.
    acl: Enum(*ACLS) = Field("private", exclude=True)
    forceDestroy: Bool = False
    tags: StrMap = Field(default_factory=dict)

    @classmethod
    def raw_check(cls, data: dict, path: tuple, issues: list) -> None:
        acl = data.get("acl")
        if isinstance(acl, str) and acl in ACLS and acl != "private":
            issues.append(
                SpecIssue(
                    "warning",
                    "not-applied",
                    path + ("acl",),
                    f"`bucket.acl` `{acl}` is not applied: buckets are always private in this version",
                )
            )


class Versioning(SpecModel):
    enabled: Bool = False


class Encryption(RuledModel):
    enabled: Bool = True
    algorithm: Enum("AES256", "aws:kms") = "AES256"
    kmsKeyId: NonEmptyStr | None = None

    def check(self, rules: Rules) -> None:
        if self.kmsKeyId is not None and self.algorithm != "aws:kms":
            rules.add(
                "invalid-combination",
                ("kmsKeyId",),
                "`{p}kmsKeyId` is only allowed with `{p}algorithm: aws:kms`",
                ("algorithm", "kmsKeyId"),
            )


class Days(SpecModel):
    days: IntStar(1)


class Transition(RuledModel):
    days: IntStar(0)
    storageClass: Enum(*STORAGE_CLASSES)

    def check(self, rules: Rules) -> None:
        if self.storageClass.endswith("_IA") and self.days < IA_MIN_DAYS:
            rules.add(
                "invalid-value",
                ("days",),
                f"`{{p}}days` must be at least {IA_MIN_DAYS} for `{self.storageClass}` (got {self.days})",
                ("days", "storageClass"),
            )


class LifecycleRule(RuledModel):
    id: NonEmptyStr
    enabled: Bool = True
    prefix: Str = ""  # "" = every object
    expiration: Days | None = None
    noncurrentVersionExpiration: Days | None = None
    transitions: list[Transition] = Field(default_factory=list)

    def check(self, rules: Rules) -> None:
        if (
            self.expiration is None
            and self.noncurrentVersionExpiration is None
            and not self.transitions
        ):
            rules.missing(
                (),
                "an action is required: `{p}expiration`, `{p}noncurrentVersionExpiration` or `{p}transitions`",
                ("expiration", "noncurrentVersionExpiration", "transitions"),
            )


class Cors(SpecModel):
    allowedOrigins: Annotated[list[NonEmptyStr], ListRules(min_n=1, what="origins")]
    allowedMethods: Annotated[
        list[Enum("GET", "PUT", "POST", "DELETE", "HEAD")], ListRules(min_n=1, what="methods")
    ]
    allowedHeaders: list[NonEmptyStr] = Field(default_factory=list)
    exposeHeaders: list[NonEmptyStr] = Field(default_factory=list)
    maxAgeSeconds: IntStar(0) | None = None


class S3Spec(ComponentSpec):
    bucket: Bucket = section(Bucket)
    versioning: Versioning = section(Versioning)
    encryption: Encryption = section(Encryption)
    lifecycle: Annotated[list[LifecycleRule], ListRules(unique="id")] = Field(default_factory=list)
    cors: Cors | None = None
    website: AnyMapping | None = na()
    replication: AnyMapping | None = na()
    publicAccessBlock: AnyMapping | None = na()


S3_OUTPUTS = ("bucket_name", "arn", "region", "domain_name")


def s3_replace(old: dict, new: dict) -> str | None:
    # A change of the stack region also replaces; core sees that, not the S3 config.
    if (old.get("bucket") or {}).get("name") != (new.get("bucket") or {}).get("name"):
        return "bucket.name"
    return None
