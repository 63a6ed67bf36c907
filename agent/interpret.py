"""The built-in interpreter: a scientist's free text mapped to the planner's typed actions, offline.

Deterministic and local (regular expressions over the field's vocabulary, ``difflib`` for typos). A
message is split into clauses ("; then", "also", sentence ends, an "and" that starts a new request);
each clause is read as an *intent* (compute, explain, reject, reopen, push back, reprioritise, add a
hypothesis, design constraints, budgets, status, stop, help) with its *references* (observables by
what chemists call them, tiers by method names, hypotheses by id, category or domain words).

Each understood clause becomes a command of the exact steering language (``calc dipole 3``,
``pushback halogen_bond '...'``), parsed by :func:`.commands.parse_command` into actions: the
interpreter and the command language cannot drift apart, and the command is what the scientist sees
as "understood as" and can copy to correct it. A request that cannot be done as asked becomes the
nearest feasible one, with a note saying so; when unsure, the reply lists the likeliest readings as
copyable commands and no action is taken.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, field

from .evidence import best_evidence
from .hypotheses import CATEGORIES
from .observables import OBSERVABLES
from .commands import ELEMENT_NAMES, parse_command
from .state import Action, InvestigationView, PlanStep

# ------------------------------------------------------------------ vocabulary
# Observables by what chemists call them: observable -> regular expressions (over normalised text).
OBS_WORDS: dict[str, tuple[str, ...]] = {
    "sigma_hole": (r"sigma[- ]?holes?", r"\besp\b", r"electrostatic potential", r"\bv_?s(,? ?max)?\b", r"\bmesp\b"),
    "halogen_charge": (r"(partial|atomic|mulliken|esp) charges?", r"charges? on the (iodine|halogen|bromine|i|br)s?",
                       r"halogen charges?"),
    "dipole": (r"dipoles?( moments?)?",),
    "ie_type_ii_halogen": (r"type[- ]?(ii|2)\b( halogen)?( contacts?| interactions?)?", r"\bi\.\.\.i\b( contact)?",
                           r"\bx\.\.\.x\b( contact)?", r"halogen[- ](halogen|\.\.\.halogen) contacts?",
                           r"halogen contacts?", r"iodine[- ]iodine contacts?"),
    "ie_type_i_halogen": (r"type[- ]?(i|1)\b( halogen)?( contacts?| interactions?)?", r"symmetric contacts?"),
    "ie_halogen_bond": (r"halogen[- ]bond(s|ing)? to (an? )?(n|o|s|nitrogen|oxygen|sulfur|acceptor)\b",
                        r"\bc-[xi]\.\.\.[nos]\b", r"\bx\.\.\.[nos]\b", r"\bxb (energy|to n|acceptor)"),
    "ie_stack": (r"(pi[- ]?)?stacking( energy| interaction)?", r"stacked dimers?", r"pi[- ]pi", r"\bstacks?\b"),
    "ie_hbond": (r"(hydrogen|h)[- ]?bond(ed)? (energy|dimers?|interaction)", r"hbond (energy|dimer)"),
    "polarizability": (r"polari[sz]abilit(y|ies)", r"\balpha\b"),
    "molar_refractivity": (r"molar refractivity", r"refractivit(y|ies)"),
    "molecular_volume": (r"(molecular |van der waals |vdw )?volumes?", r"\bsizes?\b"),
    "asphericity": (r"asphericit(y|ies)", r"\bshapes?\b"),
    "npr1": (r"\bnpr1?\b", r"principal[- ]moments?"),
    "n_hbond_donors": (r"(h-?bond |hydrogen[- ]bond )?donors?( count)?",),
    "n_hbond_acceptors": (r"(h-?bond |hydrogen[- ]bond )?acceptors?( count)?",),
    "n_rotatable_bonds": (r"rotatable bonds?", r"\brotors?\b"),
    "n_low_conformers": (r"(low[- ]energy )?conformers?( count)?", r"conformer ensembles?"),
    "intramolecular_hbonds": (r"intramolecular (h-?bonds?|hydrogen bonds?)( count)?",),
    "hbond_lock_energy": (r"(h-?bond |hydrogen bond )?lock(ing)? energ(y|ies)", r"open[- ](vs|versus|minus)[- ]closed"),
    "n_polar_hydrogens": (r"polar hydrogens?", r"\bn-?h and o-?h\b"),
    "tautomer_energy": (r"tautomer(ic)? energ(y|ies)", r"tautomers? in the gas( phase)?", r"gas[- ]phase tautomer\w*"),
    "tautomer_energy_polar": (r"tautomer\w* .*\b(in water|polar continuum|solvent|solution|pcm|alpb)",
                              r"(polar|solvated|continuum) tautomer\w*"),
}
# Tiers by method name; the last group marks a CCSD(T) request (tier 4 here runs DF-MP2).
TIER_WORDS: tuple[tuple[int, str], ...] = (
    (4, r"ccsd\(t\)|ccsd|coupled[- ]cluster|gold[- ]standard|\bcbs\b"),
    (4, r"\bmp2\b|df-mp2|correlated|wave ?function|post-hf|tier ?4|level ?4"),
    (3, r"\bdft\b|b3lyp(-d3(\(?bj\)?)?)?|density functional|\bpbe0?\b|wb97x?(-d)?|def2|tier ?3|level ?3|hybrid functional"),
    (2, r"\bxtb\b|gfn2?(-xtb)?|tight[- ]binding|semi-?empirical|tblite|tier ?2|level ?2"),
    (1, r"force[- ]?field|\bgaff2?\b|\bamber\b|openmm|\bclassical\b|am1-?bcc|molecular mechanics|\bff\b|tier ?1|level ?1"),
    (0, r"\bmmff(94)?\b|\brdkit\b|cheminformatics|descriptors?|tier ?0|level ?0"),
)
CCSDT = re.compile(r"ccsd\(t\)|ccsd|coupled[- ]cluster|gold[- ]standard|\bcbs\b")
HIGHER_TIER = re.compile(r"\b(higher|next|better|more accurate|more rigorous|one) (tier|level|rung|method|theory|up)\b"
                         r"|\bescalate\b|\bone tier up\b|\bup a (tier|level)\b")
TIER_METHOD = {0: "MMFF94", 1: "GAFF2", 2: "GFN2-xTB", 3: "B3LYP-D3(BJ)/def2-SVP", 4: "DF-MP2/def2-SVP"}

# Hypotheses by domain words: id (cause = its category, or a mechanism id) -> regular expressions.
HYP_WORDS: dict[str, tuple[str, ...]] = {
    "halogen_bond.type_ii_contact": OBS_WORDS["ie_type_ii_halogen"],
    "halogen_bond.type_i_contact": OBS_WORDS["ie_type_i_halogen"],
    "halogen_bond.xb_acceptor": OBS_WORDS["ie_halogen_bond"],
    "hbond_motif.hbond_dimer": (r"(hydrogen|h)[- ]?bond(ed)? dimers?", r"hbond dimer", r"\bcatemer", r"r2,?2\(8\)"),
    "halogen_bond": (r"halogen[- ]?bond(s|ing)?", r"sigma[- ]?holes?( story| idea| argument| hypothesis)?", r"\bxb\b",
                     r"electrostatic potential", r"\besp\b"),
    "intramolecular_hbond": (r"intramolecular",),
    "hbond_motif": (r"(hydrogen|h)[- ]?bond(s|ing)?", r"\bhbonds?\b", r"\bdonors?\b"),
    "conformational_flexibility": (r"flexib\w*", r"conformers?", r"conformations?", r"rotatable", r"\brotors?\b",
                                   r"floppy", r"torsions?"),
    "pi_stacking_quadrupole": (r"(pi[- ]?)?stacking", r"quadrupoles?", r"pi[- ]pi", r"\bstacks?\b", r"face[- ]to[- ]face"),
    "dipole_antiparallel": (r"dipoles?", r"antiparallel"),
    "shape_sterics": (r"\bshapes?\b", r"steric\w*", r"\bbulk\w*", r"\bsizes?\b", r"\bbigger\b", r"\blarger\b",
                      r"\bvolumes?\b"),
    "tautomerism": (r"tautomer\w*", r"proton transfer", r"\bketo\b", r"\benol\b"),
    "dispersion_polarisability": (r"dispersion", r"polari[sz]ab\w*", r"\blondon\b", r"van der waals", r"\bvdw\b"),
}
# Categories for a new hypothesis, from its words (first match wins on a tie: the specific ones first).
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "intramolecular_hbond": HYP_WORDS["intramolecular_hbond"],
    "tautomerism": HYP_WORDS["tautomerism"],
    "halogen_bond": HYP_WORDS["halogen_bond"] + OBS_WORDS["ie_type_ii_halogen"] + (r"halogen contacts?",),
    "dispersion_polarisability": HYP_WORDS["dispersion_polarisability"] + (r"polari[sz]able",),
    "hbond_motif": HYP_WORDS["hbond_motif"] + HYP_WORDS["hbond_motif.hbond_dimer"] + (r"acceptors?", r"carboxylic"),
    "conformational_flexibility": HYP_WORDS["conformational_flexibility"],
    "pi_stacking_quadrupole": HYP_WORDS["pi_stacking_quadrupole"] + (r"aromatic", r"herringbone"),
    "dipole_antiparallel": HYP_WORDS["dipole_antiparallel"] + (r"\bpolar\b",),
    "shape_sterics": HYP_WORDS["shape_sterics"] + (r"\bbig\b", r"\bfits?\b", r"packing efficiency"),
}

NUMBER_WORDS = {"one": 1, "a": 1, "an": 1, "two": 2, "a couple of": 2, "couple of": 2, "three": 3, "a few": 3,
                "four": 4, "five": 5, "six": 6, "half a dozen": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
                "eleven": 11, "twelve": 12, "a dozen": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
                "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True)) + r")"
DURATION = re.compile(r"\b(half an? hour|" + _NUM + r" ?(hours?|hrs?|h|minutes?|mins?|seconds?|secs?|s))\b")
UNIT_S = {"h": 3600, "m": 60, "s": 1}

INTENTS: tuple[tuple[str, str], ...] = (   # (intent, pattern): the first that matches wins
    ("help", r"^(help|\?+|commands|what can (you|i) (do|say|ask)|how do i (use|talk to) (you|this))\b"),
    ("status", r"\bwhat (are|r) (you|u) (doing|working on|up to|running)|\bwhat'?s next|\bwhat is next|"
               r"\bwhat (comes|happens) next|\bhow long\b|\bstatus\b|\bprogress\b|\bwhere (are we|do we stand)|"
               r"\beta\b|\bhow much (time|budget|compute)|\bwhat'?s (in )?the queue|\bwhat'?s running"),
    ("stop", r"\b(stop|halt|wrap (it |things |this )?up|wrap up|that'?s enough|enough for (now|today)|call it a day|"
             r"we'?re done|finish (up|off|now)|write (up )?(the |a |your )?(conclusion|report|answer)|"
             r"conclude( now)?|give me (the|your) (answer|conclusion))\b"),
    ("budget", r"\bbudget\b|\bspend\b|\bhours? of (compute|cpu)|\bcompute time\b|\bcpu time\b|\btime limit\b|"
               r"\b(at most|up to|no more than|max(imum)?|limit|give yourself|allow yourself|you have|take)\b.*"
               r"\b(hours?|minutes?|mins?|seconds?)\b"),
    ("candidates", r"\b(candidates?|proposals?|molecules|compounds|suggestions|analogs?|analogues?)\b.*\b(propose|"
                   r"suggest|design|want|give|need)|\b(propose|suggest|design|want|give me|show me|need)\b.*\b"
                   r"(candidates?|proposals?|new molecules|compounds|analogs|analogues)\b|\bmore candidates\b"),
    ("allow", r"\b(allow|re-?allow|permit|put back|include|re-?enable|you can use|ok to use|fine to use)\b"
              r"|\b(is|are) (fine|ok|okay|allowed) again\b|\blift the (ban|exclusion)"),
    ("exclude", r"\b(exclude|no|without|avoid|ban|drop|skip|don'?t use|never use|keep out|remove)\b"),
    ("reopen", r"\b(re-?open|bring back|revive|reinstate|resurrect|restore|reconsider|undo|un-?reject|put .* back|"
               r"another (look|chance)|look again at|don'?t (reject|rule out|discard|dismiss|drop)|"
               r"shouldn'?t have (been )?(rejected|ruled out|discarded))\b"),
    ("pushback", r"\b(i )?(don'?t|do not) (buy|believe|trust|accept)|\bdoubt|\bpremature|\bnot convinced|"
                 r"\bunconvinced|\bs[ck]eptical|\bdisagree|\bpush ?back|\bare you sure|\bquestionable|\bsuspicious|"
                 r"\btoo (early|quick|quickly|hasty|soon)|\bhasty|\bi'?m not sure (about|that)|"
                 r"\bi (don'?t|do not) think\b|\bnot so fast|\bi challenge|\bdispute|\bfishy|\bnot sure i agree"),
    ("reject", r"\b(reject|rule (it |that |this )?out|discard|eliminate|dismiss|scrap|forget( about)?|get rid of|"
               r"cross (it |that )?off|strike|kill|drop)\b|\b(is|'s|are) (wrong|nonsense|rubbish|irrelevant|"
               r"a red herring|implausible|not it|not relevant|dead)\b|\bcan'?t be\b|\bisn'?t (it|relevant|the "
               r"answer|the cause)\b|\bnothing to do with\b|\bno way\b|\bdoesn'?t matter\b|\bnot the (cause|answer)"),
    ("priority", r"\b(de-?)?prioriti[sz]\w*|\bpriority\b|\bfirst\b|\bbefore anything else|\btop\b|\bmost important|"
                 r"\burgent\w*|\basap\b|\bright away|\bimmediately|\bover everything|\babove all|\bfocus on|"
                 r"\blater\b|\blast\b|\bcan wait|\bon hold|\bpark\b|\bless important|\bat the end|\bnot urgent"),
    ("explain", r"^(why|how come)\b|\bwhy\b|\bhow (sure|confident|certain|strong|solid|good)\b|\bshow me\b|"
                r"\bevidence\b|\bexplain\b|\bjustify\b|\btell me (about|more)|\bcompared? (with|to)\b|"
                r"\bversus\b|\bvs\.?\b|\bwhat (is|are|was|were|'s) (the|its)\b|\bhow (big|large|different)\b|"
                r"\bwhere does .* stand|\bwhat do (the numbers|you) (say|think|make)|\bconfidence\b|"
                r"\bwhat did you (find|get)|\bwhat about\b"),
    ("compute", r"\b(comput\w*|calculat\w*|calc|run|check|evaluat\w*|measur\w*|look at|re-?do|recomput\w*|try|"
                r"estimate|determine|obtain|quantif\w*|get me|do|i'?d like|i want|let'?s (see|have|get))\b"),
    ("add", r"\b(what if|maybe|perhaps|could it (just |simply )?be|might it be|could (this|that|the packing) be|"
            r"i (suspect|bet|wonder|guess|reckon|propose|hypothesi[sz]e)|my (guess|hypothesis|idea)|"
            r"another (idea|hypothesis|possibility|explanation)|new hypothesis|hypothesis:|add (a |the )?hypothesis|"
            r"consider (that|whether)|is it (possible|because)|it (might|could|may) be|how about|"
            r"(is|it'?s) (just |simply )?because|due to)\b"),
)
COMPUTE_VERBS = re.compile(INTENTS[-2][1])
ASKING = re.compile(r"\b(can|could|would|will) you\b|\bplease\b|\bwhy don'?t you\b|\blet'?s\b|\bi'?d like\b|"
                    r"\bi want\b|\bgo ahead\b")
PRIO_HIGH = re.compile(r"\bprioriti[sz]\w*|\bfirst\b|\bbefore anything else|\btop\b|\bmost important|\burgent\w*|"
                       r"\basap\b|\bright away|\bimmediately|\bover everything|\babove all|\bfocus on")
PRIO_LOW = re.compile(r"\bdeprioriti[sz]\w*|\bde-prioriti[sz]\w*|\blater\b|\blast\b|\bcan wait|\bon hold|\bpark\b|"
                      r"\bless important|\bat the end|\bnot urgent|\blow(er)? priority")
THAT = re.compile(r"^(that|this|it)\b|\b(that|this) (verdict|rejection|conclusion|result|one|call)\b|"
                  r"\b(looks|seems|is|sounds) premature\b")

# Words the typo fixer must leave alone (common English that is close to a domain word).
COMMON = set("""a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has have having
he her here him his how i if in into is it its itself just me more most my no nor not now of off on once only or
other our out over own same she should so some such than that the their them then there these they this those
through to too under until up very was we were what when where which while who whom why will with would you your
share step sure store dont cant wont isnt doesnt shouldnt didnt wasnt arent one two three four five six seven eight nine ten twelve twenty fifty stare state start stack shall same shade shaper scope stats please think thank thanks maybe
first later last else everything anything something nothing really actually seems looks bigger larger smaller
which whether story idea claim numbers number value values result results molecule molecules target analog analogs
analogue analogues iodine bromine chlorine fluorine check checks compare compared with without model models whole
dimer dimers contact contacts energy energies level tier tiers method better higher lower doubt trust believe
""".split())
SYNONYMS = {"prioritize": "prioritise", "polarizability": "polarisability", "sulphur": "sulfur", "σ": "sigma",
            "π": "pi", "h-bond": "hydrogen bond", "h bond": "hydrogen bond", "h-bonds": "hydrogen bonds"}


def normalise(text: str) -> str:
    """Lower case, one spelling for dots, dashes and quotes, synonyms folded."""
    t = text.strip().lower()
    for a, b in (("···", "..."), ("…", "..."), ("·", "."), ("–", "-"), ("—", " - "), ("’", "'"), ("‘", "'"),
                 ("“", '"'), ("”", '"'), ("σ", "sigma "), ("π", "pi ")):
        t = t.replace(a, b)
    t = re.sub(r"\.{2,}", "...", t)
    for a, b in SYNONYMS.items():
        t = re.sub(rf"\b{re.escape(a)}\b", b, t)
    return re.sub(r"\s+", " ", t)


def _vocabulary() -> list[str]:
    words = set()
    for table in (OBS_WORDS, HYP_WORDS):
        for pats in table.values():
            for p in pats:
                words |= set(re.findall(r"[a-z]{4,}", re.sub(r"\\[a-z]", " ", p)))
    for _, p in INTENTS + TIER_WORDS:
        words |= set(re.findall(r"[a-z]{4,}", re.sub(r"\\[a-z]", " ", p)))
    words |= {"b3lyp", "ccsd", "gfn2", "mmff", "gaff", "xtb", "dft", "mp2", "candidates", "hypothesis",
              "priority", "prioritise", "reject", "reopen", "pushback", "compute", "calculate", "explain"}
    words |= set(ELEMENT_NAMES) | {w for k in NUMBER_WORDS for w in k.split() if len(w) > 3}
    words |= {w[:-1] for w in words if w.endswith("s")} | {w + "s" for w in words}
    return sorted(w for w in words if w not in COMMON)


VOCAB = _vocabulary()
_PATTERNS = [re.compile(p) for table in (OBS_WORDS, HYP_WORDS) for pats in table.values() for p in pats] + \
    [re.compile(p) for _, p in INTENTS + TIER_WORDS]


def _known(word: str) -> bool:
    """A word the vocabulary's patterns already read (a stem such as 'asphericit' or 's[ck]eptical')."""
    return any(p.fullmatch(word) or (p.search(word) and len(p.search(word).group(0)) >= len(word) - 3)
               for p in _PATTERNS)


