"""MicroService and Worker: a Fargate ECS service in the stack's cluster (kinds.md).

Also the container plumbing that CronJob's task target shares: the cluster, the
execution role ``<name>-role``, the log group ``/panka/<name>`` and the task definition.

``create`` and ``update`` both converge: they read what exists and change only what
differs, so an unchanged component costs read calls only, and a ``create`` that finds the
service from a crashed earlier attempt adopts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Context, Observed, Outcome, ProvisionError
from .iam import (
    ECS_TASK_EXECUTION_POLICY,
    allow,
    delete_role,
    ensure_role,
    policy,
    role_name,
    tag_delta,
)
from .network import network_for

NAME_LIMIT = 255
ECS_TASKS = "ecs-tasks.amazonaws.com"
SCALABLE_DIMENSION = "ecs:service:DesiredCount"
_SCALING_POLICIES = {
    "panka-cpu-target": ("targetCPUPercent", "ECSServiceAverageCPUUtilization"),
    "panka-memory-target": ("targetMemoryPercent", "ECSServiceAverageMemoryUtilization"),
}
_CLUSTER_TAG_KEYS = (
    "panka:tenant",
    "panka:stack",
    "panka:env",
    "panka:environment",
    "panka:managed",
)
_GONE_SERVICE = (
    "ServiceNotFoundException",
    "ServiceNotActiveException",
    "ClusterNotFoundException",
)


# --- calls ---------------------------------------------------------------------------------


def _ecs_call(ctx: Context, operation: str, **kwargs: Any) -> dict[str, Any]:
    return ctx.call("ecs", operation, **kwargs)


# --- names -----------------------------------------------------------------------------------


def family_name(ctx: Context) -> str:
    """The service name and task family: ``<stack>-<env>-<service>-<component>``."""
    return ctx.name(limit=NAME_LIMIT)


def log_group_name(name: str) -> str:
    return f"/panka/{name}"


def image_ref(image: Mapping[str, Any]) -> str:
    tag = str(image["tag"])
    separator = "@" if tag.startswith("sha256:") else ":"
    return f"{image['repository']}{separator}{tag}"


def split_image(ref: str) -> tuple[str, str]:
    """``repo:tag`` / ``repo@sha256:…`` back into (repository, tag); a registry port is kept."""
    if "@" in ref:
        repository, _, tag = ref.partition("@")
        return repository, tag
    head, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, "latest"
    return head, tag


def text(value: Any) -> str:
    """A value as an environment variable's text (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --- the cluster ----------------------------------------------------------------------------


def ensure_cluster(ctx: Context) -> str:
    """The stack's cluster ``<stack>-<env>``, created if missing. Returns its ARN."""
    name = ctx.cluster_name
    clusters = ctx.call("ecs", "describe_clusters", clusters=[name])["clusters"]
    for cluster in clusters:
        if cluster.get("status") == "ACTIVE":
            return cluster["clusterArn"]
    tags = {k: v for k, v in ctx.tags().items() if k in _CLUSTER_TAG_KEYS}
    cluster = ctx.call("ecs", "create_cluster", clusterName=name, tags=_ecs_tags(tags))["cluster"]
    ctx.log(f"created ECS cluster {name}")
    return cluster["clusterArn"]


def release_cluster(ctx: Context, name: str | None = None) -> None:
    """Delete the stack's cluster once nothing uses it: no ACTIVE service is left in it and
    no EventBridge rule (a CronJob) targets it. Called by each ECS component's delete."""
    name = name or ctx.cluster_name
    clusters = ctx.call("ecs", "describe_clusters", clusters=[name])["clusters"]
    cluster = next((c for c in clusters if c.get("status") == "ACTIVE"), None)
    if cluster is None:
        return
    active = [s["serviceName"] for s in _services_in(ctx, name) if s.get("status") == "ACTIVE"]
    if active:
        ctx.log(f"ECS cluster {name} kept: {len(active)} service(s) still use it")
        return
    rules = ctx.call("events", "list_rule_names_by_target", TargetArn=cluster["clusterArn"]).get(
        "RuleNames", []
    )
    if rules:
        ctx.log(f"ECS cluster {name} kept: scheduled rule(s) {', '.join(rules)} run tasks in it")
        return
    try:
        ctx.call("ecs", "delete_cluster", cluster=name)
        ctx.log(f"deleted ECS cluster {name}")
    except ProvisionError as exc:
        if exc.code in ("ClusterContainsServicesException", "ClusterContainsTasksException"):
            # A deleted service drains for a while on AWS; the next delete tries again.
            ctx.log(f"ECS cluster {name} kept for now: {exc}")
        elif exc.code != "ClusterNotFoundException":
            raise


