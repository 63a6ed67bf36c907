"""The Python facade over an investigation's run directory.

::

    from tierchem.agent.session import Investigation

    inv = Investigation.create("examples/dihalobenzenes", "Why does ... ?", "runs/demo")
    inv.run()                 # to the end (batch); or run(until="steer") to pause for steering
    inv.ask("why halogen_bond")
    inv.ask("calc dipole 3")  # queued; honoured at the next steering point
    inv.run()
    print(inv.board())
    inv.report()              # report.md, report.html, conclusion.json

    inv = Investigation.open("runs/demo")   # after a crash, kill -9 or a closed notebook
    inv.run()                               # continues; finished calculations come from the store

The run directory holds ``checkpoints.sqlite`` (LangGraph's SQLite saver),
``settings.json`` (no secrets: an LLM is named, its key stays in the environment),
``inbox.jsonl`` (steering requests, durable before they are queued), ``llm_replies.jsonl`` (an LLM-driven
run's model replies, for ``tierchem replay``),
``investigation.log``, ``report.md``, ``report.html`` and ``conclusion.json``.
"""

from __future__ import annotations

import inspect
import json
import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

if TYPE_CHECKING:  # the state's models are imported where used: importing this module stays cheap (a replay)
    from .notebook import Board
    from .replay import Replayed
    from .state import InvestigationView

log = logging.getLogger(__name__)

THREAD = {"configurable": {"thread_id": "investigation"}}
SETTINGS = "settings.json"


