"""Draw a small fully connected network, optionally thinned by dropout keep-masks.

A dropped unit is drawn hollow, grey, with a dashed outline and a cross, and its
connections are left out, so that a thinned network reads without colour.
"""
import itertools

import numpy as np

__all__ = ["draw_network", "legend_handles"]

_SIZE = 170  # marker area in points^2
_KEPT = dict(marker="o", facecolors="#1f77b4", edgecolors="black", linewidths=1.2, linestyles="-")
_DROPPED = dict(marker="o", facecolors="white", edgecolors="#888888", linewidths=1.2, linestyles="--")


def _check_sizes(sizes):
    try:
        sizes = [int(s) for s in sizes]
    except (TypeError, ValueError):
        raise TypeError(f"sizes must be a sequence of positive ints, got {sizes!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes needs at least two layers of width >= 1, got {sizes!r}")
    return sizes


def _check_keep(keep, sizes):
    if keep is None:
        return [np.ones(n, dtype=bool) for n in sizes]
    if len(keep) != len(sizes):
        raise ValueError(f"keep must hold one mask per layer ({len(sizes)}), got {len(keep)}")
    masks = []
    for i, (m, n) in enumerate(zip(keep, sizes)):
        m = np.ones(n, dtype=bool) if m is None else np.asarray(m)
        if m.dtype != np.bool_ or m.shape != (n,):
            raise ValueError(f"keep[{i}] must be a boolean array of shape ({n},), got dtype {m.dtype}, shape {m.shape}")
        masks.append(m)
    return masks


def draw_network(ax, sizes, keep=None, title=None, layer_names=None, spacing=2.0):
    """Draw a fully connected network on ``ax``, with dropped units and their connections removed.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    sizes : sequence of int, length L >= 2
        Widths of the layers, input first.
    keep : None or sequence of length L
        One boolean keep-mask per layer, ``keep[l]`` of shape ``(sizes[l],)`` (True = kept), or
        ``None`` for a layer (or for all layers) to keep every unit.
    title : str, optional
        Axes title; the number of kept units and connections is appended.
    layer_names : sequence of str of length L, optional
        Labels written under the layers.
    spacing : float
        Horizontal distance between layers, in units of the vertical distance between units.

    Returns
    -------
    dict
        ``units_kept``, ``units_total``, ``edges_kept``, ``edges_total`` (ints): an edge is kept
        when both of its units are.
    """
    sizes = _check_sizes(sizes)
    masks = _check_keep(keep, sizes)
    top = max(sizes)
    pos = [np.column_stack([np.full(n, spacing * k), (n - 1) / 2 - np.arange(n)])
           for k, n in enumerate(sizes)]
    edges_kept = 0
    for k in range(len(sizes) - 1):
        for i in range(sizes[k]):
            for j in range(sizes[k + 1]):
                if masks[k][i] and masks[k + 1][j]:
                    edges_kept += 1
                    ax.plot(*zip(pos[k][i], pos[k + 1][j]), color="#555555", lw=0.8, ls="-", zorder=1)
    for k, m in enumerate(masks):
        ax.scatter(pos[k][m, 0], pos[k][m, 1], s=_SIZE, zorder=2, **_KEPT)
        if (~m).any():  # hollow, dashed outline and a cross: readable without colour
            ax.scatter(pos[k][~m, 0], pos[k][~m, 1], s=_SIZE, zorder=2, **_DROPPED)
            ax.scatter(pos[k][~m, 0], pos[k][~m, 1], s=_SIZE / 2, marker="x", color="#888888", linewidths=1.5,
                       zorder=3)
    units_kept = int(sum(m.sum() for m in masks))
    edges_total = int(sum(a * b for a, b in itertools.pairwise(sizes)))
    if layer_names is not None:
        if len(layer_names) != len(sizes):
            raise ValueError(f"layer_names must have {len(sizes)} entries, got {len(layer_names)}")
        for k, name in enumerate(layer_names):
            ax.text(spacing * k, -top / 2 - 0.3, name, ha="center", va="top", fontsize=8)
    ax.set_xlim(-0.6 * spacing, spacing * (len(sizes) - 1) + 0.6 * spacing)
    ax.set_ylim(-top / 2 - 1.0, top / 2)
    ax.set_aspect("equal")
    ax.axis("off")
    if title is not None:
        ax.set_title(f"{title}\n{units_kept}/{sum(sizes)} units, {edges_kept}/{edges_total} connections", fontsize=9)
    return {"units_kept": units_kept, "units_total": int(sum(sizes)), "edges_kept": edges_kept,
            "edges_total": edges_total}



def legend_handles():
    """Legend entries for a figure drawn with :func:`draw_network`: kept unit, dropped unit, connection.

    Returns
    -------
    handles : list
        Proxy artists; the dropped unit is a tuple (hollow circle, cross) that matplotlib overlays.
    labels : list of str

    Examples
    --------
    >>> handles, labels = legend_handles()                 # doctest: +SKIP
    >>> fig.legend(handles, labels, loc="lower center")    # doctest: +SKIP
    """
    from matplotlib.lines import Line2D

    kept = Line2D([], [], marker="o", markersize=10, markerfacecolor=_KEPT["facecolors"], markeredgecolor="black",
                  linestyle="none")
    hollow = Line2D([], [], marker="o", markersize=10, markerfacecolor="white",
                    markeredgecolor=_DROPPED["edgecolors"], linestyle="none")
    cross = Line2D([], [], marker="x", markersize=7, color="#888888", mew=1.5, linestyle="none")
    edge = Line2D([], [], color="#555555", lw=0.8, ls="-")
    return ([kept, (hollow, cross), edge],
            ["kept unit", "dropped unit (hollow, dashed outline, crossed)", "connection still in use"])
