"""A layered (Sugiyama-style) left-to-right layout of a lineage graph, in pure Python.

Used by :mod:`lineage.views.render` to draw SVG and HTML without Graphviz or any system package:

1. cycles are broken by reversing DFS back edges (a job that reads and rewrites its own table);
2. layers by longest path, sources pulled next to the first job that reads them;
3. an edge spanning several layers gets a dummy point in each layer it crosses, so it runs
   between boxes instead of through them;
4. order within layers by barycenter sweeps, keeping the order with the fewest crossings;
5. vertical positions relaxed towards the neighbours' centres, never overlapping.

Deterministic: the same graph always gives the same picture.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

H_GAP = 70.0  # between layers (columns)
V_GAP = 22.0  # between boxes in one layer
DUMMY_HEIGHT = 6.0
MARGIN = 20.0
BACK_DIP = 30.0  # how far a two-point back edge sags below its ends
_SWEEPS = 8
_RELAX_PASSES = 6


@dataclass(frozen=True)
class Box:
    """Where one node is drawn: top-left corner, size, and its layer (column)."""

    id: str
    x: float
    y: float
    width: float
    height: float
    layer: int

    @property
    def cy(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Route:
    """The points an edge passes through, from ``source`` to ``target``; ``back`` when it runs
    against the layers (part of a cycle)."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...]
    back: bool = False


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    boxes: dict[str, Box]
    routes: tuple[Route, ...]


def layered_layout(
    sizes: dict[str, tuple[float, float]], edges: Iterable[tuple[str, str]]
) -> Layout:
    """Place nodes (``id -> (width, height)``) and route ``(source, target)`` edges."""
    nodes = sorted(sizes)
    edge_list = sorted({(s, t) for s, t in edges if s in sizes and t in sizes and s != t})
    forward, reversed_edges = _acyclic(nodes, edge_list)
    layer = _layers(nodes, forward)
    chains, all_nodes, layer = _add_dummies(forward, layer)
    order = _order(all_nodes, layer, chains)
    column_x, column_w = _columns(order, sizes)
    centre = _vertical(order, sizes, chains)
    top = min((centre[n] - _height(n, sizes) / 2 for n in centre), default=0.0)
    shift = MARGIN - top
    boxes = {
        n: Box(n, column_x[layer[n]] + (column_w[layer[n]] - sizes[n][0]) / 2,
               centre[n] + shift - sizes[n][1] / 2, sizes[n][0], sizes[n][1], layer[n])
        for n in nodes
    }
    routes = []
    for source, target in edge_list:
        back = (source, target) in reversed_edges
        chain = chains[(target, source) if back else (source, target)]
        middle = []
        for dummy in chain[1:-1]:
            x0 = column_x[layer[dummy]]
            y = centre[dummy] + shift
            middle += [(x0, y), (x0 + column_w[layer[dummy]], y)]
        a, b = boxes[chain[0]], boxes[chain[-1]]
        points = [(a.x + a.width, a.cy), *middle, (b.x, b.cy)]
        if back:
            points.reverse()
            if len(points) == 2:  # dip below, so it does not hide the edge it answers
                (x0, y0), (x1, y1) = points
                points.insert(1, ((x0 + x1) / 2, max(y0, y1) + BACK_DIP))
        routes.append(Route(source, target, tuple(points), back))
    width = (max(column_x) + column_w[-1] + MARGIN) if column_x else 2 * MARGIN
    height = max((b.y + b.height for b in boxes.values()), default=0.0) + MARGIN
    return Layout(width=width, height=max(height, 2 * MARGIN), boxes=boxes, routes=tuple(routes))


def path_data(points: Sequence[tuple[float, float]]) -> str:
    """An SVG path through ``points``: horizontal-tangent cubic curves between each pair."""
    if not points:
        return ""
    (x, y), *rest = points
    parts = [f"M{x:.1f},{y:.1f}"]
    for nx, ny in rest:
        dx = (nx - x) / 2
        parts.append(f"C{x + dx:.1f},{y:.1f} {nx - dx:.1f},{ny:.1f} {nx:.1f},{ny:.1f}")
        x, y = nx, ny
    return " ".join(parts)


# ------------------------------------------------------------------ steps