def fix_typos(text: str, ids: list[str]) -> str:
    """Each unknown word replaced by its closest vocabulary word or hypothesis id (difflib), when close."""
    def fix(m: re.Match) -> str:
        w = m.group(0)
        if w in COMMON or w in VOCAB or w in ids or len(w) < 3 or any(c.isdigit() for c in w) and len(w) < 4 \
                or _known(w):
            return w
        if "_" in w or "." in w.strip("."):
            best = difflib.get_close_matches(w, ids, n=1, cutoff=0.7)
            return best[0] if best else w
        if len(w) < 4 and w not in ("xbt", "dtf", "fdt", "mp3"):
            return w
        best = difflib.get_close_matches(w, VOCAB, n=1, cutoff=0.8 if len(w) > 4 else 0.75)
        return best[0] if best else w

    return re.sub(r"[a-z0-9_][a-z0-9_.()]*[a-z0-9_)]|[a-z]", fix, text)


# ------------------------------------------------------------------ references
def _spans(text: str, table: dict[str, tuple[str, ...]], allowed=None) -> list[tuple[int, int, str]]:
    """(start, end, key) of the table's phrases in ``text``: longest first, no overlaps, in text order."""
    found = []
    for key, pats in table.items():
        if allowed is not None and key not in allowed:
            continue
        for p in pats:
            found += [(m.start(), m.end(), key) for m in re.finditer(p, text)]
    kept: list[tuple[int, int, str]] = []
    for s, e, k in sorted(found, key=lambda x: (x[0] - x[1], x[0])):
        if all(e <= s2 or s >= e2 for s2, e2, _ in kept):
            kept.append((s, e, k))
    return sorted(kept)