def _services_in(ctx: Context, cluster: str) -> list[dict[str, Any]]:
    arns: list[str] = []
    kwargs: dict[str, Any] = {"cluster": cluster}
    try:
        while True:
            page = ctx.call("ecs", "list_services", **kwargs)
            arns.extend(page.get("serviceArns", []))
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    except ProvisionError as exc:
        if exc.code == "ClusterNotFoundException":
            return []
        raise
    services: list[dict[str, Any]] = []
    for i in range(0, len(arns), 10):  # DescribeServices takes at most 10
        services.extend(
            ctx.call("ecs", "describe_services", cluster=cluster, services=arns[i : i + 10])[
                "services"
            ]
        )
    return services


# --- container plumbing (shared with CronJob) ----------------------------------------------


def resolve_environment(ctx: Context, entries: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    """``environment[]`` with every ``valueFrom`` read from the dependency's state."""
    resolved = []
    for entry in entries:
        ref = entry.get("valueFrom")
        value = ctx.output_of(ref["component"], ref["output"]) if ref else entry.get("value")
        resolved.append({"name": entry["name"], "value": text(value)})
    return sorted(resolved, key=lambda e: e["name"])


def resolve_secrets(ctx: Context, secrets: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    """``secrets[]`` as ECS ``secrets``: the env var name and the secret's full ARN, never
    its value (the agent fetches it with the execution role)."""
    resolved = []
    for secret in secrets:
        ref = secret["secretRef"]
        try:
            arn = ctx.call("secretsmanager", "describe_secret", SecretId=ref)["ARN"]
        except ProvisionError as exc:
            raise ProvisionError(
                f"secret {secret['name']!r} ({ref}) cannot be used: {exc}",
                code=exc.code,
                operation=exc.operation,
            ) from exc
        resolved.append({"name": secret.get("envVar") or secret["name"], "valueFrom": arn})
    return sorted(resolved, key=lambda s: s["name"])


def ensure_execution_role(ctx: Context, secret_arns: list[str], tags: Mapping[str, str]) -> str:
    """``<name>-role``: the ECS task-execution policy plus GetSecretValue on its secrets."""
    inline = {}
    if secret_arns:
        inline["secrets"] = policy(
            allow(["secretsmanager:GetSecretValue"], sorted(set(secret_arns)))
        )
    return ensure_role(
        ctx,
        role_name(ctx),
        service=ECS_TASKS,
        managed=(ECS_TASK_EXECUTION_POLICY,),
        inline=inline,
        tags=tags,
        description=f"Panka: ECS task execution for {ctx.service}/{ctx.component}",
    )


def ensure_log_group(ctx: Context, name: str, tags: Mapping[str, str]) -> None:
    groups = ctx.call("logs", "describe_log_groups", logGroupNamePrefix=name).get("logGroups", [])
    group = next((g for g in groups if g["logGroupName"] == name), None)
    if group is None:
        try:
            ctx.call("logs", "create_log_group", logGroupName=name, tags=dict(tags))
            ctx.log(f"created log group {name}")
        except ProvisionError as exc:
            if exc.code != "ResourceAlreadyExistsException":
                raise
        return
    arn = group["arn"].removesuffix(":*")
    current = ctx.call("logs", "list_tags_for_resource", resourceArn=arn).get("tags", {})
    to_set, to_remove = tag_delta(current, tags)
    if to_set:
        ctx.call("logs", "tag_resource", resourceArn=arn, tags=to_set)
    if to_remove:
        ctx.call("logs", "untag_resource", resourceArn=arn, tagKeys=to_remove)


def delete_log_group(ctx: Context, name: str) -> None:
    try:
        ctx.call("logs", "delete_log_group", logGroupName=name)
    except ProvisionError as exc:
        if exc.code != "ResourceNotFoundException":
            raise


def task_definition_request(
    ctx: Context,
    config: Mapping[str, Any],
    *,
    family: str,
    execution_role_arn: str,
    secrets: list[dict[str, str]],
    tags: Mapping[str, str],
) -> dict[str, Any]:
    """``register_task_definition`` arguments: one Fargate container, as kinds.md says."""
    runtime = config.get("runtime") or {}
    cpu, memory = int(runtime.get("cpu") or 256), int(runtime.get("memory") or 512)
    container: dict[str, Any] = {
        "name": ctx.component,
        "image": image_ref(config["image"]),
        "essential": True,
        # The container memory equals the task's: moto's RunTask fails (500) without it.
        "memory": memory,
        "environment": resolve_environment(ctx, config.get("environment") or []),
        "secrets": secrets,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group_name(family),
                "awslogs-region": ctx.aws.region,
                "awslogs-stream-prefix": ctx.component,
            },
        },
    }
    # As in Kubernetes: command[] replaces the entrypoint, args[] its arguments.
    if config.get("command"):
        container["entryPoint"] = list(config["command"])
    if config.get("args"):
        container["command"] = list(config["args"])
    ports = config.get("ports") or []
    if ports:
        container["portMappings"] = [
            {"containerPort": int(p["port"]), "protocol": str(p.get("protocol") or "tcp").lower()}
            for p in ports
        ]
    request: dict[str, Any] = {
        "family": family,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": str(cpu),
        "memory": str(memory),
        "executionRoleArn": execution_role_arn,
        "containerDefinitions": [container],
        "tags": _ecs_tags(tags),
    }
    if config.get("taskRoleArn"):
        request["taskRoleArn"] = config["taskRoleArn"]
    return request