class Investigation:
    """One investigation, living in its run directory."""

    replayed_from: "Replayed | None" = None   # set when create copied an identical earlier run (agent.replay)
    _replay_key: str | None = None            # set by create: the key a finished run is kept under
    _replay_unread = False                    # a replayed run's first run() returns its state as it is

    def __init__(self, run_dir: Path, settings: dict, llm=None, executor=None, progress=None):
        from . import runlock

        self.run_dir = Path(run_dir)
        self._lock = runlock.acquire(self.run_dir)  # RunDirLocked naming the holder
        try:
            self._start(settings, llm, executor, progress)
        except BaseException:
            runlock.release(self._lock)
            raise

    def _start(self, settings: dict, llm, executor, progress) -> None:
        from ..tiers.executors import make_executor
        from ..tiers.store import ResultStore
        from .graph import RunContext, build_graph
        from .llm import make_planner

        self.settings = settings
        self._log_handler = _attach_log(self.run_dir / "investigation.log")
        self.store = ResultStore(settings.get("store_path"))
        self.executor = make_executor(executor or settings.get("executor", "local"), self.store)
        self.planner = make_planner(llm if llm is not None else settings.get("llm"))
        if hasattr(self.planner, "record"):  # an LLM planner: its replies are recorded for replay
            from .llm import REPLIES

            self.planner.record = self.run_dir / REPLIES
        from langgraph.checkpoint.sqlite import SqliteSaver

        self._conn = sqlite3.connect(self.run_dir / "checkpoints.sqlite", check_same_thread=False)
        self.checkpointer = SqliteSaver(self._conn)
        self.graph = build_graph(self.checkpointer)
        self.context = RunContext(store=self.store, executor=self.executor, planner=self.planner,
                                  run_dir=self.run_dir, background=settings.get("background", True),
                                  background_tier=settings.get("background_tier", 3),
                                  wait_background=settings.get("wait_background", True), progress=progress)

    # ------------------------------------------------------------ create / open
    @classmethod
    def create(cls, series_path: str | Path, question: str, run_dir: str | Path, *, llm=None,
               tier_cap: int = 3, cpu_budget_s: float = 1800.0, executor: str = "local",
               store_path: str | Path | None = None, background: bool = True, wait_background: bool = True,
               background_tier: int = 3, progress=None, fresh: bool = False) -> "Investigation":
        """A new investigation of ``series_path`` (CSV/SDF/folder) in ``run_dir`` (must be new or empty).

        ``llm``: None/"built-in" for the built-in planner, a provider string ("openai:gpt-4o",
        "anthropic:...", "ollama:...", "http://host:port/v1@model"), or a LangChain chat model.

        When an earlier run with every input the same finished and was kept (:mod:`.replay`), its files are
        copied into ``run_dir`` instead, ``replayed_from`` says so and the first :meth:`run` returns its
        state; ``fresh=True`` computes it again (and keeps the new run in its place).
        """
        run_dir = Path(run_dir)
        settings = _settings(locals())  # create's arguments, as settings.json holds them
        _check_new(question, llm, run_dir)
        done = None if fresh else _restore(settings, llm, run_dir)
        if done is not None:
            inv = cls.open(run_dir, progress=progress)
            inv.replayed_from, inv._replay_unread = done, True
            return inv
        from .series import read_series
        from .state import Budget

        series = read_series(series_path)  # SeriesError with a clear message
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / SETTINGS).write_text(json.dumps(settings, indent=2))
        inv = cls(run_dir, settings, llm=llm, progress=progress)
        inv._initial = {"question": question, "series": series.model_dump(mode="json"),
                        "budget": Budget(cpu_s_limit=cpu_budget_s, tier_cap=tier_cap).model_dump(), "step": 0}
        if llm is None or isinstance(llm, str):  # a chat model object names nothing a key could hold
            from .replay import replay_key

            inv._replay_key = replay_key(settings)
        return inv

    @classmethod
    def replayed(cls, series_path: str | Path, question: str, run_dir: str | Path, **options) -> "Replayed | None":
        """What :meth:`create` with these arguments does first, without opening the run: the identical earlier
        run's files copied into ``run_dir`` (a :class:`.replay.Replayed`), or None. Imports no LangGraph,
        RDKit, matplotlib or engine: the command line's path for a run it need not run again."""
        bound = _CREATE.bind(series_path, question, run_dir, **options)
        bound.apply_defaults()
        args, run_dir = bound.arguments, Path(run_dir)
        _check_new(question, args["llm"], run_dir)
        return None if args["fresh"] else _restore(_settings(args), args["llm"], run_dir)

    @classmethod
    def open(cls, run_dir: str | Path, *, llm=None, executor: str | None = None, progress=None,
             wait_background: bool | None = None) -> "Investigation":
        run_dir = Path(run_dir)
        path = run_dir / SETTINGS
        if not path.exists():
            raise FileNotFoundError(f"{run_dir}: not an investigation run directory (no {SETTINGS})")
        settings = json.loads(path.read_text())
        if wait_background is not None:
            settings["wait_background"] = wait_background
        return cls(run_dir, settings, llm=llm, executor=executor, progress=progress)

    # ------------------------------------------------------------ running
    def _snapshot(self):
        return self.graph.get_state(THREAD)

    @property
    def started(self) -> bool:
        return bool(self._snapshot().values)

    def run(self, until: Literal["end", "steer"] = "end",
            on_update: Callable[[str, dict], None] | None = None) -> InvestigationView:
        """Run to the end, or to the next steering point (``until="steer"``).

        ``on_update(node, update)`` is called after each graph step with the node's name and
        its partial state update (e.g. its ``transcript`` lines): the notebook chat streams them.
        """
        from .state import view

        if self._replay_unread:  # the earlier identical run's state, unless requests ask for more
            self._replay_unread = False
            if not self.queue():
                return self.state
        snap = self._snapshot()
        interrupt = ["steer"] if until == "steer" else None
        if not snap.values:
            payload = getattr(self, "_initial", None)
            if payload is None:
                raise RuntimeError(f"{self.run_dir}: no saved state to resume and no series to start from")
        elif snap.next:
            payload = None  # resume where it stopped (after a kill, or a steering pause)
        else:
            payload = {"step": view(snap.values).step, "stop": False}  # finished: re-enter for new requests
        # Resuming from a pause before steer runs steer first, then stops before the next one. A finished
        # run re-entered for new requests reaches steer at once: go on through it, so the step honours them.
        legs = 2 if (until == "steer" and snap.values and not snap.next) else 1
        for _ in range(legs):
            for chunk in self.graph.stream(payload, THREAD, context=self.context, interrupt_before=interrupt,
                                           stream_mode="updates"):
                for node, update in chunk.items():
                    if on_update is not None and not node.startswith("__") and isinstance(update, dict):
                        on_update(node, update)
            payload = None
            if not self._snapshot().next:
                break
        if self._replay_key and not snap.values and until == "end" and not self._snapshot().next:
            self._keep()  # from its start to its end in one go: kept for replay (agent.replay)
        return self.state

    def _keep(self) -> None:
        """Keep this finished run for replay; keeping it never fails the run (a log line says why not)."""
        from .inbox import INBOX
        from .replay import keep

        key, self._replay_key = self._replay_key, None
        try:
            keep(self.run_dir, self.settings, key, self.state, self._conn, INBOX, SETTINGS)
        except Exception as exc:
            log.warning("%s not kept for replay: %s", self.run_dir, exc)

    @property
    def state(self) -> InvestigationView:
        from .state import view

        return view(self._snapshot().values)

    @property
    def next_steps(self) -> tuple[str, ...]:
        return tuple(self._snapshot().next)

    def ask(self, message: str, priority: int | None = None) -> str:
        """Queue a steering request, in the scientist's words or as a command (durable at once); returns the reply.

        A message holding several requests is queued as several, in order, each with the priority its words
        give ("first" 1, "later" 8, a stop 0; ``priority`` overrides them). Questions (why, how sure, status,
        help) and requests it could not read are answered now and recorded as answered, so the steering point
        does not answer them a second time."""
        from .inbox import write_inbox
        from .interpret import read_message
        from .steering import answer_now

        text = message.strip()
        v = self.state
        reading = read_message(text, v)
        replies = []
        for part in reading.parts:
            words = text if len(reading.parts) == 1 else part.text
            if part.read_only or part.unsure:
                answer = answer_now(part.commands, v) if part.read_only else reading.reply_to(part, v)
                write_inbox(self.run_dir, words, 5, status="done", response=answer)
                replies.append(answer)
                continue
            prio = priority if priority is not None else (part.priority if part.priority is not None else 5)
            req = write_inbox(self.run_dir, words, prio)
            log.info("request %s queued: %s", req.id, words)
            queue = self.queue()
            place = next((k for k, q in enumerate(queue, start=1) if q["id"] == req.id), None)
            where = f", place {place} of {len(queue)} in the queue" if place else ""
            replies.append(f"{reading.reply_to(part, v)} Queued as request {req.id} (priority {prio}{where}); it is "
                           "honoured at the next steering point.")
        return "\n".join(replies)

    def queue(self) -> list[dict]:
        """Pending requests in the order they will be honoured (queued and not yet taken in)."""
        from .inbox import read_inbox

        v = self.state
        known = {r.id for r in v.requests}
        pend = v.pending_requests() + [r for r in read_inbox(self.run_dir) if r.id not in known and r.status == "pending"]
        return [r.model_dump() for r in sorted(pend, key=lambda r: (r.priority, r.seq))]

    # ------------------------------------------------------------ reading
    def board(self) -> "Board":
        """The hypothesis board: a ``str`` (plain text) that renders as a table in a notebook."""
        from .notebook import Board

        return Board(self.state)

    # ------------------------------------------------------------ notebook displays (agent/notebook.py)
    def evidence(self, tier: int | None = None, observable: str | None = None):
        """The evidence table (all tiers, or one tier / observable)."""
        from .notebook import EvidenceTable

        return EvidenceTable(self.state, tier, observable)

    def plot(self, kind: Literal["evidence", "ladder"] = "evidence", observables=None):
        """``evidence``: each observable per molecule per tier with ±σ; ``ladder``: interaction
        energies across tiers. An inline PNG in a notebook; None when there is nothing to plot yet."""
        from .views import evidence_figure, ladder_figure

        return (ladder_figure if kind == "ladder" else evidence_figure)(self.state, observables)

    def chat(self):
        """A chat widget (ipywidgets) that queues requests and runs steps without freezing the notebook."""
        from .notebook import Chat

        return Chat(self)

    def _repr_html_(self) -> str:
        from .notebook import investigation_html

        return investigation_html(self)

    def _repr_markdown_(self) -> str:
        from .notebook import investigation_markdown

        return investigation_markdown(self)

    def conclusion(self) -> dict | None:
        from .report import conclusion_json

        v = self.state
        return conclusion_json(v) if v.conclusion else None

    def report(self, fmt: Literal["md", "html"] = "md") -> Path:
        from .report import write_all

        paths = write_all(self.state, self.run_dir, self.store)
        return paths[fmt]

    @property
    def closed(self) -> bool:
        """True after :meth:`close` (the notebook chat then reopens the run directory)."""
        return getattr(self, "_lock", None) is None

    def close(self) -> None:
        from . import runlock

        if getattr(self, "_lock", None) is None:  # closed already
            return
        try:
            self.context.close()
            self.executor.close()
        finally:
            self._conn.close()
            logging.getLogger("tierchem").removeHandler(self._log_handler)
            self._log_handler.close()
            runlock.release(self._lock)
            self._lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_CREATE = inspect.signature(Investigation.create)  # its defaults, for Investigation.replayed