def observables_in(text: str) -> list[str]:
    """Observables named in ``text`` (by their names or what chemists call them), in text order."""
    table = {n: OBS_WORDS.get(n, ()) + (r"(?<![\w.])" + re.escape(n) + r"(?![\w.])",) for n in OBSERVABLES}
    return list(dict.fromkeys(k for _, _, k in _spans(text, table)))


def hypotheses_in(text: str, v: InvestigationView) -> list[str]:
    """Hypotheses named in ``text``: ids (longest first), category names, then domain words."""
    ids = [h.id for h in v.hypotheses]
    table = {i: (r"(?<![\w.])" + re.escape(i) + r"(?![\w.])",) for i in ids}
    table.update({c: (r"\b" + c.replace("_", "[ _-]") + r"\b",) for c in CATEGORIES if c in ids})
    exact = _spans(text, table)
    words = _spans(text, HYP_WORDS, allowed=set(ids))
    spans = exact + [w for w in words if all(w[1] <= s or w[0] >= e for s, e, _ in exact)]
    return list(dict.fromkeys(k for _, _, k in sorted(spans)))


def tier_in(text: str) -> tuple[int | None, str]:
    """(tier, the words that named it) or (None, '')."""
    best = None
    for tier, pat in TIER_WORDS:
        m = re.search(pat, text)
        if m and (best is None or m.start() < best[2]):
            best = (tier, m.group(0), m.start())
    return (best[0], best[1]) if best else (None, "")


