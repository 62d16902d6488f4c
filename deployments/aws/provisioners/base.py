"""The contract every provisioner keeps, and the plumbing they share.

A provisioner turns one component's normalised config (``ValidatedSpec.config()`` from
the format engine: plain JSON, defaults filled) into real AWS resources and back:

- ``create(ctx, config) -> Outcome``: make the resources. Idempotent: when a resource
  with the generated name (or our ``panka:*`` tags) already exists — a crash after AWS
  created it but before the state was saved — adopt it instead of making a second one.
- ``update(ctx, config, previous) -> Outcome``: change in place what AWS allows.
  ``previous`` is the component's state entry (format.md §8: ``id``, ``attributes``,
  ``config`` — the config it was last applied with).
- ``delete(ctx, previous) -> None``: remove everything ``create`` made. A resource that
  is already gone is not an error.
- ``read(ctx, previous) -> Observed | None``: what AWS reports now, for drift (None =
  the resource is missing).

Every AWS call goes through ``ctx.call(client, "operation", **kwargs)``: it checks the
lock lease first (a holder that lost its lease stops before its next AWS call), retries
throttling and 5xx with backoff, counts mutating calls, and turns botocore errors into
:class:`ProvisionError` with the AWS message. Provisioners never import Django.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from ..clients import AwsSettings, client
from ..errors import AwsError

# Error codes that mean "try again later"; anything else fails the component at once.
TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
    }
)
_READ_PREFIXES = ("get_", "describe_", "list_", "head_")


class ProvisionError(AwsError):
    """A component could not be provisioned. ``code`` is the AWS error code, if any."""

    def __init__(self, message: str, *, code: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.operation = operation


class LeaseLost(AwsError):
    """The stack lock's lease was lost: stop before touching AWS again."""


@dataclass(frozen=True, slots=True)
class Network:
    """Where VPC-attached resources go: the tenant's private subnets, or the default VPC."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    is_default_vpc: bool = True


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a create/update produced: the AWS physical id and the outputs (snake_case
    canonical names, as in kinds.md), stored in the state's ``attributes``."""

    id: str
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Observed:
    """What ``read`` found: the managed fields as AWS reports them, keyed by the same
    dotted paths as the config (``visibilityTimeout``, ``ttl.enabled``)."""

    fields: dict[str, Any]


