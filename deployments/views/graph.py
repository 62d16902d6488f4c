"""The dependency graph of a stack's latest revision, drawn on the server."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from panka_web.http import AuthenticatedHttpRequest
from tenants.access import get_stack_for_user

from .. import graph_svg
from ..validation import validate_files


@login_required
@require_GET
def stack_graph(request: AuthenticatedHttpRequest, slug: str, stack_name: str) -> HttpResponse:
    access, stack = get_stack_for_user(request.user, slug, stack_name)
    revision = stack.latest_revision()
    svg, cycles, order = "", (), ()
    if revision is not None:
        resolved = validate_files(revision.files, tenant=access.tenant).stack
        if resolved is not None:
            graph = resolved.graph
            nodes = [
                graph_svg.Node(c.name, c.kind, c.service, graph.levels.get(c.name, 0))
                for c in resolved.components.values()
            ]
            # render() escapes every name; the SVG is ours, so it is safe to inline.
            svg = mark_safe(graph_svg.render(nodes, graph.edges()))  # noqa: S308
            cycles, order = graph.cycles, graph.order
    return render(
        request,
        "deployments/stack_graph.html",
        {
            "access": access,
            "tenant": access.tenant,
            "stack": stack,
            "revision": revision,
            "svg": svg,
            "cycles": cycles,
            "order": order,
        },
    )