def number_in(text: str) -> int | None:
    m = re.search(r"\b(\d+)\b", text)
    if m:
        return int(m.group(1))
    for w in sorted(NUMBER_WORDS, key=len, reverse=True):
        if w not in ("a", "an") and re.search(rf"\b{re.escape(w)}\b", text):
            return NUMBER_WORDS[w]
    return None


def seconds_in(text: str) -> float | None:
    m = DURATION.search(text)
    if not m:
        return None
    if m.group(1).startswith("half"):
        return 1800.0
    n = m.group(2)
    value = float(n) if n[0].isdigit() else float(NUMBER_WORDS[n])
    return value * UNIT_S[m.group(3)[0]]


def elements_in(text: str, original: str) -> list[str]:
    """Elements by name (iodine) or by symbol where written as one (Br, Cl, I after a verb)."""
    out = [(m.start(), ELEMENT_NAMES[m.group(1)]) for m in
           re.finditer(r"\b(" + "|".join(ELEMENT_NAMES) + r")\b", text)]
    for m in re.finditer(r"\b(Br|Cl|F|I|N|O|S|Se|Si|B|P)\b", original):
        if m.group(1) != "I" or re.search(r"(exclude|no|without|avoid|allow|ban)\s+$", original[:m.start()], re.I):
            out.append((m.start() + 10_000, m.group(1)))
    return list(dict.fromkeys(e for _, e in sorted(out)))