@dataclass
class Context:
    """Everything a provisioner may use for one component."""

    aws: AwsSettings  # endpoint + region of the *stack's* AWS (provider.region)
    tenant: str
    stack: str
    environment: str
    service: str
    component: str
    kind: str
    labels: Mapping[str, str] = field(default_factory=dict)
    # component name -> its state entry, for resolving valueFrom and component refs
    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    network: Network | None = None
    log: Callable[[str], None] = lambda message: None
    ensure_lease: Callable[[], None] = lambda: None
    mutating_calls: int = 0
    # Seconds to sleep between retries; tests and benchmarks may shorten it.
    backoff: float = 0.5
    attempts: int = 5

    # --- names and tags --------------------------------------------------------------

    def name(self, *, limit: int, suffix: str = "", charset: str = r"A-Za-z0-9_-") -> str:
        """``<stack>-<env>-<service>-<component>[suffix]`` within ``limit`` (kinds.md, Naming)."""
        return physical_name(
            f"{self.stack}-{self.environment}-{self.service}-{self.component}",
            limit=limit,
            suffix=suffix,
            charset=charset,
        )

    @property
    def cluster_name(self) -> str:
        """The stack's ECS cluster: ``<stack>-<env>``."""
        return physical_name(f"{self.stack}-{self.environment}", limit=255)

    def tags(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Labels and component tags, under Panka's system tags (which always win)."""
        tags = {**self.labels, **(extra or {})}
        tags.update(
            {
                "panka:tenant": self.tenant,
                "panka:stack": self.stack,
                "panka:env": self.environment,
                "panka:environment": self.environment,
                "panka:service": self.service,
                "panka:resource": self.component,
                "panka:component": self.component,
                "panka:kind": self.kind,
                "panka:managed": "true",
            }
        )
        return tags

    def tag_list(
        self, extra: Mapping[str, str] | None = None, *, key: str = "Key", value: str = "Value"
    ) -> list[dict[str, str]]:
        return [{key: k, value: v} for k, v in sorted(self.tags(extra).items())]

    # --- references ------------------------------------------------------------------

    def output_of(self, component: str, output: str) -> Any:
        """A dependency's output from the state (valueFrom), by canonical or camelCase name."""
        from deployments.spec.kinds import canonical_output

        entry = self.resources.get(component)
        if entry is None:
            raise ProvisionError(f"{component} is not in the state yet; it must be applied first")
        name = canonical_output(str(entry.get("type", "")), output) or output
        attributes = entry.get("attributes") or {}
        if name not in attributes:
            raise ProvisionError(f"{component} has no output {output!r} in the state")
        return attributes[name]

    # --- AWS calls -------------------------------------------------------------------

    def client(self, service: str) -> Any:
        return client(self.aws, service)

    def call(self, service: str, operation: str, /, **kwargs: Any) -> dict[str, Any]:
        """One AWS call with lease check, retries of transient errors and error mapping.

        ``service`` and ``operation`` are positional-only: ECS operations take a keyword
        argument named ``service`` of their own."""
        api = self.client(service)
        method = getattr(api, operation)
        mutating = not operation.startswith(_READ_PREFIXES)
        for attempt in range(1, self.attempts + 1):
            self.ensure_lease()
            try:
                result = method(**kwargs)
                if mutating:
                    self.mutating_calls += 1
                return result
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code = str(error.get("Code", ""))
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if (code in TRANSIENT_CODES or status >= 500) and attempt < self.attempts:
                    self._sleep(attempt)
                    continue
                raise ProvisionError(
                    f"{service}.{operation}: {code}: {error.get('Message', exc)}",
                    code=code,
                    operation=operation,
                ) from exc
            except ResponseParserError as exc:
                # An answer that is not AWS's (the emulator's HTML 500 for an operation it
                # lacks): permanent, and must not escape as a raw botocore error.
                raise ProvisionError(
                    f"{service}.{operation}: unreadable response: {exc}", operation=operation
                ) from exc
            except BotoCoreError as exc:
                if attempt < self.attempts:
                    self._sleep(attempt)
                    continue
                raise ProvisionError(f"{service}.{operation}: {exc}", operation=operation) from exc
        raise AssertionError("unreachable")

    def _sleep(self, attempt: int) -> None:
        time.sleep(self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random()))


class Provisioner(Protocol):
    kind: str

    def create(self, ctx: Context, config: dict[str, Any]) -> Outcome: ...

    def update(
        self, ctx: Context, config: dict[str, Any], previous: Mapping[str, Any]
    ) -> Outcome: ...

    def delete(self, ctx: Context, previous: Mapping[str, Any]) -> None: ...

    def read(self, ctx: Context, previous: Mapping[str, Any]) -> Observed | None: ...


def physical_name(base: str, *, limit: int, suffix: str = "", charset: str = r"A-Za-z0-9_-") -> str:
    """kinds.md "Naming": keep the first ``limit - 9 - len(suffix)`` characters, strip a
    trailing ``-``, add ``-`` + 8 hex of SHA-256 of the full name, then the suffix —
    when the name is too long or breaks the charset (``--`` counts for RDS-like names)."""
    full = base + suffix
    fits = len(full) <= limit and re.fullmatch(f"[{charset}]+", full) is not None
    if fits and not (charset == "A-Za-z0-9-" and "--" in full):
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    cleaned = re.sub(f"[^{charset}]", "-", base)
    if charset == "A-Za-z0-9-":
        cleaned = re.sub("-{2,}", "-", cleaned)
    head = cleaned[: max(1, limit - 9 - len(suffix))].rstrip("-")
    return f"{head}-{digest}{suffix}"
