"""IAM roles that components own (kinds.md, "Shared plumbing: IAM").

A generated role belongs to one component: created (or adopted) with it, its policies
converged on every apply, and deleted with it. Helpers here are shared by every
provisioner that needs a role; they only touch what they are told to manage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import unquote

from .base import Context, ProvisionError

T = TypeVar("T")

ROLE_LIMIT = 64
ROLE_CHARSET = r"A-Za-z0-9+=,.@_-"
POLICY_VERSION = "2012-10-17"

_MANAGED = "arn:aws:iam::aws:policy/service-role/"
ECS_TASK_EXECUTION_POLICY = _MANAGED + "AmazonECSTaskExecutionRolePolicy"
LAMBDA_BASIC_POLICY = _MANAGED + "AWSLambdaBasicExecutionRole"
LAMBDA_VPC_POLICY = _MANAGED + "AWSLambdaVPCAccessExecutionRole"
LAMBDA_SQS_POLICY = _MANAGED + "AWSLambdaSQSQueueExecutionRole"
LAMBDA_DYNAMODB_POLICY = _MANAGED + "AWSLambdaDynamoDBExecutionRole"

_LOG_WRITE = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
# What each AWS-managed policy grants, for emulators that do not ship them (moto loads
# them only with `iam.load_aws_managed_policies`, which costs seconds per reset). On real
# AWS the managed policy itself is attached and these copies are never used.
MANAGED_POLICY_COPIES: dict[str, list[str]] = {
    ECS_TASK_EXECUTION_POLICY: [
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ],
    LAMBDA_BASIC_POLICY: _LOG_WRITE,
    LAMBDA_VPC_POLICY: [
        *_LOG_WRITE,
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    ],
    LAMBDA_SQS_POLICY: [
        *_LOG_WRITE,
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ],
    LAMBDA_DYNAMODB_POLICY: [
        *_LOG_WRITE,
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ],
}
_COPY_PREFIX = "aws-managed-"

# How long a new role may take to become assumable (IAM is eventually consistent).
ASSUME_TIMEOUT = 30.0


def role_name(ctx: Context, suffix: str = "-role") -> str:
    """``<stack>-<env>-<service>-<component><suffix>`` within IAM's 64 characters."""
    return ctx.name(limit=ROLE_LIMIT, suffix=suffix, charset=ROLE_CHARSET)


def trust_policy(service: str) -> dict[str, Any]:
    """A trust policy that lets ``service`` (``lambda.amazonaws.com``) assume the role."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def allow(
    actions: list[str], resources: list[str] | str, condition: dict | None = None
) -> dict[str, Any]:
    """One Allow statement."""
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def tag_delta(
    current: Mapping[str, str], desired: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Tags to set and keys to remove so that ``current`` becomes ``desired``.

    ``aws:`` keys belong to AWS and are never touched. Shared by the compute provisioners.
    """
    to_set = {k: v for k, v in desired.items() if current.get(k) != v}
    to_remove = sorted(k for k in current if k not in desired and not k.startswith("aws:"))
    return to_set, to_remove


def document(value: Any) -> Any:
    """A policy document as a dict, whether AWS returned it decoded, as JSON or URL-encoded."""
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("{"):
            text = unquote(text)
        return json.loads(text) if text else None
    return value


def same_document(a: Any, b: Any) -> bool:
    return json.dumps(document(a), sort_keys=True) == json.dumps(document(b), sort_keys=True)


# --- roles ---------------------------------------------------------------------------------


def get_role(ctx: Context, name: str) -> dict[str, Any] | None:
    try:
        return ctx.call("iam", "get_role", RoleName=name)["Role"]
    except ProvisionError as exc:
        if exc.code == "NoSuchEntity":
            return None
        raise