# ------------------------------------------------------------------ readings
@dataclass
class Part:
    """One request in a message: its text, the commands it maps to, and how to answer it."""

    text: str
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    priority: int | None = None
    intent: str = ""

    @property
    def read_only(self) -> bool:
        """A question answered at once (explain, status, help): it changes nothing."""
        return bool(self.commands) and all(c.split()[0] in ("why", "status", "help") for c in self.commands)

    @property
    def unsure(self) -> bool:
        return not self.commands


@dataclass
class Reading:
    """How a message was understood: its parts (each queued as one request), in order."""

    text: str
    parts: list[Part]

    @property
    def commands(self) -> list[str]:
        return [c for p in self.parts for c in p.commands]

    def actions(self, v: InvestigationView | None = None) -> list[Action]:
        return [a for c in self.commands for a in parse_command(c, v).actions]

    def reply(self, v: InvestigationView | None = None) -> str:
        return " ".join(_part_reply(p, v) for p in self.parts)

    def reply_to(self, part: Part, v: InvestigationView | None = None) -> str:
        return _part_reply(part, v)

    def step(self, v: InvestigationView | None = None) -> PlanStep:
        return PlanStep(reasoning=self.reply(v), actions=self.actions(v))

    def as_dict(self, v: InvestigationView | None = None) -> dict:
        return {"text": self.text, "parts": [
            {"text": p.text, "intent": p.intent, "commands": p.commands, "priority": p.priority,
             "notes": p.notes, "options": p.options,
             "actions": [a.model_dump(exclude_none=True, exclude_defaults=True)
                         for c in p.commands for a in parse_command(c, v).actions]} for p in self.parts]}


def _part_reply(p: Part, v) -> str:
    if p.unsure:
        opts = ", ".join(f"`{o}`" for o in p.options) or "`help`"
        return f"I am not sure what you mean by {p.text!r}{'; ' + ' '.join(p.notes) if p.notes else ''}. " \
               f"Did you mean {opts}? Copy the one you mean (or rephrase)."
    said = " ".join(parse_command(c, v).reasoning for c in p.commands if not c.startswith(("why", "status", "help")))
    understood = "; ".join(f"`{c}`" for c in p.commands)
    return " ".join(x for x in (f"Understood as {understood}.", " ".join(p.notes), said) if x)


def interpret(text: str, v: InvestigationView) -> PlanStep:
    """The typed actions for a scientist's message, and the reply that says what will be done."""
    return read_message(text, v).step(v)


def read_message(text: str, v: InvestigationView | None = None) -> Reading:
    """Split ``text`` into requests and read each one (see the module docstring)."""
    v = v or InvestigationView()
    ids = [h.id for h in v.hypotheses]
    clauses = split_clauses(fix_typos(normalise(text), ids))
    exact = _exact(text, v) if len(clauses) <= 1 else None
    if exact is not None:
        return Reading(text, [exact])
    parts: list[Part] = []
    for clause in clauses:
        exact = _exact(clause, v)
        part = exact if exact is not None else read_clause(clause, v, text)
        if parts and part.intent in ("add", "reason") and parts[-1].intent == "pushback" and parts[-1].commands:
            _add_reason(parts[-1], clause, v)
            continue
        if part.intent == "none" and parts and not parts[-1].unsure:
            continue  # a courtesy or an aside after a request ("thanks", "ok")
        parts.append(part)
    return Reading(text, parts or [read_clause(normalise(text), v, text)])


def _exact(text: str, v: InvestigationView) -> Part | None:
    """A clause in the command language, as it is (the exact forms keep working)."""
    words = text.strip().split()
    if not words or words[0].lower() not in EXACT_VERBS:
        return None
    step = parse_command(text.strip(), v)
    if not step.actions and not words[0].lower() == "help":
        return None
    prio = 0 if words[0].lower() == "stop" else None
    return Part(text.strip(), [text.strip()], priority=prio, intent="exact")


EXACT_VERBS = {"add", "reject", "reopen", "pushback", "priority", "calc", "why", "stop", "help", "exclude", "allow",
               "more", "candidates", "design", "no", "status", "budget"}
SPLIT = re.compile(r"(?<!\.\.)(?<=[.!?;])\s+|;\s*|\s*\b(?:and then|then|after that|afterwards,|also|next,|"
                   r"plus|as well as that|but first|but also|finally|and finally)\b[,:]?\s*")
NEW_REQUEST = re.compile(r"(please |also |could you |can you |then |i |we )*(reject|reopen|stop|wrap|compute|calculate|"
                         r"calc|run|check|explain|why|tell me|show me|prioriti[sz]e|put|push|drop|rule|exclude|allow|"
                         r"propose|suggest|what|how|add|bring|forget|focus|redo|look|give|spend|don'?t|doubt|"
                         r"at most|up to|no more than)\b")


def split_clauses(text: str) -> list[str]:
    """Sentences and 'then / also / after that' clauses; an 'and' splits only before a new request."""
    out = []
    for piece in SPLIT.split(text):
        piece = (piece or "").strip(" ,.!")
        if not piece:
            continue
        subs = re.split(r",? and (?=\S)", piece)
        cur = subs[0]
        for s in subs[1:]:
            if NEW_REQUEST.match(s):
                out.append(cur)
                cur = s
            else:
                cur += " and " + s
        out.append(cur)
    return [c.strip(" ,.!") for c in out if c.strip(" ,.!")]


# ------------------------------------------------------------------ one clause
@dataclass
class Clause:
    """A clause and what it names."""

    text: str
    v: InvestigationView
    obs: list[str]
    hyps: list[str]
    tier: int | None
    tier_words: str

    @classmethod
    def of(cls, text: str, v: InvestigationView) -> "Clause":
        tier, words = tier_in(text)
        return cls(text, v, observables_in(text), hypotheses_in(text, v), tier, words)

    @property
    def priority(self) -> int | None:
        if PRIO_LOW.search(self.text):
            return 8
        return 1 if PRIO_HIGH.search(self.text) else None


