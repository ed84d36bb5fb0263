"""Drawing a learned graph with networkx and matplotlib (the optional `plot` extra).

Edges are drawn left to right along a topological order (layers by longest path from a source).
With a reference graph: edges in both are black, extra edges red, reversed ones orange, and
reference edges the estimate misses grey and dashed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from optdsl.errors import OptdslError


def _libs() -> tuple[Any, Any]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import networkx as nx
    except ImportError as err:
        raise OptdslError("drawing a graph needs networkx and matplotlib",
                          hint="pip install 'optdsl[plot]'") from err
    return nx, plt


def plot_graph(W: np.ndarray, nodes: list, path: str | Path, reference: np.ndarray | None = None,
               title: str | None = None, weights: bool = True) -> Path:
    """Write the graph of W (W[i, j] != 0: nodes[i] -> nodes[j]) to `path` (.png, .svg, .pdf)."""
    nx, plt = _libs()
    W = np.asarray(W, dtype=float)
    d = W.shape[0]
    E = W != 0
    np.fill_diagonal(E, False)
    G = nx.DiGraph()
    G.add_nodes_from(range(d))
    both = E if reference is None else E | (np.asarray(reference) != 0)
    G.add_edges_from(map(tuple, np.argwhere(both)))
    layer = {v: 0 for v in range(d)}
    try:
        for v in nx.topological_sort(nx.DiGraph(list(map(tuple, np.argwhere(E))))):
            for u in G.predecessors(v):
                if E[u, v]:
                    layer[v] = max(layer[v], layer[u] + 1)
    except nx.NetworkXUnfeasible:  # a cyclic estimate: one layer
        pass
    # x: the layer (longest path from a source); y: a force-directed layout's, spread within
    # each layer, so that long edges do not run through the nodes of a chain
    kk = nx.kamada_kawai_layout(G.to_undirected()) if d > 2 else {v: (0.0, float(v)) for v in range(d)}
    pos = {}
    for lay in set(layer.values()):
        members = sorted((v for v in range(d) if layer[v] == lay), key=lambda v: kk[v][1])
        for k, v in enumerate(members):
            spread = (k - (len(members) - 1) / 2) * 0.5
            pos[v] = np.array([float(lay), 0.5 * float(kk[v][1]) + spread])
    style: dict[str, list] = {"black": [], "red": [], "orange": [], "grey": []}
    if reference is None:
        style["black"] = [tuple(e) for e in np.argwhere(E)]
    else:
        R = np.asarray(reference) != 0
        style["black"] = [tuple(e) for e in np.argwhere(E & R)]
        style["orange"] = [tuple(e) for e in np.argwhere(E & ~R & R.T)]
        style["red"] = [tuple(e) for e in np.argwhere(E & ~R & ~R.T)]
        style["grey"] = [tuple(e) for e in np.argwhere(R & ~E & ~E.T)]
    size = max(4.0, 0.7 * d)
    fig, ax = plt.subplots(figsize=(size * 1.4, size))
    nx.draw_networkx_nodes(G, pos, ax=ax, node_color="#dde8f5", edgecolors="#345", node_size=900)
    nx.draw_networkx_labels(G, pos, labels={v: str(nodes[v]) for v in range(d)}, ax=ax, font_size=9)
    for colour, edges in style.items():
        if edges:
            nx.draw_networkx_edges(G, pos, edgelist=edges, ax=ax, edge_color=colour, arrows=True, arrowsize=16,
                                   node_size=900, style="dashed" if colour == "grey" else "solid",
                                   connectionstyle="arc3,rad=0.08")
    if weights and d <= 25:
        labels = {(i, j): f"{W[i, j]:.2g}" for i, j in np.argwhere(E)}
        nx.draw_networkx_edge_labels(G, pos, edge_labels=labels, ax=ax, font_size=7, label_pos=0.4,
                                     connectionstyle="arc3,rad=0.08")
    if reference is not None:
        from matplotlib.lines import Line2D

        handles = [Line2D([0], [0], color=c, ls="--" if c == "grey" else "-", label=t) for c, t in
                   (("black", "in the reference"), ("red", "extra"), ("orange", "reversed"), ("grey", "missing"))]
        ax.legend(handles=handles, loc="lower right", fontsize=8, frameon=False)
    ax.set_title(title or f"{int(E.sum())} edges")
    ax.margins(0.12)
    ax.axis("off")
    out = Path(path)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def read_edges(path: str | Path, nodes: list) -> np.ndarray:
    """A reference graph from a text file of edges, one per line: `a,b`, `a b` or `a -> b`
    (a header line and lines starting with # are skipped)."""
    names = [str(n) for n in nodes]
    B = np.zeros((len(nodes), len(nodes)))
    for k, line in enumerate(Path(path).read_text().splitlines()):
        text = line.split("#")[0].replace("-->", " ").replace("->", " ").replace(",", " ").split()
        if not text:
            continue
        if len(text) >= 2 and text[0].rstrip(".").isdigit() and text[1] not in names:
            text = text[1:]  # numbered lines: "1. a --> b"
        if len(text) != 2 or text[0] not in names or text[1] not in names:
            if k == 0:
                continue  # a header
            raise OptdslError(f"{path}:{k + 1}: expected an edge 'a -> b' between nodes, got '{line.strip()}'",
                              hint=f"nodes: {', '.join(names)}")
        B[names.index(text[0]), names.index(text[1])] = 1
    return B


def plot_result(result: Any, path: str | Path, reference: str | Path | None = None) -> Path:
    """Draw the graph of a DAG backend's result (its stats list the edges and the order)."""
    if "edges" not in result.stats:
        raise OptdslError("--plot draws learned graphs: this result comes from no DAG backend")
    nodes = list(result.stats.get("order") or [])
    for a, b, _ in result.stats["edges"]:
        for v in (a, b):
            if v not in nodes:
                nodes.append(v)
    nodes = sorted(nodes, key=str)
    idx = {v: k for k, v in enumerate(nodes)}
    W = np.zeros((len(nodes), len(nodes)))
    for a, b, w in result.stats["edges"]:
        W[idx[a], idx[b]] = w
    ref = read_edges(reference, nodes) if reference else None
    return plot_graph(W, nodes, path, ref, title=f"{result.backend}: {len(result.stats['edges'])} edges")
