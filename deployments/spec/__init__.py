"""The Panka stack-format engine: plain Python, no Django (format.md, kinds.md).

    result = validate({"stack.yaml": text, "services/web/app.yaml": text2})
    result.ok, result.findings, result.stack.graph.order
    the_plan = plan(result, state_json, environment="production")
    the_plan.actions, the_plan.summary, the_plan.hash, the_plan.as_dict()

Validation never raises on bad input: every problem is a :class:`Finding` with a
stable code (:data:`CODES`, docs/finding-codes.md) and a file/line/column.
"""

from .codes import CODES
from .engine import validate
from .findings import Finding
from .graph import Graph
from .model import Component, Service, Stack, ValidationResult
from .plan import Action, Change, NotPlannable, Plan, config_hash, plan, resource_config
from .policy import TenantPolicy
from .sources import SourceError, read_path, read_zip

__all__ = [
    "CODES",
    "Action",
    "Change",
    "Component",
    "Finding",
    "Graph",
    "NotPlannable",
    "Plan",
    "Service",
    "SourceError",
    "Stack",
    "TenantPolicy",
    "ValidationResult",
    "config_hash",
    "plan",
    "read_path",
    "read_zip",
    "resource_config",
    "validate",
]