COURTESY = re.compile(r"^(ok(ay)?|thanks?( you)?|thx|great|good|nice|cool|perfect|fine|sure|yes|right|got it|"
                      r"sounds good|interesting|hmm+|hi|hello|hey)\b[ !.]*(thanks?|thank you)?[ !.]*$")


def read_clause(text: str, v: InvestigationView, original: str = "") -> Part:
    """One clause: the first intent whose references are there decides (see INTENTS for the order)."""
    c = Clause.of(text, v)
    if COURTESY.match(text):
        return Part(text, intent="none", notes=["Noted."])
    order = [i for i, pat in INTENTS if re.search(pat, text)]
    if REJECT_CLAIM.search(text):
        order.insert(0, "reject")
    if "compute" in order and ASKING.search(text) and (c.obs or c.tier is not None) and not EXPLICIT_PRIORITY.search(text):
        order.insert(0, "compute")  # "why don't you compute ...", "could you check ... at DFT"
    if c.obs and c.tier is not None:
        order.append("compute")      # "the dipole at DFT, please"
    for intent in dict.fromkeys(order):
        part = HANDLERS[intent](c, original or text)
        if part is not None:
            part.intent = part.intent or intent
            if part.priority is None and part.commands and part.commands[0].split()[0] not in ("priority", "stop"):
                part.priority = c.priority
            return part
    return _unsure(c)


EXPLICIT_PRIORITY = re.compile(r"\b(prioriti[sz]\w*|priority|focus on|deprioriti[sz]\w*|de-prioriti[sz]\w*)\b")
REJECT_CLAIM = re.compile(r"\b(don'?t|do not) think .*\b(matters?|is (it|relevant|the cause|important|the answer)|"
                          r"plays a role|is involved)\b|\bnothing to do with\b|\b(is|'s|are) (wrong|nonsense|rubbish|"
                          r"irrelevant|a red herring|not it|not relevant)\b|\bcan'?t be\b|\bdoesn'?t matter\b")


def _recent(v: InvestigationView) -> str | None:
    """The hypothesis the last agent lines spoke of ('that verdict', 'it')."""
    ids = sorted((h.id for h in v.hypotheses), key=len, reverse=True)
    for u in reversed(v.transcript[-8:]):
        if u.speaker == "scientist":
            continue
        hits = [(u.text.rfind(i), i) for i in ids if re.search(rf"(?<![\w.]){re.escape(i)}(?![\w.])", u.text)]
        if hits:
            return max(hits)[1]
    return None


def _target(c: Clause) -> str | None:
    if c.hyps:
        return c.hyps[0]
    for name in c.obs:  # an observable names the hypotheses it tests: the cause it is decisive for first
        users = [h for h in c.v.hypotheses if any(u.observable == name for u in h.observables)]
        users.sort(key=lambda h: (h.kind != "cause", not any(u.observable == name and u.role == "decisive"
                                                               for u in h.observables), h.priority))
        if users:
            return users[0].id
    return _recent(c.v) if THAT.search(c.text) or re.search(r"\b(it|that|this)\b", c.text) else None


def _likely(c: Clause, statuses: tuple[str, ...]) -> list[str]:
    """Hypothesis ids in these statuses, best first: named ones, then the highest-priority."""
    pool = [h for h in c.v.hypotheses if h.status in statuses]
    pool.sort(key=lambda h: (h.id not in c.hyps, h.kind != "cause", h.priority, -h.confidence, h.id))
    return [h.id for h in pool[:3]]


def _q(text: str) -> str:
    """A command argument: the text quoted so that shlex reads it back as one word."""
    text = text.strip(" .?!")
    return f'"{text}"' if "'" in text and '"' not in text and "\\" not in text else shlex.quote(text)


def _hyp_part(verb: str, statuses: tuple[str, ...], extra: str = ""):
    def handle(c: Clause, original: str) -> Part | None:
        hid = _target(c)
        if hid is None:
            opts = [f"{verb} {h}{extra and ' ' + _q(c.text)}" for h in _likely(c, statuses)]
            return Part(c.text, options=opts, intent=verb,
                        notes=[f"I read a request to {verb} a hypothesis but not which one"]) if opts else None
        if verb == "pushback":
            return pushback_part(hid, c.text, c.v)
        h = c.v.hypothesis(hid)
        notes = [f"{hid} is already {h.status}."] if (verb == "reject" and h.status == "rejected") or (
            verb == "reopen" and h.status == "open") else []
        return Part(c.text, [f"{verb} {hid}" + (" " + _q(c.text) if extra else "")], notes=notes)
    return handle


def _priority(c: Clause, original: str) -> Part | None:
    explicit = EXPLICIT_PRIORITY.search(c.text)
    if not explicit and COMPUTE_VERBS.search(c.text) and (c.obs or c.tier is not None):
        return None  # "compute X first": a computation with a priority, not a reprioritisation
    hid = _target(c)
    if hid is None:
        return None
    m = re.search(r"\bpriority (?:of |to )?(\d+)\b|\bto (\d+)\b", c.text)
    n = int(m.group(1) or m.group(2)) if m else (8 if PRIO_LOW.search(c.text) else 1)
    return Part(c.text, [f"priority {hid} {n}"], priority=1 if n <= 2 else None)


def _tier_label(t: int) -> str:
    return f"tier {t} ({TIER_METHOD.get(t, '?')})"