def _acyclic(
    nodes: list[str], edges: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
    """Edges with DFS back edges reversed, and the set of original edges that were reversed."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for s, t in edges:
        succ[s].append(t)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()
    for start in nodes:
        if start in state:
            continue
        stack = [(start, iter(succ[start]))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(succ[child])))
    forward = sorted({(t, s) if (s, t) in back else (s, t) for s, t in edges})
    return forward, back


def _layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for s, t in edges:
        preds[t].append(s)
        succ[s].append(t)
    layer: dict[str, int] = {}
    pending = {n: len(preds[n]) for n in nodes}
    ready = [n for n in nodes if pending[n] == 0]
    while ready:
        node = ready.pop(0)
        layer[node] = max((layer[p] + 1 for p in preds[node]), default=0)
        for child in succ[node]:
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
    for node in nodes:  # a source sits just before the first node that uses it
        if not preds[node] and succ[node]:
            layer[node] = max(0, min(layer[c] for c in succ[node]) - 1)
    return layer


def _add_dummies(
    edges: list[tuple[str, str]], layer: dict[str, int]
) -> tuple[dict[tuple[str, str], list[str]], list[str], dict[str, int]]:
    """Each edge as a chain of nodes one layer apart (dummies named ``\\0s\\0t\\0i``)."""
    layer = dict(layer)
    chains: dict[tuple[str, str], list[str]] = {}
    for s, t in edges:
        chain = [s]
        for step in range(layer[s] + 1, layer[t]):
            dummy = f"\0{s}\0{t}\0{step}"
            layer[dummy] = step
            chain.append(dummy)
        chain.append(t)
        chains[(s, t)] = chain
    return chains, sorted(layer), layer


def _order(
    nodes: list[str], layer: dict[str, int], chains: dict[tuple[str, str], list[str]]
) -> list[list[str]]:
    count = max(layer.values(), default=-1) + 1
    order: list[list[str]] = [[] for _ in range(count)]
    for node in nodes:
        order[layer[node]].append(node)
    up: dict[str, list[str]] = {n: [] for n in nodes}
    down: dict[str, list[str]] = {n: [] for n in nodes}
    for chain in chains.values():
        for a, b in zip(chain, chain[1:], strict=False):
            down[a].append(b)
            up[b].append(a)
    best, best_crossings = [list(r) for r in order], _crossings(order, down)
    for sweep in range(_SWEEPS):
        layers = range(1, count) if sweep % 2 == 0 else range(count - 2, -1, -1)
        neighbours = up if sweep % 2 == 0 else down
        for index in layers:
            fixed = order[index - 1] if sweep % 2 == 0 else order[index + 1]
            position = {n: i for i, n in enumerate(fixed)}
            order[index] = sorted(order[index], key=_barycenters(order[index], neighbours,
                                                                 position).__getitem__)
        crossings = _crossings(order, down)
        if crossings < best_crossings:
            best, best_crossings = [list(r) for r in order], crossings
    return best


def _barycenters(
    row: list[str], neighbours: dict[str, list[str]], position: dict[str, int]
) -> dict[str, float]:
    """Mean position of each node's neighbours in the fixed layer (its own index if none)."""
    result = {}
    for index, node in enumerate(row):
        linked = [position[n] for n in neighbours[node] if n in position]
        result[node] = sum(linked) / len(linked) if linked else float(index)
    return result


def _crossings(order: list[list[str]], down: dict[str, list[str]]) -> int:
    total = 0
    for left, right in zip(order, order[1:], strict=False):
        position = {n: i for i, n in enumerate(right)}
        pairs = [(i, position[t]) for i, s in enumerate(left) for t in down[s] if t in position]
        total += sum(
            1 for a in range(len(pairs)) for b in range(a + 1, len(pairs))
            if (pairs[a][0] - pairs[b][0]) * (pairs[a][1] - pairs[b][1]) < 0
        )
    return total


def _columns(
    order: list[list[str]], sizes: dict[str, tuple[float, float]]
) -> tuple[list[float], list[float]]:
    widths = [max((sizes[n][0] for n in row if n in sizes), default=0.0) for row in order]
    xs, x = [], MARGIN
    for width in widths:
        xs.append(x)
        x += width + H_GAP
    return xs, widths


def _height(node: str, sizes: dict[str, tuple[float, float]]) -> float:
    return sizes[node][1] if node in sizes else DUMMY_HEIGHT


def _vertical(
    order: list[list[str]], sizes: dict[str, tuple[float, float]],
    chains: dict[tuple[str, str], list[str]],
) -> dict[str, float]:
    """Centre y of every node (dummies too): stacked, then relaxed towards neighbours."""
    links: dict[str, list[str]] = {}
    for chain in chains.values():
        for a, b in zip(chain, chain[1:], strict=False):
            links.setdefault(a, []).append(b)
            links.setdefault(b, []).append(a)
    tallest = max((_stack_height(row, sizes) for row in order), default=0.0)
    centre: dict[str, float] = {}
    for row in order:
        y = (tallest - _stack_height(row, sizes)) / 2
        for node in row:
            h = _height(node, sizes)
            centre[node] = y + h / 2
            y += h + V_GAP
    for sweep in range(_RELAX_PASSES):
        rows = order if sweep % 2 == 0 else list(reversed(order))
        for row in rows:
            wanted = []
            for node in row:
                ys = [centre[n] for n in links.get(node, ())]
                wanted.append(sum(ys) / len(ys) if ys else centre[node])
            _place_row(row, wanted, sizes, centre)
    return centre


def _stack_height(row: list[str], sizes: dict[str, tuple[float, float]]) -> float:
    return sum(_height(n, sizes) for n in row) + V_GAP * max(len(row) - 1, 0)


def _place_row(
    row: list[str], wanted: list[float], sizes: dict[str, tuple[float, float]],
    centre: dict[str, float],
) -> None:
    """Put each node of ``row`` as near its wanted centre as the order and gaps allow."""
    ys = list(wanted)
    for i in range(1, len(row)):  # push down what overlaps the node above
        gap = (_height(row[i - 1], sizes) + _height(row[i], sizes)) / 2 + V_GAP
        ys[i] = max(ys[i], ys[i - 1] + gap)
    mean_shift = sum(w - y for w, y in zip(wanted, ys, strict=True)) / len(ys) if ys else 0.0
    ys = [y + min(mean_shift, 0.0) for y in ys]  # then lift the block back towards its targets
    for i in range(len(row) - 2, -1, -1):
        gap = (_height(row[i], sizes) + _height(row[i + 1], sizes)) / 2 + V_GAP
        ys[i] = min(ys[i], ys[i + 1] - gap)
    for node, y in zip(row, ys, strict=True):
        centre[node] = y