def _settings(args: dict) -> dict:
    """``settings.json`` of a new run from create's arguments (no secret: an LLM is named, not keyed)."""
    llm, store_path = args["llm"], args["store_path"]
    return {"question": args["question"], "series": str(args["series_path"]),
            "llm": llm if isinstance(llm, str) else None, "executor": args["executor"],
            "store_path": str(store_path) if store_path else None, "background": args["background"],
            "background_tier": args["background_tier"], "wait_background": args["wait_background"],
            "tier_cap": args["tier_cap"], "cpu_budget_s": args["cpu_budget_s"]}


def _check_new(question: str, llm, run_dir: Path) -> None:
    """Refuse what create refuses before anything is written: an empty question, a hosted LLM without its
    key, a run directory another process holds or that holds an investigation."""
    from . import runlock

    if not str(question or "").strip():
        raise ValueError("the question is empty; ask what you want to know, e.g. "
                         "'Why does the target pack differently from its analogs?'")
    if isinstance(llm, str) and llm != "built-in":
        from .llm import require_key

        require_key(llm)
    if run_dir.is_dir():  # a directory another process holds is named as such, not as "exists"
        runlock.release(runlock.acquire(run_dir))
    if (run_dir / "checkpoints.sqlite").exists():
        raise FileExistsError(f"{run_dir} already holds an investigation; open it with Investigation.open "
                              "(or `tierchem resume`), or choose a new --run-dir")


