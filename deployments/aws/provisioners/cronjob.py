"""CronJob: a scheduled EventBridge rule on the default bus with one target (kinds.md):
a Fargate task in the stack's cluster (``image``) or a Lambda component (``lambda``).

A container target brings its task definition, the execution role ``<name>-role``, the
log group ``/panka/<name>`` (as a MicroService has) and the role ``<name>-events`` that
lets EventBridge run the task. Changing the target type replaces only the target.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from deployments.spec.kinds.containers import cron_runs_container

from .base import Context, Observed, Outcome
from .ecs import (
    awsvpc,
    converge_task_definition,
    delete_log_group,
    deregister_family,
    deregister_task_definition,
    ensure_cluster,
    ensure_execution_role,
    ensure_log_group,
    family_name,
    log_group_name,
    release_cluster,
    resolve_secrets,
    split_image,
    task_definition_request,
)
from .eventbridge import (
    EVENTS,
    converge_rule,
    converge_targets,
    describe_rule,
    list_targets,
    remove_rule,
    rule_name,
)
from .iam import (
    allow,
    delete_role,
    ensure_invoke_permission,
    ensure_role,
    policy,
    remove_invoke_permission,
    role_name,
)

TASK_TARGET = "task"
LAMBDA_TARGET = "lambda"


def events_role_name(ctx: Context) -> str:
    return role_name(ctx, "-events")


class CronJobProvisioner:
    kind = "CronJob"

    def create(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        return self._apply(ctx, config)

    def update(self, ctx: Context, config: dict[str, Any], previous: Mapping[str, Any]) -> Outcome:
        return self._apply(ctx, config)

    def _apply(self, ctx: Context, config: dict[str, Any]) -> Outcome:
        name = rule_name(ctx)
        tags = ctx.tags(config.get("tags"))
        arn = converge_rule(
            ctx,
            name,
            schedule=config["schedule"],
            description=config.get("description"),
            enabled=bool(config.get("enabled", True)),
            tags=tags,
        )
        before = list_targets(ctx, name)
        attributes: dict[str, Any] = {"rule_name": name, "arn": arn}
        if cron_runs_container(config):
            target, task_arn = self._container_target(ctx, config, tags, before)
            attributes["task_definition_arn"] = task_arn
        else:
            function = ctx.output_of(config["lambda"]["component"], "arn")
            ensure_invoke_permission(ctx, function, name, principal=EVENTS, source_arn=arn)
            target = {"Id": LAMBDA_TARGET, "Arn": function}
        if config.get("input") is not None:
            target["Input"] = json.dumps(config["input"], sort_keys=True)
        converge_targets(ctx, name, [target])
        for old in before:
            if old["Id"] == LAMBDA_TARGET and old["Arn"] != target["Arn"]:
                remove_invoke_permission(ctx, old["Arn"], name)
            elif old["Id"] == TASK_TARGET:
                previous_task = (old.get("EcsParameters") or {}).get("TaskDefinitionArn")
                if target["Id"] != TASK_TARGET:
                    ctx.log(
                        f"CronJob {name}: the target is now a Lambda; removing the task's resources"
                    )
                    _remove_container(ctx)
                elif previous_task and previous_task != attributes["task_definition_arn"]:
                    deregister_task_definition(ctx, previous_task)
        return Outcome(id=arn, attributes=attributes)

    @staticmethod
    def _container_target(
        ctx: Context,
        config: Mapping[str, Any],
        tags: Mapping[str, str],
        before: list[dict[str, Any]],
    ) -> tuple[dict[str, Any], str]:
        family = family_name(ctx)
        secrets = resolve_secrets(ctx, config.get("secrets") or [])
        cluster_arn = ensure_cluster(ctx)
        execution_role = ensure_execution_role(ctx, [s["valueFrom"] for s in secrets], tags)
        ensure_log_group(ctx, log_group_name(family), tags)
        request = task_definition_request(
            ctx,
            config,
            family=family,
            execution_role_arn=execution_role,
            secrets=secrets,
            tags=tags,
        )
        current = next((t for t in before if t["Id"] == TASK_TARGET), None)
        current_arn = ((current or {}).get("EcsParameters") or {}).get("TaskDefinitionArn")
        task_arn, _ = converge_task_definition(ctx, request, current_arn)
        passed = [execution_role] + ([config["taskRoleArn"]] if config.get("taskRoleArn") else [])
        events_role = ensure_role(
            ctx,
            events_role_name(ctx),
            service=EVENTS,
            inline={
                "run-task": policy(
                    allow(
                        ["ecs:RunTask"],
                        [task_arn.rsplit(":", 1)[0] + ":*"],  # every revision of the family
                        {"ArnEquals": {"ecs:cluster": cluster_arn}},
                    ),
                    allow(
                        ["ecs:TagResource"], "*", {"StringEquals": {"ecs:CreateAction": "RunTask"}}
                    ),
                    allow(["iam:PassRole"], passed),
                )
            },
            tags=tags,
            description=f"Panka: EventBridge runs the task of {ctx.service}/{ctx.component}",
        )
        vpc = awsvpc(ctx)["awsvpcConfiguration"]
        target = {
            "Id": TASK_TARGET,
            "Arn": cluster_arn,
            "RoleArn": events_role,
            "EcsParameters": {
                "TaskDefinitionArn": task_arn,
                "TaskCount": int(config.get("taskCount") or 1),
                "LaunchType": "FARGATE",
                "PlatformVersion": "LATEST",
                "PropagateTags": "TASK_DEFINITION",
                "NetworkConfiguration": {
                    "awsvpcConfiguration": {
                        "Subnets": vpc["subnets"],
                        "SecurityGroups": vpc["securityGroups"],
                        "AssignPublicIp": vpc["assignPublicIp"],
                    }
                },
            },
        }
        return target, task_arn

    def delete(self, ctx: Context, previous: Mapping[str, Any]) -> None:
        attributes = previous.get("attributes") or {}
        config = previous.get("config") or {}
        name = attributes.get("rule_name") or rule_name(ctx)
        removed = remove_rule(ctx, name)
        for target in removed:
            if target["Id"] == LAMBDA_TARGET:
                remove_invoke_permission(ctx, target["Arn"], name)
        if (
            config.get("image")
            or attributes.get("task_definition_arn")
            or any(t["Id"] == TASK_TARGET for t in removed)
        ):
            _remove_container(ctx)

    def read(self, ctx: Context, previous: Mapping[str, Any]) -> Observed | None:
        name = (previous.get("attributes") or {}).get("rule_name") or rule_name(ctx)
        found = describe_rule(ctx, name)
        if found is None:
            return None
        fields: dict[str, Any] = {
            "schedule": found.get("ScheduleExpression"),
            "enabled": found.get("State") == "ENABLED",
        }
        task = next((t for t in list_targets(ctx, name) if t["Id"] == TASK_TARGET), None)
        task_arn = ((task or {}).get("EcsParameters") or {}).get("TaskDefinitionArn")
        if task_arn:
            definition = ctx.call("ecs", "describe_task_definition", taskDefinition=task_arn)[
                "taskDefinition"
            ]
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


def _remove_container(ctx: Context) -> None:
    """What a container target brought: task definitions, both roles, the log group, and
    the cluster if nothing else uses it."""
    family = family_name(ctx)
    deregister_family(ctx, family)
    delete_role(ctx, events_role_name(ctx))
    delete_role(ctx, role_name(ctx))
    delete_log_group(ctx, log_group_name(family))
    release_cluster(ctx)


PROVISIONERS = {"CronJob": CronJobProvisioner()}