def converge_task_definition(
    ctx: Context, request: Mapping[str, Any], current_arn: str | None
) -> tuple[str, bool]:
    """The ARN of a revision that matches ``request``: the current one when it does (its
    tags updated), else a new one. Returns (arn, registered_new)."""
    candidate = current_arn or request["family"]  # the family alone = its latest ACTIVE revision
    current = _describe_task_definition(ctx, candidate)
    if current is not None and current["taskDefinition"].get("status") == "ACTIVE":
        definition = current["taskDefinition"]
        if _task_view(definition) == _task_view(request):
            arn = definition["taskDefinitionArn"]
            have = {t["key"]: t["value"] for t in current.get("tags") or []}
            _sync_ecs_tags(ctx, arn, have, {t["key"]: t["value"] for t in request["tags"]})
            return arn, False
    arn = ctx.call("ecs", "register_task_definition", **request)["taskDefinition"][
        "taskDefinitionArn"
    ]
    ctx.log(f"registered task definition {arn.rsplit('/', 1)[-1]}")
    return arn, True


def deregister_family(ctx: Context, family: str, *, keep: str | None = None) -> None:
    """Deregister every ACTIVE revision of ``family`` (exactly that family) except ``keep``."""
    kwargs: dict[str, Any] = {"familyPrefix": family, "status": "ACTIVE"}
    arns: list[str] = []
    while True:
        page = ctx.call("ecs", "list_task_definitions", **kwargs)
        arns.extend(page.get("taskDefinitionArns", []))
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    for arn in arns:
        # familyPrefix is a prefix: `web` also lists `web-admin`.
        if arn.rsplit("/", 1)[-1].rpartition(":")[0] == family and arn != keep:
            deregister_task_definition(ctx, arn)


def deregister_task_definition(ctx: Context, arn: str) -> None:
    try:
        ctx.call("ecs", "deregister_task_definition", taskDefinition=arn)
    except ProvisionError as exc:
        if exc.code not in ("ClientException", "InvalidParameterException"):  # already gone
            raise


def awsvpc(ctx: Context) -> dict[str, Any]:
    """The service's (or scheduled task's) network: private subnets, no public IP."""
    network = network_for(ctx)
    return {
        "awsvpcConfiguration": {
            "subnets": list(network.subnet_ids),
            "securityGroups": list(network.security_group_ids),
            "assignPublicIp": "DISABLED",
        }
    }


