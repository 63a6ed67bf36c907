"""The steering command language: the exact forms every planner understands.

Steering commands (the built-in planner's language; an LLM planner maps free
text onto the same actions)::

    add hypothesis <text> [category]   a new hypothesis (category from the library
                                       gives it that category's observables)
    reject <id> [reason]               reject a hypothesis (pinned: evidence will not revive it)
    reopen <id>                        reopen a rejected hypothesis (evidence judges it again)
    pushback <id> <reason>             dispute a verdict: reopen it, raise its priority and
                                       recompute its observables one tier higher
    priority <id> <n>                  set a hypothesis's priority (1 = first)
    calc <observable> <tier>           compute an observable at a tier for the whole series
    why <id> [observable]              explain a hypothesis's status and evidence (one observable's)
    status                             what I am doing, what is next, how long it will take
    budget <seconds>                   the whole investigation's compute budget (default 1800)
    exclude <element> [...]            no confirmatory candidate may contain these elements
                                       (symbols or names: 'exclude I', 'no iodine')
    allow <element> [...]              lift an exclusion
    more candidates <n>                propose n confirmatory molecules (also 'candidates <n>')
    design budget <seconds>            estimated seconds one design pass may spend (default 90)
    stop                               conclude with what is known
    help                               list these commands

Free text works too (agent/interpret.py): "I don't buy the sigma hole story", "check the dipole at DFT
first", "no iodine, and propose five candidates".
"""

from __future__ import annotations

import re
import shlex

from .hypotheses import CATEGORIES
from .observables import OBSERVABLES
from .state import Action, InvestigationView, PlanStep

COMMANDS_HELP = __doc__.split("Steering commands", 1)[1].split("::", 1)[1].strip("\n")


ELEMENT_NAMES = {"iodine": "I", "bromine": "Br", "chlorine": "Cl", "fluorine": "F", "nitrogen": "N",
                 "oxygen": "O", "sulfur": "S", "sulphur": "S", "phosphorus": "P", "selenium": "Se",
                 "boron": "B", "silicon": "Si"}


def _element(word: str) -> str | None:
    from ..chem.molecule import ATOMIC_NUMBER

    w = word.strip(",;.").lower()
    if w in ELEMENT_NAMES:
        return ELEMENT_NAMES[w]
    sym = w[:1].upper() + w[1:]
    return sym if sym in ATOMIC_NUMBER else None


def parse_design_command(words: list[str]) -> PlanStep | None:
    """'exclude I Br' / 'no iodine' / 'allow I' / 'more candidates 8' / 'candidates 8'; None if not one.
    Raises ValueError for a design command with a bad argument."""
    if not words:
        return None
    verb, rest = words[0].lower(), [w for w in words[1:] if w.lower() not in ("and", "or")]
    if verb in ("exclude", "no", "allow") and rest:
        elements = [_element(w) for w in rest]
        if None in elements:
            if verb == "no":
                return None  # "no, ..." is not a design command
            bad = [w for w, e in zip(rest, elements) if e is None]
            raise ValueError(f"not an element: {', '.join(bad)} (use symbols or names, e.g. 'exclude I', "
                             "'no iodine')")
        kind = "allow" if verb == "allow" else "exclude"
        what = ", ".join(dict.fromkeys(elements))
        return PlanStep(reasoning=(f"Confirmatory molecules may contain {what} again." if kind == "allow" else
                                   f"No confirmatory molecule will contain {what}."),
                        actions=[Action(kind=kind, elements=list(dict.fromkeys(elements)))])
    if verb == "design" and rest[:1] == ["budget"]:
        if len(rest) != 2 or not re.fullmatch(r"\d+", rest[1]):
            raise ValueError("'design budget' needs seconds, e.g. 'design budget 300'")
        return PlanStep(reasoning=f"The design may spend up to {rest[1]} s (estimated) per pass.",
                        actions=[Action(kind="design_budget", seconds=float(rest[1]))])
    if verb == "more" and rest[:1] == ["candidates"]:
        rest = rest[1:]
        verb = "candidates"
    if verb == "candidates":
        if len(rest) != 1 or not re.fullmatch(r"\d+", rest[0]) or not 1 <= int(rest[0]) <= 50:
            raise ValueError("'more candidates' needs a number from 1 to 50, e.g. 'more candidates 8'")
        return PlanStep(reasoning=f"Propose {rest[0]} confirmatory molecules.",
                        actions=[Action(kind="candidates", count=int(rest[0]))])
    return None


