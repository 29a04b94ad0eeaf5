"""The 12-week adoption trend as a PNG, for the monthly report. matplotlib (Agg, no display) is
imported on first use, so processes that never draw a chart never load it."""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from datetime import date

_lock = threading.Lock()  # pyplot's state is global: one chart at a time


def trend_png(weeks: Sequence[date], active: Sequence[int], members: int, *, title: str) -> bytes:
    """A line of weekly active members, the last point labelled with its share of members."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure  # the object API: no pyplot global figure registry

    with _lock:
        fig = Figure(figsize=(6.4, 2.8), dpi=100)
        ax = fig.add_subplot()
        labels = [f"{w:%d %b}" for w in weeks]
        ax.plot(range(len(active)), list(active), marker="o", color="#2e7d32", linewidth=2)
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel("active members", fontsize=8)
        ax.set_ylim(bottom=0, top=max([*active, 1]) * 1.15)
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(title, fontsize=10)
        if members and active:
            ax.annotate(f"{active[-1] / members:.0%} of members", (len(active) - 1, active[-1]),
                        textcoords="offset points", xytext=(-10, 8), ha="right", fontsize=8)
        # Fixed margins: tight_layout would measure every label (a third of the drawing time).
        fig.subplots_adjust(left=0.1, right=0.97, top=0.88, bottom=0.25)
        out = io.BytesIO()
        fig.savefig(out, format="png")
    return out.getvalue()