def _describe_task_definition(ctx: Context, ref: str) -> dict[str, Any] | None:
    try:
        return ctx.call("ecs", "describe_task_definition", taskDefinition=ref, include=["TAGS"])
    except ProvisionError as exc:
        if exc.code in ("ClientException", "InvalidParameterException"):
            return None
        raise


def _container_view(container: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": container.get("name"),
        "image": container.get("image"),
        "memory": container.get("memory"),
        "entryPoint": list(container.get("entryPoint") or []),
        "command": list(container.get("command") or []),
        "environment": sorted(
            (e["name"], e.get("value", "")) for e in container.get("environment") or []
        ),
        "secrets": sorted((s["name"], s["valueFrom"]) for s in container.get("secrets") or []),
        "ports": sorted(
            (p.get("containerPort"), str(p.get("protocol") or "tcp").lower())
            for p in container.get("portMappings") or []
        ),
        "logConfiguration": container.get("logConfiguration"),
    }


def _task_view(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The fields we manage, so that AWS's defaults (``cpu: 0``, ``mountPoints``) and
    ordering never count as a change."""
    return {
        "family": definition.get("family"),
        "cpu": str(definition.get("cpu")),
        "memory": str(definition.get("memory")),
        "networkMode": definition.get("networkMode"),
        "requiresCompatibilities": sorted(definition.get("requiresCompatibilities") or []),
        "executionRoleArn": definition.get("executionRoleArn"),
        "taskRoleArn": definition.get("taskRoleArn") or None,
        "containers": [_container_view(c) for c in definition.get("containerDefinitions") or []],
    }


def _ecs_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def _sync_ecs_tags(
    ctx: Context, arn: str, current: Mapping[str, str], desired: Mapping[str, str]
) -> None:
    to_set, to_remove = tag_delta(current, desired)
    if to_set:
        ctx.call("ecs", "tag_resource", resourceArn=arn, tags=_ecs_tags(to_set))
    if to_remove:
        ctx.call("ecs", "untag_resource", resourceArn=arn, tagKeys=to_remove)


# --- the service -----------------------------------------------------------------------------


class EcsServiceProvisioner:
    """A Fargate ECS service (desiredCount = replicas) with optional target-tracking autoscaling."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def create(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        return self._apply(ctx, config)

    def update(self, ctx: Context, config: dict[str, Any], previous: Mapping[str, Any]) -> Outcome:
        return self._apply(ctx, config)

    def _apply(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        name, cluster = family_name(ctx), ctx.cluster_name
        tags = ctx.tags(config.get("tags"))
        secrets = resolve_secrets(ctx, config.get("secrets") or [])  # a bad ref fails first
        cluster_arn = ensure_cluster(ctx)
        role_arn = ensure_execution_role(ctx, [s["valueFrom"] for s in secrets], tags)
        ensure_log_group(ctx, log_group_name(name), tags)
        request = task_definition_request(
            ctx, config, family=name, execution_role_arn=role_arn, secrets=secrets, tags=tags
        )
        service = _describe_service(ctx, cluster, name)
        if service is not None and service.get("status") == "DRAINING":
            # Deleted moments ago: its name is free again once it is INACTIVE.
            _wait_inactive(ctx, cluster, name)
            service = _describe_service(ctx, cluster, name)
        previous_arn = service["taskDefinition"] if service else None
        task_arn, _ = converge_task_definition(ctx, request, previous_arn)
        autoscaling = config.get("autoscaling") or {}
        network = awsvpc(ctx)
        deployment = {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        }
        if service is None:
            service = ctx.call(
                "ecs",
                "create_service",
                cluster=cluster,
                serviceName=name,
                taskDefinition=task_arn,
                desiredCount=_initial_count(config),
                launchType="FARGATE",
                networkConfiguration=network,
                deploymentConfiguration=deployment,
                propagateTags="SERVICE",
                enableECSManagedTags=True,
                tags=_ecs_tags(tags),
            )["service"]
            ctx.log(f"created ECS service {name} in cluster {cluster}")
        else:
            changes: dict[str, Any] = {}
            if task_arn != previous_arn:
                changes["taskDefinition"] = task_arn
            # With autoscaling on, the scaler owns desiredCount: leave it as it is.
            if not autoscaling.get("enabled") and service.get("desiredCount") != int(
                config["replicas"]
            ):
                changes["desiredCount"] = int(config["replicas"])
            if _network_view(service.get("networkConfiguration")) != _network_view(network):
                changes["networkConfiguration"] = network
            # moto omits deploymentConfiguration from DescribeServices; AWS always sends it.
            current_deployment = service.get("deploymentConfiguration")
            breaker = (current_deployment or {}).get("deploymentCircuitBreaker") or {}
            if current_deployment is not None and not breaker.get("enable"):
                changes["deploymentConfiguration"] = deployment
            if changes:
                service = _ecs_call(
                    ctx, "update_service", cluster=cluster, service=name, **changes
                )["service"]
                ctx.log(f"updated ECS service {name}: {', '.join(sorted(changes))}")
            current_tags = ctx.call(
                "ecs", "list_tags_for_resource", resourceArn=service["serviceArn"]
            ).get("tags", [])
            _sync_ecs_tags(
                ctx, service["serviceArn"], {t["key"]: t["value"] for t in current_tags}, tags
            )
            if previous_arn and task_arn != previous_arn:
                deregister_task_definition(ctx, previous_arn)
        _converge_autoscaling(ctx, cluster, name, autoscaling)
        return Outcome(
            id=service["serviceArn"],
            attributes={
                "service_name": name,
                "service_arn": service["serviceArn"],
                "cluster_name": cluster,
                "cluster_arn": cluster_arn,
                "task_definition_arn": task_arn,
            },
        )

    def delete(self, ctx: Context, previous: Mapping[str, Any]) -> None:
        attributes = previous.get("attributes") or {}
        name = attributes.get("service_name") or family_name(ctx)
        cluster = attributes.get("cluster_name") or ctx.cluster_name
        _remove_autoscaling(ctx, cluster, name)
        try:
            _ecs_call(ctx, "delete_service", cluster=cluster, service=name, force=True)
            ctx.log(f"deleted ECS service {name}")
            _wait_inactive(ctx, cluster, name)
        except ProvisionError as exc:
            if exc.code not in _GONE_SERVICE:
                raise
        deregister_family(ctx, name)
        delete_role(ctx, role_name(ctx))
        delete_log_group(ctx, log_group_name(name))
        release_cluster(ctx, cluster)

    def read(self, ctx: Context, previous: Mapping[str, Any]) -> Observed | None:
        attributes = previous.get("attributes") or {}
        name = attributes.get("service_name") or family_name(ctx)
        service = _describe_service(ctx, attributes.get("cluster_name") or ctx.cluster_name, name)
        if service is None:
            return None
        found = _describe_task_definition(ctx, service["taskDefinition"])
        fields: dict[str, Any] = {}
        config = previous.get("config") or {}
        if not (config.get("autoscaling") or {}).get("enabled"):
            fields["replicas"] = service.get("desiredCount")
        if found is not None:
            definition = found["taskDefinition"]
            containers = definition.get("containerDefinitions") or [{}]
            repository, tag = split_image(containers[0].get("image", ""))
            fields.update(
                {
                    "image.repository": repository,
                    "image.tag": tag,
                    "runtime.cpu": int(definition.get("cpu") or 0),
                    "runtime.memory": int(definition.get("memory") or 0),
                }
            )
        return Observed(fields=fields)


def _describe_service(ctx: Context, cluster: str, name: str) -> dict[str, Any] | None:
    """The service, or None when it is missing or INACTIVE (deleted)."""
    try:
        found = ctx.call("ecs", "describe_services", cluster=cluster, services=[name])
    except ProvisionError as exc:
        if exc.code == "ClusterNotFoundException":
            return None
        raise
    return next((s for s in found.get("services", []) if s.get("status") != "INACTIVE"), None)


def _initial_count(config: Mapping[str, Any]) -> int:
    replicas = int(config["replicas"])
    autoscaling = config.get("autoscaling") or {}
    if autoscaling.get("enabled"):
        return min(max(replicas, int(autoscaling["minReplicas"])), int(autoscaling["maxReplicas"]))
    return replicas


def _network_view(network: Mapping[str, Any] | None) -> tuple:
    vpc = (network or {}).get("awsvpcConfiguration") or {}
    return (
        tuple(sorted(vpc.get("subnets") or [])),
        tuple(sorted(vpc.get("securityGroups") or [])),
        vpc.get("assignPublicIp") or "DISABLED",
    )


def _wait_inactive(ctx: Context, cluster: str, name: str) -> None:
    """A deleted service drains before it is INACTIVE; wait a bounded while, then go on
    (the cluster is kept if it is still draining)."""
    ctx.ensure_lease()
    delay, attempts = (0.2, 5) if ctx.aws.emulated else (5, 12)
    try:
        ctx.client("ecs").get_waiter("services_inactive").wait(
            cluster=cluster, services=[name], WaiterConfig={"Delay": delay, "MaxAttempts": attempts}
        )
    except Exception as exc:  # botocore's WaiterError: not fatal here
        ctx.log(f"ECS service {name} is still draining: {exc}")


# --- autoscaling -----------------------------------------------------------------------------


def _resource_id(cluster: str, name: str) -> str:
    return f"service/{cluster}/{name}"


def _converge_autoscaling(
    ctx: Context, cluster: str, name: str, autoscaling: Mapping[str, Any]
) -> None:
    scope, targets = _scalable_target(ctx, cluster, name)
    if not autoscaling.get("enabled"):
        if targets:
            _remove_autoscaling(ctx, cluster, name)
        return
    low, high = int(autoscaling["minReplicas"]), int(autoscaling["maxReplicas"])
    if not targets or (targets[0].get("MinCapacity"), targets[0].get("MaxCapacity")) != (low, high):
        ctx.call(
            "application-autoscaling",
            "register_scalable_target",
            MinCapacity=low,
            MaxCapacity=high,
            **scope,
        )
    current = {
        p["PolicyName"]: p
        for p in ctx.call("application-autoscaling", "describe_scaling_policies", **scope).get(
            "ScalingPolicies", []
        )
    }
    for policy_name, (field, metric) in _SCALING_POLICIES.items():
        target = autoscaling.get(field)
        have = current.get(policy_name)
        if target is None:
            if have is not None:
                ctx.call(
                    "application-autoscaling",
                    "delete_scaling_policy",
                    PolicyName=policy_name,
                    **scope,
                )
            continue
        want = {
            "TargetValue": float(target),
            "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
        }
        have_config = (have or {}).get("TargetTrackingScalingPolicyConfiguration") or {}
        if have is None or {k: have_config.get(k) for k in want} != want:
            ctx.call(
                "application-autoscaling",
                "put_scaling_policy",
                PolicyName=policy_name,
                PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration=want,
                **scope,
            )


def _scalable_target(ctx: Context, cluster: str, name: str) -> tuple[dict[str, str], list[Any]]:
    """The autoscaling scope of an ECS service and its registered targets (none or one)."""
    resource = _resource_id(cluster, name)
    scope = {
        "ServiceNamespace": "ecs",
        "ResourceId": resource,
        "ScalableDimension": SCALABLE_DIMENSION,
    }
    targets = ctx.call(
        "application-autoscaling", "describe_scalable_targets", ServiceNamespace="ecs",
        ResourceIds=[resource], ScalableDimension=SCALABLE_DIMENSION,
    ).get("ScalableTargets", [])  # fmt: skip
    return scope, targets


def _remove_autoscaling(ctx: Context, cluster: str, name: str) -> None:
    """Deregistering the target deletes its policies on AWS; moto keeps them, so they go first."""
    scope, targets = _scalable_target(ctx, cluster, name)
    if not targets:
        return
    policies = ctx.call("application-autoscaling", "describe_scaling_policies", **scope).get(
        "ScalingPolicies", []
    )
    for found in policies:
        ctx.call(
            "application-autoscaling",
            "delete_scaling_policy",
            PolicyName=found["PolicyName"],
            **scope,
        )
    try:
        ctx.call("application-autoscaling", "deregister_scalable_target", **scope)
    except ProvisionError as exc:
        missing = exc.code == "ObjectNotFoundException" or (
            exc.code == "ValidationException" and "No scalable target" in str(exc)
        )
        if not missing:
            raise


PROVISIONERS = {
    "MicroService": EcsServiceProvisioner("MicroService"),
    "Worker": EcsServiceProvisioner("Worker"),
}