def _restore(settings: dict, llm, run_dir: Path) -> "Replayed | None":
    """The identical earlier run copied into ``run_dir`` (agent.replay), or None; a chat model object
    (not a provider string) is never replayed."""
    if not (llm is None or isinstance(llm, str)):
        return None
    from .replay import restore

    return restore(settings, run_dir, SETTINGS)


def _attach_log(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger("tierchem")
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler


def investigate(series: str | Path, question: str, run_dir: str | Path, **kwargs) -> dict | None:
    """Create and run an investigation to the end; returns conclusion.json's content."""
    with Investigation.create(series, question, run_dir, **kwargs) as inv:
        inv.run()
        return inv.conclusion()


def saved_state(run_dir: str | Path) -> InvestigationView:
    """A run directory's last saved state, read-only, without its planner (no LLM, no key, no run lock)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from .state import view

    path = Path(run_dir) / "checkpoints.sqlite"
    if not path.exists():
        raise FileNotFoundError(f"{run_dir}: not an investigation run directory (no checkpoints.sqlite)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        saved = SqliteSaver(conn).get_tuple(THREAD)
    finally:
        conn.close()
    return view(saved.checkpoint["channel_values"] if saved else {})


def replay(run_dir: str | Path, out_dir: str | Path | None = None, progress=None) -> InvestigationView:
    """Re-run an LLM-driven investigation offline from its record (``llm_replies.jsonl``) into ``out_dir``
    (default ``RUN_DIR/replay``): the recorded replies answer in order, and the scientist's requests are
    queued again at the steps they were honoured at. Finished calculations come from the store."""
    from .inbox import write_inbox
    from .llm import REPLIES, RecordedReplies
    from .state import Budget

    src = Path(run_dir)
    record = RecordedReplies(src / REPLIES)
    settings = {**json.loads((src / SETTINGS).read_text()), "llm": None, "replay_of": str(src)}
    first = saved_state(src)
    out = Path(out_dir) if out_dir else src / "replay"
    if (out / "checkpoints.sqlite").exists():
        raise FileExistsError(f"{out} already holds an investigation; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    (out / SETTINGS).write_text(json.dumps(settings, indent=2))
    due = sorted(record.requests, key=lambda r: (r["step"], r.get("seq", 0)))
    with Investigation(out, settings, llm=record, progress=progress) as inv:
        inv._initial = {"question": first.question, "series": first.series.model_dump(mode="json"), "step": 0,
                        "budget": Budget(cpu_s_limit=settings.get("cpu_budget_s", first.budget.cpu_s_limit),
                                         tier_cap=settings.get("tier_cap", first.budget.tier_cap)).model_dump()}
        for _ in range(10_000):  # one pass per steering point
            inv.run(until="steer")
            step = inv.state.step
            while due and due[0]["step"] <= step:
                r = due.pop(0)
                write_inbox(out, r["text"], r.get("priority", 5))
            if not inv.next_steps and not due:
                break
        log.info("replayed %d of %d recorded replies (%d prompts differed from the record)", record.used,
                 len(record.replies), record.mismatched)
        return inv.state


def example_path(name: str) -> Path:
    """A shipped example's folder (``examples/NAME`` in the source tree)."""
    path = Path(__file__).resolve().parent.parent / "examples" / name
    if not path.is_dir():
        raise FileNotFoundError(f"example {name!r} not found at {path}")
    return path


def run_demo(run_dir: str | Path = "runs/demo", wait: bool = False, **kwargs) -> dict | None:
    """The dihalobenzene example (``make demo``): built-in planner, offline, to a report.

    With ``wait=False`` (the default, a few minutes on 2 cores) it ends with the conclusion
    drawn so far: the counterpoise DFT contact energies that would confirm the mechanism are
    left pending, to be finished by ``tierchem resume RUN_DIR`` (or ``wait=True``, ~10 more
    minutes on 2 cores). Running it again on the same ``run_dir`` resumes.
    """
    example = example_path("dihalobenzenes")
    run_dir = Path(run_dir)
    if (run_dir / "checkpoints.sqlite").exists():
        with Investigation.open(run_dir, wait_background=wait) as inv:
            inv.run()
            return inv.conclusion()
    question = (example / "question.txt").read_text().strip()
    return investigate(example, question, run_dir, wait_background=wait, **kwargs)