def ensure_role(
    ctx: Context,
    name: str,
    *,
    service: str,
    managed: tuple[str, ...] = (),
    inline: Mapping[str, dict[str, Any]] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str = "",
) -> str:
    """Create or adopt role ``name`` and converge its trust policy, tags and policies.

    Attached managed policies become exactly ``managed`` and inline policies exactly
    ``inline`` (name -> document). An unchanged role costs only read calls. Returns the ARN.
    """
    trust = trust_policy(service)
    desired_tags = dict(tags or {})
    desired_managed, desired_inline = _substitute_missing_managed(ctx, managed, dict(inline or {}))
    role = get_role(ctx, name)
    if role is None:
        kwargs: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": json.dumps(trust),
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(desired_tags.items())],
        }
        if description:
            kwargs["Description"] = description[:1000]
        role = ctx.call("iam", "create_role", **kwargs)["Role"]
        ctx.log(f"created IAM role {name}")
        attached: set[str] = set()
        current_inline: dict[str, Any] = {}
    else:
        if not same_document(role.get("AssumeRolePolicyDocument"), trust):
            ctx.call(
                "iam", "update_assume_role_policy", RoleName=name, PolicyDocument=json.dumps(trust)
            )
        current_tags = {t["Key"]: t["Value"] for t in role.get("Tags") or []}
        to_set, to_remove = tag_delta(current_tags, desired_tags)
        if to_set:
            ctx.call(
                "iam",
                "tag_role",
                RoleName=name,
                Tags=[{"Key": k, "Value": v} for k, v in sorted(to_set.items())],
            )
        if to_remove:
            ctx.call("iam", "untag_role", RoleName=name, TagKeys=to_remove)
        attached = set(_attached_policies(ctx, name))
        current_inline = {
            policy_name: ctx.call("iam", "get_role_policy", RoleName=name, PolicyName=policy_name)[
                "PolicyDocument"
            ]
            for policy_name in _inline_policy_names(ctx, name)
        }
    for arn in sorted(desired_managed - attached):
        ctx.call("iam", "attach_role_policy", RoleName=name, PolicyArn=arn)
    for arn in sorted(attached - desired_managed):
        ctx.call("iam", "detach_role_policy", RoleName=name, PolicyArn=arn)
    for policy_name, doc in sorted(desired_inline.items()):
        if policy_name not in current_inline or not same_document(current_inline[policy_name], doc):
            ctx.call(
                "iam",
                "put_role_policy",
                RoleName=name,
                PolicyName=policy_name,
                PolicyDocument=json.dumps(doc),
            )
    for policy_name in sorted(set(current_inline) - set(desired_inline)):
        ctx.call("iam", "delete_role_policy", RoleName=name, PolicyName=policy_name)
    return role["Arn"]


def delete_role(ctx: Context, name: str) -> None:
    """Detach and delete the role's policies, then the role. A missing role is fine."""
    try:
        for arn in _attached_policies(ctx, name):
            _ignore_missing(
                lambda arn=arn: ctx.call("iam", "detach_role_policy", RoleName=name, PolicyArn=arn)
            )
        for policy_name in _inline_policy_names(ctx, name):
            _ignore_missing(
                lambda p=policy_name: ctx.call(
                    "iam", "delete_role_policy", RoleName=name, PolicyName=p
                )
            )
        ctx.call("iam", "delete_role", RoleName=name)
        ctx.log(f"deleted IAM role {name}")
    except ProvisionError as exc:
        if exc.code != "NoSuchEntity":
            raise


def retry_while_role_propagates(ctx: Context, action: Callable[[], T], *, what: str) -> T:
    """Run ``action``, retrying for up to ``ASSUME_TIMEOUT`` seconds while AWS says the
    role "cannot be assumed" (a new role takes a few seconds to reach Lambda)."""
    deadline = time.monotonic() + ASSUME_TIMEOUT
    # An emulator's IAM is consistent at once: there a short pause is all it takes.
    pause = 0.1 if ctx.aws.emulated else 2.0
    told = False
    while True:
        try:
            return action()
        except ProvisionError as exc:
            if "cannot be assumed" not in str(exc) or time.monotonic() + pause > deadline:
                raise
            if not told:
                ctx.log(
                    f"{what}: the role cannot be assumed yet (IAM is eventually consistent); retrying"
                )
                told = True
            time.sleep(pause)