def feasible_tier(name: str, c: Clause) -> tuple[int, list[str]]:
    """The tier to compute ``name`` at for this clause, and notes where it is not the one asked for."""
    obs = OBSERVABLES[name]
    tiers = obs.computable_tiers()
    e = best_evidence(c.v.evidence, name)
    if c.tier is None:
        above = [t for t in obs.adequate_tiers() if e is None or t > e.tier] or obs.adequate_tiers() or tiers
        t = (e.tier + 1 if e else above[0]) if HIGHER_TIER.search(c.text) else above[0]
        t = min((x for x in tiers if x >= t), default=tiers[-1])
        said = "one tier above the best computed" if HIGHER_TIER.search(c.text) else "the first adequate tier" + (
            f" above what is computed (tier {e.tier})" if e and t > e.tier else "")
        return t, [f"You named no method for {name}: I use {_tier_label(t)}, {said}."]
    if obs.use(c.tier).computable:
        notes = ccsdt_notes(name, c) if c.tier == 4 and CCSDT.search(c.text) else []
        if not obs.use(c.tier).adequate:
            notes.append(f"At tier {c.tier} {name} is not adequate for a verdict ({obs.use(c.tier).note}); "
                         "I compute it as a look, the verdict stays with the adequate tiers.")
        return c.tier, notes
    t = min(tiers, key=lambda x: (abs(x - c.tier), not obs.use(x).adequate, -x))
    return t, [f"{name} cannot be computed at tier {c.tier} ({c.tier_words}): {obs.use(c.tier).note}. "
               f"The nearest I can do is {_tier_label(t)}."]


def ccsdt_notes(name: str, c: Clause) -> list[str]:
    """CCSD(T) asked for: tier 4 here is DF-MP2; say what CCSD(T) on the whole system would cost."""
    what = "the whole dimer" if OBSERVABLES[name].task == "interaction_energy" else "the molecule"
    cost = _ccsdt_cost(c.v.series.target.smiles, OBSERVABLES[name].task) if c.v.series else None
    cost_s = f" is estimated at {_human(cost)} on this machine" if cost else " does not fit a routine run"
    left = c.v.budget.left_s
    return [f"CCSD(T) on {what}{cost_s}" + (f", beyond the {_human(left)} of budget left" if cost and cost > left
                                            else "") +
            f"; the built-in tier 4 is DF-MP2/def2-SVP with counterpoise, so I compute {name} with that (the "
            "focal-point CCSD(T) correction on a model system is the last rung, run once a root cause stands "
            "at tier 3)."]


_COSTS: dict[tuple[str, str], float | None] = {}


def _ccsdt_cost(smiles: str, task: str) -> float | None:
    if (smiles, task) not in _COSTS:
        try:
            from ..chem.molecule import Molecule
            from ..tiers.catalogue import make_spec
            from .observables import estimate_seconds

            m = Molecule.from_smiles(smiles)
            frags = [m, m] if task == "interaction_energy" else [m]
            _COSTS[smiles, task] = estimate_seconds(make_spec("interaction_energy" if len(frags) == 2 else "energy",
                                                              frags, level="ccsd(t)"))
        except Exception:  # a cost model missing (no PySCF): say it does not fit, without a number
            _COSTS[smiles, task] = None
    return _COSTS[smiles, task]


def _human(s: float) -> str:
    return f"{s / 86400:.0f} days" if s > 2 * 86400 else f"{s / 3600:.0f} h" if s > 5400 else \
        f"{s / 60:.0f} min" if s > 90 else f"{s:.0f} s"


def _compute(c: Clause, original: str) -> Part | None:
    names = list(c.obs)
    if not names and c.hyps:  # "run DFT on the halogen bond": its observables
        h = c.v.hypothesis(c.hyps[0])
        names = [u.observable for u in h.observables if u.observable in OBSERVABLES and
                 (c.tier is None or OBSERVABLES[u.observable].use(c.tier).computable)] or \
            [u.observable for u in h.observables if u.observable in OBSERVABLES]
    if not names:
        if c.tier is None:
            return None
        live = [u.observable for h in c.v.hypotheses if h.status != "rejected" for u in h.observables
                if u.role == "decisive" and OBSERVABLES.get(u.observable) and
                OBSERVABLES[u.observable].use(c.tier).computable]
        opts = [f"calc {o} {c.tier}" for o in list(dict.fromkeys(live))[:3]]
        return Part(c.text, options=opts or ["status"], intent="compute",
                    notes=[f"I read {_tier_label(c.tier)} ('{c.tier_words}') but not what to compute"])
    commands, notes = [], []
    for name in names:
        t, why = feasible_tier(name, c)
        commands.append(f"calc {name} {t}")
        notes += why
        if t > c.v.budget.tier_cap and c.v.series is not None:
            notes.append(f"Tier {t} is above this run's tier cap ({c.v.budget.tier_cap}); I run it because you ask.")
    return Part(c.text, list(dict.fromkeys(commands)), notes=list(dict.fromkeys(notes)))


def _explain(c: Clause, original: str) -> Part | None:
    hid = _target(c)
    if hid is None:
        opts = [f"why {h}" for h in _likely(c, ("root-cause", "supported", "mechanism-of", "open"))]
        return Part(c.text, options=opts + ["status"], intent="explain",
                    notes=["I read a question but not about which hypothesis"]) if c.obs or c.hyps else None
    name = next((o for o in c.obs if any(u.observable == o for u in c.v.hypothesis(hid).observables)), None) \
        if COMPARE.search(c.text) else None
    if name and c.tier is not None and not any(e.observable == name and e.tier == c.tier for e in c.v.evidence):
        part = _compute(c, original)
        part.notes.insert(0, f"{name} is not computed at tier {c.tier} yet, so I queue it.")
        return part
    return Part(c.text, [f"why {hid}" + (f" {name}" if name else "")])


COMPARE = re.compile(r"\bcompared?\b|\bversus\b|\bvs\b|\bwhat (is|are|was|were|'s) the\b|\bhow (big|large|different)\b|"
                     r"\bvalues?\b|\bagainst\b")


def _add(c: Clause, original: str) -> Part | None:
    body = re.sub(r"^(what if|maybe|perhaps|i (suspect|bet|wonder if|guess|reckon|propose|think)|my (guess|"
                  r"hypothesis|idea) is|another (idea|hypothesis|possibility)[:,]?|new hypothesis[:,]?|"
                  r"add (a |the )?hypothesis[:,]?|hypothesis:|how about|could it (just |simply )?be|"
                  r"is it (possible|because))( that)?\s*", "", c.text).strip(" ?.") or c.text
    scores = {cat: sum(len(re.findall(p, body)) for p in pats) for cat, pats in CATEGORY_WORDS.items()}
    cat = max(scores, key=lambda k: scores[k]) if max(scores.values()) else "other"
    h = c.v.hypothesis(cat)
    explicit = re.search(r"\b(new|add|another|my) (a |the )?(hypothesis|idea)|hypothesis:", c.text)
    if h is not None and not explicit:
        if h.status == "rejected":
            return Part(c.text, [f"why {h.id}"], notes=[
                f"That is my hypothesis {h.id}, which I rejected: {h.reason or 'see below'}. Say `reopen {h.id}` "
                f"or `pushback {h.id} {_q(body)}` if you want it judged again."])
        return Part(c.text, [f"priority {h.id} 2"], notes=[
            f"That is my hypothesis {h.id} ({h.status}); I move it up the queue rather than add a duplicate."])
    return Part(c.text, [f"add hypothesis {_q(body)} {cat}"])


