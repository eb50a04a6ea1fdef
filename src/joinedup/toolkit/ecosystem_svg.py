"""The ecosystem map drawn as SVG on the server: organisations on a circle, a curved arrow
for each flow (its width grows with the volume read), no script and nothing fetched, so it
draws offline and under the CSP. It is one image with a title and a description; the table
of the same flows beside it on the page carries the detail for screen readers."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

from joinedup.toolkit.ecosystem import EcosystemMap

WIDTH, HEIGHT = 1000, 560
RADIUS = 200
NODE_R = 14
COLOURS = {"council": "#1d70b8", "hub": "#00703c", "voluntary": "#f47738"}


def _volume(reads: int | None) -> float:
    return 1.5 + (math.log10(reads + 1) * 1.8 if reads else 0)


def render_svg(data: EcosystemMap) -> str:
    """The map as a standalone SVG document."""
    nodes = data.nodes
    cx, cy = WIDTH / 2, HEIGHT / 2
    place: dict[str, tuple[float, float]] = {}
    for i, node in enumerate(nodes):
        angle = -math.pi / 2 + 2 * math.pi * i / max(1, len(nodes))
        place[node.code] = (cx + RADIUS * math.cos(angle), cy + RADIUS * math.sin(angle))
    title = f"Data ecosystem map, {data.month}"
    shown = "withheld" if data.public else "exact"
    desc = (
        f"{len(nodes)} organisations and {len(data.flows)} data flows under sharing agreements. "
        f"Arrows point from the organisation that provides data to the one that receives it; "
        f"thicker arrows carried more reads in the month (small counts {shown})."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="map-title map-desc" '
        'font-family="Helvetica, Arial, sans-serif">',
        f'<title id="map-title">{escape(title)}</title>',
        f'<desc id="map-desc">{escape(desc)}</desc>',
        # arrowheads of one size, whatever the line's width (user space units)
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
        'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#505a5f"/></marker></defs>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for flow in data.flows:
        if flow.provider not in place or flow.recipient not in place:
            continue
        (x1, y1), (x2, y2) = place[flow.provider], place[flow.recipient]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        # end at the nodes' edges, and bend so that flows both ways do not overlap
        sx, sy = x1 + dx / length * NODE_R, y1 + dy / length * NODE_R
        ex, ey = x2 - dx / length * (NODE_R + 2), y2 - dy / length * (NODE_R + 2)
        mx, my = (sx + ex) / 2 - dy / length * 40, (sy + ey) / 2 + dx / length * 40
        label = (
            f"{flow.provider} to {flow.recipient} under {flow.agreement}: "
            f"{'fewer than 10' if flow.reads is None else flow.reads} reads"
        )
        parts.append(
            f'<path d="M {sx:.1f} {sy:.1f} Q {mx:.1f} {my:.1f} {ex:.1f} {ey:.1f}" fill="none" '
            f'stroke="#505a5f" stroke-opacity="0.75" stroke-width="{_volume(flow.reads):.1f}" '
            f'marker-end="url(#arrow)"><title>{escape(label)}</title></path>'
        )
    for node in nodes:
        x, y = place[node.code]
        colour = COLOURS.get(node.type, "#4c2c92")
        anchor = "start" if x > cx + 1 else "end" if x < cx - 1 else "middle"
        lx = x + (NODE_R + 6) * (1 if anchor == "start" else -1 if anchor == "end" else 0)
        ly = y + (
            NODE_R + 16
            if y > cy and anchor == "middle"
            else -NODE_R - 6
            if anchor == "middle"
            else 5
        )
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_R}" fill="{colour}">'
            f"<title>{escape(node.name)} ({escape(node.type)})</title></circle>"
        )
        parts.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor={quoteattr(anchor)} font-size="14" '
            f'fill="#0b0c0c">{escape(node.name)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
