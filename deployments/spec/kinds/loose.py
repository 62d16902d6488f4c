"""Kinds that are recognised but not deployable (kinds.md, last table).

Core reports ``kind-not-deployable`` for them; here only what every component has
(dependsOn, tags) is checked, so a reference to such a component still resolves and a
malformed dependsOn is still reported. Their other fields have no schema yet, so no
unknown-field warnings either.
"""

from __future__ import annotations

from .base import ComponentSpec

NOT_DEPLOYABLE = (
    "DocumentDB",
    "MSK",
    "Kafka",
    "EFS",
    "EBS",
    "ALB",
    "NLB",
    "CloudFront",
    "APIGateway",
    "ElastiCacheMemcached",
    "MemoryDB",
    "ComponentInfra",
    "InfraDefaults",
    "Networking",
    "Security",
    "Observability",
)


class LooseSpec(ComponentSpec):
    """Any mapping; only ``dependsOn`` and ``tags`` are typed."""