def _simple_command(verb: str, rest: list[str]) -> PlanStep | None:
    """stop / status / help / budget N; None if not one (ValueError for a bad budget)."""
    if verb == "stop":
        return PlanStep(reasoning="Stop and conclude.", actions=[Action(kind="stop")])
    if verb == "status":
        return PlanStep(reasoning="Where things stand.", actions=[Action(kind="status")])
    if verb == "budget":
        if len(rest) != 1 or not re.fullmatch(r"\d+", rest[0]):
            raise ValueError("'budget' needs seconds, e.g. 'budget 3600'")
        return PlanStep(reasoning=f"The investigation may spend up to {rest[0]} s of compute.",
                        actions=[Action(kind="budget", seconds=float(rest[0]))])
    if verb == "help":  # the reply is the list; no action repeats it
        return PlanStep(reasoning="Commands:\n" + COMMANDS_HELP, actions=[Action(kind="note")])
    return None


def parse_command(text: str, view: InvestigationView | None = None) -> PlanStep:
    try:
        words = shlex.split(text.strip())
    except ValueError:
        words = text.strip().split()
    if not words:
        return PlanStep(reasoning="Empty request.", actions=[])
    verb = words[0].lower()
    rest = words[1:]
    ids = {h.id for h in view.hypotheses} if view else set()

    def need_id() -> str:
        if not rest:
            raise ValueError(f"'{verb}' needs a hypothesis id")
        hid = rest[0]
        if ids and hid not in ids:
            raise ValueError(f"no hypothesis {hid!r}; ids: {', '.join(sorted(ids))}")
        return hid

    try:
        if verb == "add" and rest[:1] == ["hypothesis"]:
            body = rest[1:]
            category = "other"
            if body and body[-1] in CATEGORIES:
                category = body.pop()
            if not body:
                raise ValueError("'add hypothesis' needs a statement")
            return PlanStep(reasoning=f"Add the scientist's hypothesis ({category}).",
                            actions=[Action(kind="add_hypothesis", text=" ".join(body), category=category)])
        if verb == "reject":
            hid = need_id()
            return PlanStep(reasoning=f"Reject {hid} as asked.", actions=[Action(
                kind="reject", hypothesis_id=hid, text=" ".join(rest[1:]) or "rejected by the scientist")])
        if verb == "reopen":
            hid = need_id()
            return PlanStep(reasoning=f"Reopen {hid} as asked.", actions=[Action(kind="reopen", hypothesis_id=hid,
                                                                                 text="reopened by the scientist")])
        if verb == "pushback":
            hid = need_id()
            reason = " ".join(rest[1:]) or "the scientist disputes this verdict"
            return PlanStep(reasoning=f"The scientist pushes back on {hid}: {reason}. I reopen it, raise its "
                                      "priority and recompute its observables one tier higher.",
                            actions=[Action(kind="pushback", hypothesis_id=hid, text=reason),
                                     Action(kind="priority", hypothesis_id=hid, priority=1)])
        if verb == "priority":
            hid = need_id()
            if len(rest) < 2 or not re.fullmatch(r"-?\d+", rest[1]):
                raise ValueError("'priority' needs an id and an integer, e.g. 'priority halogen_bond 1'")
            return PlanStep(reasoning=f"Set {hid}'s priority to {rest[1]}.",
                            actions=[Action(kind="priority", hypothesis_id=hid, priority=int(rest[1]))])
        if verb == "calc":
            if len(rest) < 2:
                raise ValueError("'calc' needs an observable and a tier, e.g. 'calc sigma_hole 3'")
            name, tier = rest[0], rest[1]
            if name not in OBSERVABLES:
                raise ValueError(f"unknown observable {name!r}; known: {', '.join(OBSERVABLES)}")
            levels = {"mmff": 0, "classical": 1, "xtb": 2, "dft": 3, "mp2": 4}
            t = levels.get(tier.lower(), int(tier) if tier.isdigit() else -1)
            if not OBSERVABLES[name].use(t).computable:
                raise ValueError(f"{name} cannot be computed at tier {tier}: {OBSERVABLES[name].use(t).note}")
            return PlanStep(reasoning=f"Compute {name} at tier {t} as asked.",
                            actions=[Action(kind="compute", observable=name, tier=t)])
        design = parse_design_command(words)
        if design is not None:
            return design
        if verb == "why":
            hid = need_id()
            name = rest[1] if len(rest) > 1 and rest[1] in OBSERVABLES else None
            return PlanStep(reasoning=f"Explain {hid}" + (f" ({name})." if name else "."),
                            actions=[Action(kind="explain", hypothesis_id=hid, observable=name)])
        simple = _simple_command(verb, rest)
        if simple is not None:
            return simple
    except ValueError as exc:
        return PlanStep(reasoning=f"Could not act on {text!r}: {exc}.", actions=[])
    return PlanStep(reasoning=f"Not a command: {text!r}. Type 'help' for the commands.", actions=[])