def _budget(c: Clause, original: str) -> Part | None:
    s = seconds_in(c.text)
    if s is None:
        return None
    if re.search(r"\bdesign|candidates?|proposals?|proposing", c.text):
        return Part(c.text, [f"design budget {s:.0f}"])
    return Part(c.text, [f"budget {s:.0f}"])


def _candidates(c: Clause, original: str) -> Part | None:
    n = number_in(re.sub(DURATION, "", c.text))
    if n is None or not 1 <= n <= 50:
        return Part(c.text, options=["more candidates 5", "more candidates 10"], intent="candidates",
                    notes=["I read a request for candidates but no number from 1 to 50"]) if n is None else None
    return Part(c.text, [f"more candidates {n}"])


def _design(verb: str):
    def handle(c: Clause, original: str) -> Part | None:
        els = elements_in(c.text, original)
        return Part(c.text, [f"{verb} {' '.join(els)}"]) if els else None
    return handle


def _fixed(command: str):
    return lambda c, original: Part(c.text, [command], priority=0 if command == "stop" else None)


def _unsure(c: Clause) -> Part:
    """Nothing decided: the likeliest readings from what the clause names."""
    opts = []
    hid = _target(c)
    if c.obs:
        opts += [f"calc {o} {feasible_tier(o, c)[0]}" for o in c.obs[:2]]
    if hid:
        opts += [f"why {hid}", f"priority {hid} 1"]
    if not opts:
        close = difflib.get_close_matches(c.text.split()[0] if c.text.split() else "", sorted(EXACT_VERBS), n=1)
        opts = [close[0] + " ..." ] if close else []
        opts += ["status", "help"]
    return Part(c.text, options=list(dict.fromkeys(opts))[:3], intent="none",
                notes=["I found no request I can act on in it" if not (c.obs or hid) else
                       "I see what it is about but not what to do"])


HANDLERS = {
    "help": _fixed("help"), "status": _fixed("status"), "stop": _fixed("stop"), "budget": _budget,
    "candidates": _candidates, "allow": _design("allow"), "exclude": _design("exclude"),
    "reopen": _hyp_part("reopen", ("rejected",)), "pushback": _hyp_part("pushback", ("supported", "root-cause",
                                                                                    "rejected", "mechanism-of"), "x"),
    "reject": _hyp_part("reject", ("open", "supported", "root-cause", "mechanism-of"), "x"),
    "priority": _priority, "explain": _explain, "compute": _compute, "add": _add,
}


# ------------------------------------------------------------------ pushback with numbers
SIZE_WORDS = re.compile(r"\b(bigger|larger|size|bulk\w*|volume|steric\w*|big|heavier|polari[sz]ab\w*)\b")


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{0.0 if abs(x) < 5e-3 else x:.2f}" if abs(x) < 10 else f"{x:.1f}"


def evidence_line(e) -> str:
    """One comparison in numbers: the target against each analog, with the verdict."""
    an = ", ".join(f"{_num(a.value)} ({a.molecule})" for a in e.analogs)
    z = f", z = {e.z:.1f}" if e.z is not None else ""
    return (f"{e.observable} at tier {e.tier}: {e.target.molecule} {_num(e.target.value)} {e.unit} against {an} "
            f"({e.verdict.replace('_', ' ')}{z}{'' if e.adequate else ', tier not adequate'})")


def evidence_reply(hid: str, v: InvestigationView, reason: str) -> str:
    """What the computed evidence says about a disputed hypothesis, in numbers, and the test that would decide."""
    h = v.hypothesis(hid)
    evs = [e for u in h.observables if u.role == "decisive" for e in [best_evidence(v.evidence, u.observable)] if e]
    if not evs:
        return f"Nothing decisive is computed for {hid} yet, so I have no numbers for or against it; I recompute " \
               "its observables one tier higher."
    text = "The numbers so far: " + "; ".join(evidence_line(e) for e in evs) + "."
    favour = [e for e in evs if e.verdict == "separates" and e.adequate]
    if favour and h.status != "rejected" and SIZE_WORDS.search(reason) and h.category != "shape_sterics":
        vol = best_evidence(v.evidence, "molecular_volume")
        text += (" Size alone does not give that: a bigger halogen is not a more positive one." +
                 (f" For scale, {evidence_line(vol)}." if vol else "") +
                 " The size-matched test separates the two: the halogen replaced by CH3 (about as big as Br, "
                 "with no sigma hole). `more candidates 5` lets the design propose it; `calc molecular_volume 0` "
                 "puts the sizes next to these numbers. I reopen it and recompute as you ask meanwhile.")
    elif favour and h.status != "rejected":
        text += f" They favour {hid}; I reopen it and recompute one tier higher anyway, as you ask."
    elif h.status == "rejected":
        text += " They are why I rejected it; I reopen it and recompute one tier higher."
    return text


def pushback_part(hid: str, reason: str, v: InvestigationView) -> Part:
    return Part(reason, [f"pushback {hid} {_q(reason)}"], notes=[evidence_reply(hid, v, reason)],
                intent="pushback", priority=1)


def _add_reason(part: Part, clause: str, v: InvestigationView) -> None:
    """'I don't buy X. Could it be Y?': the second sentence is the pushback's reason."""
    new = pushback_part(shlex.split(part.commands[0])[1], f"{part.text}; {clause}", v)
    part.text, part.commands, part.notes = new.text, new.commands, new.notes
