"""The terminal's view of a running investigation: a Rich live panel on a terminal, plain lines elsewhere.

The panel shows the tier reached, the hypotheses still open, the calculation running now with its
estimate, done/total for the current batch, the background queue and the planner's latest
sentences. It is fed by the graph's updates (``Investigation.run(on_update=...)``) and by the
calculation callback (``RunContext.progress``); it reads nothing else. Off a terminal (a pipe,
a test) only the sentences are printed, one per line, as they come.
"""

from __future__ import annotations

import time
from collections import deque

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

OPEN = ("open", "supported")  # statuses of a hypothesis still in play


class LiveView:
    """Collects what a run reports and renders it (see the module docstring)."""

    def __init__(self, inv, console: Console, n_lines: int = 4, panel: bool = True):
        v = inv.state
        self.console, self.panel = console, panel
        self.hypotheses = {h.id: (h.category, h.status) for h in v.hypotheses}
        self.tier, self.pending = v.tier, len(v.pending)
        self.lines: deque[str] = deque((t.text for t in v.transcript[-n_lines:]), maxlen=n_lines)
        self.batch: list[tuple[str, float]] = []  # (label, estimate s) of the calculations planned now
        self.done = 0
        self.started = time.monotonic()
        self.live = None

    # ---------------------------------------------------------------- inputs
    def on_update(self, node: str, update: dict) -> None:
        """A graph step's partial update: hypotheses, tier, plan, background queue, transcript."""
        for h in update.get("hypotheses") or []:
            self.hypotheses[h["id"]] = (h.get("category", h["id"]), h.get("status", "open"))
        if isinstance(update.get("tier"), int):
            self.tier = max(self.tier, update["tier"])
        if update.get("plan"):
            self.batch = [(_label(p), float(p.get("estimate_s", 0.0))) for p in update["plan"]
                          if not p.get("background")]
            self.done, self.started = 0, time.monotonic()
        if "pending" in update:
            self.pending = len(update["pending"] or [])
        for t in update.get("transcript") or []:
            self.lines.append(t["text"])
            if self.live is None:
                self.console.print(f"[bold]{escape(t['speaker'])}:[/] {escape(t['text'])}", highlight=False)
        self.refresh()

    def on_result(self, result) -> None:
        """One calculation finished (or came from the store)."""
        self.done += 1
        self.started = time.monotonic()
        self.refresh()

    # ---------------------------------------------------------------- output
    def render(self) -> Group:
        open_h = [hid for hid, (_, status) in self.hypotheses.items() if status in OPEN]
        head = Table.grid(padding=(0, 2))
        head.add_row(f"[bold]tier[/] {max(self.tier, 0)}",
                     f"[bold]done[/] {min(self.done, len(self.batch))}/{len(self.batch)}",
                     f"[bold]background[/] {self.pending} queued")
        parts = [head, Text(f"open hypotheses ({len(open_h)}): " + (", ".join(open_h) or "none"), style="cyan")]
        if self.done < len(self.batch):
            label, estimate = self.batch[self.done]
            parts.append(Text(f"running: {label} (estimate {_seconds(estimate)}, "
                              f"{_seconds(time.monotonic() - self.started)} so far)", style="yellow"))
        parts += [Text(line, style="dim", no_wrap=True, overflow="ellipsis") for line in self.lines]
        return Group(*parts)

    def refresh(self) -> None:
        if self.live is not None:
            self.live.refresh()

    def __enter__(self) -> "LiveView":
        if self.panel and self.console.is_terminal:
            from rich.live import Live

            self.live = Live(console=self.console, get_renderable=self.render, refresh_per_second=4,
                             transient=True)
            self.live.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
            for line in self.lines:  # the sentences stay on the terminal once the panel is gone
                self.console.print(escape(line), highlight=False, style="dim")


def _label(planned: dict) -> str:
    spec = planned.get("spec") or {}
    return f"{planned.get('observable', spec.get('task', '?'))} of {planned.get('molecule', '?')} at tier {planned.get('tier', '?')}"


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"