# --- internals -----------------------------------------------------------------------------


def _attached_policies(ctx: Context, name: str) -> list[str]:
    arns: list[str] = []
    kwargs: dict[str, Any] = {"RoleName": name}
    while True:
        page = ctx.call("iam", "list_attached_role_policies", **kwargs)
        arns.extend(p["PolicyArn"] for p in page.get("AttachedPolicies", []))
        if not page.get("IsTruncated"):
            return arns
        kwargs["Marker"] = page["Marker"]


def _inline_policy_names(ctx: Context, name: str) -> list[str]:
    names: list[str] = []
    kwargs: dict[str, Any] = {"RoleName": name}
    while True:
        page = ctx.call("iam", "list_role_policies", **kwargs)
        names.extend(page.get("PolicyNames", []))
        if not page.get("IsTruncated"):
            return names
        kwargs["Marker"] = page["Marker"]


def _substitute_missing_managed(
    ctx: Context, managed: tuple[str, ...], inline: dict[str, dict[str, Any]]
) -> tuple[set[str], dict[str, dict[str, Any]]]:
    """On an emulator without AWS-managed policies, grant the same actions inline."""
    if not ctx.aws.emulated:
        return set(managed), inline
    kept: set[str] = set()
    for arn in managed:
        if arn in MANAGED_POLICY_COPIES and not _policy_exists(ctx, arn):
            inline[_COPY_PREFIX + arn.rsplit("/", 1)[-1]] = policy(
                allow(MANAGED_POLICY_COPIES[arn], "*")
            )
        else:
            kept.add(arn)
    return kept, inline


def _policy_exists(ctx: Context, arn: str) -> bool:
    try:
        ctx.call("iam", "get_policy", PolicyArn=arn)
        return True
    except ProvisionError as exc:
        if exc.code == "NoSuchEntity":
            return False
        raise


def _ignore_missing(action: Callable[[], Any]) -> None:
    try:
        action()
    except ProvisionError as exc:
        if exc.code != "NoSuchEntity":
            raise


# --- Lambda resource policies (who may invoke a function) ----------------------------------


def invoke_statements(ctx: Context, function: str) -> dict[str, dict[str, Any]]:
    """The function's resource-policy statements by Sid ({} when it has none)."""
    try:
        found = ctx.call("lambda", "get_policy", FunctionName=function)
    except ProvisionError as exc:
        if exc.code == "ResourceNotFoundException":
            return {}
        raise
    statements = (document(found.get("Policy")) or {}).get("Statement") or []
    return {s.get("Sid", ""): s for s in statements}


def ensure_invoke_permission(
    ctx: Context, function: str, sid: str, *, principal: str, source_arn: str
) -> None:
    """Let ``principal`` (``events.amazonaws.com``) invoke ``function`` from ``source_arn``,
    as statement ``sid``; nothing is called when the statement is already right."""
    have = invoke_statements(ctx, function).get(sid)
    if have is not None:
        condition = have.get("Condition") or {}
        source = (condition.get("ArnLike") or condition.get("ArnEquals") or {}).get("AWS:SourceArn")
        if source == source_arn and (have.get("Principal") or {}).get("Service") == principal:
            return
        remove_invoke_permission(ctx, function, sid)
    ctx.call(
        "lambda",
        "add_permission",
        FunctionName=function,
        StatementId=sid,
        Action="lambda:InvokeFunction",
        Principal=principal,
        SourceArn=source_arn,
    )


def remove_invoke_permission(ctx: Context, function: str, sid: str) -> None:
    """Revoke statement ``sid``; a missing function or statement is fine."""
    try:
        ctx.call("lambda", "remove_permission", FunctionName=function, StatementId=sid)
    except ProvisionError as exc:
        if exc.code != "ResourceNotFoundException":
            raise
