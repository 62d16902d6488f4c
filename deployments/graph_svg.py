"""Server-side SVG of a stack's dependency graph, one horizontal lane per service.

Columns are graph levels (format.md §6), so a component always stands to the right of
everything it depends on and arrows run left to right in execution order. Rendering on
the server needs no script in the browser and works under a strict CSP.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

NODE_W, NODE_H = 170, 42
COL_GAP, ROW_GAP = 70, 14
LANE_PAD, LABEL_W = 14, 120
PALETTE = ["#2456c9", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7ea4", "#b42318", "#57606a"]


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    kind: str
    service: str
    level: int


def render(nodes: Iterable[Node], edges: Iterable[tuple[str, str]]) -> str:
    """``edges`` are (dependency, dependent) pairs."""
    nodes = sorted(nodes, key=lambda n: (n.service, n.level, n.name))
    if not nodes:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="40" role="img"><text x="10" y="25">No components</text></svg>'
    services = sorted({n.service for n in nodes})
    per_cell: dict[tuple[str, int], list[Node]] = defaultdict(list)
    for node in nodes:
        per_cell[(node.service, node.level)].append(node)
    levels = max(n.level for n in nodes) + 1

    positions: dict[str, tuple[float, float]] = {}
    parts: list[str] = []
    y = 0.0
    for index, service in enumerate(services):
        rows = max(len(per_cell[(service, level)]) for level in range(levels))
        lane_h = rows * NODE_H + (rows - 1) * ROW_GAP + 2 * LANE_PAD
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<g class="lane"><rect x="0" y="{y}" width="{LABEL_W + levels * (NODE_W + COL_GAP)}" '
            f'height="{lane_h}" fill="{colour}" fill-opacity="0.06" stroke="{colour}" stroke-opacity="0.35"/>'
            f'<text x="10" y="{y + 22}" font-weight="600" fill="{colour}">{escape(service)}</text></g>'
        )
        for level in range(levels):
            for row, node in enumerate(per_cell[(service, level)]):
                nx = LABEL_W + level * (NODE_W + COL_GAP)
                ny = y + LANE_PAD + row * (NODE_H + ROW_GAP)
                positions[node.name] = (nx, ny)
                parts.append(
                    f'<g class="node"><title>{escape(node.name)} ({escape(node.kind)}), level {level}</title>'
                    f'<rect x="{nx}" y="{ny}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="#fff" '
                    f'stroke="{colour}"/>'
                    f'<text x="{nx + 10}" y="{ny + 18}" font-weight="600">{escape(_clip(node.name))}</text>'
                    f'<text x="{nx + 10}" y="{ny + 33}" font-size="11" fill="#5c6675">{escape(node.kind)}</text></g>'
                )
        y += lane_h + 10

    arrows: list[str] = []
    for source, target in sorted(set(edges)):
        if source not in positions or target not in positions:
            continue
        (sx, sy), (tx, ty) = positions[source], positions[target]
        x1, y1 = sx + NODE_W, sy + NODE_H / 2
        x2, y2 = tx - 4, ty + NODE_H / 2
        bend = max(30.0, (x2 - x1) / 2)
        arrows.append(
            f'<path d="M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}" fill="none" '
            f'stroke="#8c959f" stroke-width="1.3" marker-end="url(#arrow)"><title>{escape(target)} depends on '
            f"{escape(source)}</title></path>"
        )
    width = LABEL_W + levels * (NODE_W + COL_GAP)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="stack-graph" width="{width}" height="{y}" '
        f'viewBox="0 0 {width} {y}" font-family="system-ui, sans-serif" font-size="13" role="img" '
        f'aria-label="Dependency graph">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8c959f"/></marker></defs>'
        + "".join(parts)
        + "".join(arrows)
        + "</svg>"
    )


def _clip(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
