"""Evaluate the knowledge-base question answering engine on a labelled question set.

Usage::

    .venv/bin/python benchmarks/faq_eval.py [--kb FILE.toml] [--questions FILE.tsv] [--strip]
                                            [--scale N] [--threshold T] [--sweep] [--verbose]
                                            [--method hybrid|plain]
    .venv/bin/python benchmarks/faq_eval.py --lobo [--method hybrid|plain] [--lobo-base DIR]

The question file is a TSV with the header ``question<TAB>expected_id``; ``NONE`` marks a
question the knowledge base cannot answer (the engine should abstain).  Prints top-1 accuracy
on answerable questions, the correct-abstention rate on ``NONE`` questions, median and p99
answer time, and as its last line one JSON object (keys ``top1``, ``abstention``,
``median_ms``, …).  ``--strip`` drops every entry's alternates and near-misses first (a base
as an organiser writes it).  ``--scale N`` pads the knowledge base with generated entries up
to N entries (distractors built from the base's own vocabulary) to measure speed and
robustness on a larger base.  ``--sweep`` prints both rates over a range of thresholds.
The method is ``hybrid`` (the default when the model package is installed; its answer times
are measured without the cache of recent question embeddings) or ``plain``.

``--lobo`` is the honest check of the confidence (:mod:`benchmarks.faq_lobo`): for each
knowledge base in ``benchmarks/data/kbs`` and the shipped base stripped of its alternates, the
ranking weights, the confidence and the threshold are fitted on the *other* bases and the
base is scored with them; it prints each base, the mean and the worst, and as its last line
a JSON object (``mean_top1``, ``worst_top1``, ``mean_abstention``…).  ``--lobo-base DIR``
adds a base (a folder with ``kb.toml`` and ``questions.tsv``).

Labelled sets in ``benchmarks/data``: ``faq_questions.tsv`` (the shipped base's development
set) and ``faq_questions_heldoutN.tsv`` (written blind for the shipped base); ``kbs/*/``:
knowledge bases written independently of this project, each with its members' questions.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from commands.faq.index import (
    DEFAULT_KB_PATH,
    METHODS,
    Answer,
    Entry,
    FaqIndex,
    KnowledgeBase,
    load_kb,
    normalise,
)

DEFAULT_QUESTIONS = Path(__file__).with_name("data") / "faq_questions.tsv"
NONE = "NONE"


@dataclass(frozen=True, slots=True)
class Labelled:
    """One question of the evaluation set and the id it should get (or NONE)."""

    question: str
    expected: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """One labelled question and the engine's answer to it."""

    item: Labelled
    answer: Answer

    @property
    def got(self) -> str:
        return self.answer.entry.id if self.answer.entry else NONE

    @property
    def correct(self) -> bool:
        return self.got == self.item.expected


def read_questions(path: Path) -> list[Labelled]:
    """Read a TSV question file with a ``question<TAB>expected_id`` header line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t")[:2] != ["question", "expected_id"]:
        raise SystemExit(f"{path}: the first line must be 'question<TAB>expected_id'")
    items: list[Labelled] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise SystemExit(f"{path}:{number}: expected 'question<TAB>expected_id'")
        items.append(Labelled(parts[0].strip(), parts[1].strip()))
    return items


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SYNTHETIC_VERBS = _split(
    """find renew borrow catalogue translate review update archive index digitise publish
    moderate register configure export import schedule approve embed license tag merge split
    verify promote"""
)
_SYNTHETIC_WORDS = _split(
    """manuscript periodical newspaper thesis dataset map atlas poster pamphlet ledger diary
    letter recording podcast exhibition gallery museum archive repository metadata schema
    template infobox category portal gadget script module bot filter watchlist sandbox draft
    stub redirect disambiguation translation glossary thesaurus ontology vocabulary taxonomy
    barcode shelf branch consortium union budget workshop webinar hackathon conference panel
    keynote survey volunteer mentor intern student teacher school university faculty
    researcher author publisher journal citation identifier orcid isbn issn doi viaf isni lccn
    marc dublin core csv spreadsheet query dashboard statistics report newsletter blog video
    audio photograph scan ocr transcription proofreading accessibility privacy copyright
    licence attribution donation grant"""
)


def scale_kb(kb: KnowledgeBase, size: int, seed: int = 1) -> KnowledgeBase:
    """Pad ``kb`` with generated distractor entries up to ``size`` entries.

    The generated entries reuse the base's own vocabulary and a pool of library and wiki
    words, so they compete for the same terms as real entries do.
    """
    rng = random.Random(seed)
    vocabulary = sorted(
        {
            w
            for e in kb.entries
            for w in normalise(f"{e.question} {e.answer}").split()
            if w.isalpha() and len(w) > 3
        }
    )
    pool = list(_SYNTHETIC_WORDS) + vocabulary
    entries = list(kb.entries)
    n = 0
    while len(entries) < size:
        n += 1
        verb = rng.choice(_SYNTHETIC_VERBS)
        a, b, c = rng.sample(pool, 3)
        question = rng.choice(
            (
                f"How do I {verb} a {a} {b}?",
                f"What is the {a} {b} policy?",
                f"Can our {a} {verb} the {b}?",
                f"Where is the {a} for {b}?",
            )
        )
        alternates = tuple(
            f"{rng.choice(_SYNTHETIC_VERBS)} {x} {y}"
            for x, y in (rng.sample(pool, 2) for _ in range(rng.randint(1, 4)))
        )
        answer = " ".join(rng.choice(pool) for _ in range(rng.randint(20, 60))).capitalize()
        entries.append(
            Entry(
                id=f"synthetic-{n:04d}",
                question=question,
                answer=answer + ".",
                alternates=alternates,
                tags=(c,),
            )
        )
    return KnowledgeBase(tuple(entries))


def strip_kb(kb: KnowledgeBase) -> KnowledgeBase:
    """``kb`` without alternates and near-misses: only what an organiser writes for an entry."""
    return KnowledgeBase(tuple(replace(e, alternates=(), near_misses=()) for e in kb.entries))


def evaluate(
    index: FaqIndex, items: list[Labelled], repeat: int, cpu: list[float] | None = None
) -> tuple[list[Outcome], list[float]]:
    """Ask every question ``repeat`` times; return the outcomes and each call's wall time in
    ms (and append its CPU time to ``cpu``: what it costs on a core of its own, whatever
    else the machine runs)."""
    times: list[float] = []
    outcomes: list[Outcome] = []
    for item in items:
        answer = index.ask(item.question)
        for _ in range(repeat):
            start, started = time.perf_counter_ns(), time.thread_time_ns()
            index.ask(item.question)
            times.append((time.perf_counter_ns() - start) / 1e6)
            if cpu is not None:
                cpu.append((time.thread_time_ns() - started) / 1e6)
        outcomes.append(Outcome(item, answer))
    return outcomes, times


def rates(outcomes: list[Outcome]) -> tuple[float, float]:
    """Top-1 accuracy on answerable questions and correct abstention on NONE ones."""
    answerable = [o for o in outcomes if o.item.expected != NONE]
    unanswerable = [o for o in outcomes if o.item.expected == NONE]
    top1 = sum(o.correct for o in answerable) / len(answerable) if answerable else 1.0
    abstention = sum(o.correct for o in unanswerable) / len(unanswerable) if unanswerable else 1.0
    return top1, abstention


def default_method() -> str:
    """``hybrid`` when the model package is installed, else ``plain`` (as the bot does)."""
    from commands.faq.encoder import available

    return "hybrid" if available() else "plain"


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0-1) of ``values``, nearest-rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation; print the report and a final JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, default=DEFAULT_KB_PATH, help="knowledge base TOML")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="labelled TSV")
    parser.add_argument("--scale", type=int, default=0, help="pad the base to N entries")
    parser.add_argument("--threshold", type=float, default=None, help="override the threshold")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per question")
    parser.add_argument("--sweep", action="store_true", help="print rates over thresholds")
    parser.add_argument("--verbose", "-v", action="store_true", help="list the misses")
    parser.add_argument(
        "--strip",
        action="store_true",
        help="drop every entry's alternates and near-misses first (a base as an organiser "
        "writes it: question, answer, tags)",
    )
    parser.add_argument(
        "--lobo",
        action="store_true",
        help="leave-one-base-out: fit on all the bases but one, score that one, for each base",
    )
    parser.add_argument(
        "--lobo-base",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="with --lobo: one more base (a folder with kb.toml and questions.tsv)",
    )
    parser.add_argument(
        "--abstain",
        type=float,
        default=0.87,
        help="with --lobo: the mean abstention the threshold must keep on the other bases",
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default=default_method(),
        help="ranking method (hybrid, the default, needs the model package; plain is lexical)",
    )
    args = parser.parse_args(argv)

    if args.lobo:
        from benchmarks.faq_lobo import main as lobo

        print(json.dumps(lobo(args.method, args.lobo_base, args.abstain)))
        return 0

    kb = load_kb(args.kb)
    if args.strip:
        kb = strip_kb(kb)
    if args.scale > len(kb):
        kb = scale_kb(kb, args.scale)
    items = read_questions(args.questions)
    unknown = sorted(
        {i.expected for i in items if i.expected != NONE and kb.get(i.expected) is None}
    )
    if unknown:
        raise SystemExit(f"{args.questions}: ids not in the knowledge base: {', '.join(unknown)}")

    start = time.perf_counter()
    options = {} if args.threshold is None else {"threshold": args.threshold}
    index = FaqIndex(kb, method=args.method, **options)
    build_ms = (time.perf_counter() - start) * 1000
    if args.method == "hybrid":
        # time every call as a new question: no cached question embedding
        from commands.faq.encoder import load_encoder

        load_encoder().query_cache_size = 0
    cpu: list[float] = []
    outcomes, times = evaluate(index, items, max(1, args.repeat), cpu)
    top1, abstention = rates(outcomes)
    answerable = [o for o in outcomes if o.item.expected != NONE]
    unanswerable = [o for o in outcomes if o.item.expected == NONE]
    top3 = sum(
        o.item.expected
        in {e.id for e in (o.answer.entry, *o.answer.see_also, *o.answer.nearest) if e}
        for o in answerable
    ) / max(1, len(answerable))
    median_ms = statistics.median(times)
    p99_ms = percentile(times, 0.99)

    if args.sweep:
        print("threshold  top1   abstention")
        base = index.threshold
        for step in range(20, 81, 2):
            index.threshold = step / 100
            t1, ab = rates([Outcome(o.item, index.ask(o.item.question)) for o in outcomes])
            print(f"   {step / 100:.2f}    {t1:.3f}  {ab:.3f}")
        index.threshold = base

    if args.verbose:
        for o in outcomes:
            if o.correct:
                continue
            a = o.answer
            print(
                f"MISS {o.item.question!r}: expected {o.item.expected}, got {o.got} "
                f"(confidence {a.confidence:.2f}, language {a.language}) "
                f"{index.explain(o.item.question)}"
            )

    print(f"kb: {args.kb} ({len(kb)} entries); questions: {args.questions}; method: {args.method}")
    print(
        f"top-1 accuracy on answerable questions: {top1:.3f} "
        f"({sum(o.correct for o in answerable)}/{len(answerable)}); in top 3: {top3:.3f}"
    )
    print(
        f"correct abstention on NONE questions:   {abstention:.3f} "
        f"({sum(o.correct for o in unanswerable)}/{len(unanswerable)})"
    )
    print(
        f"answer time: median {median_ms:.3f} ms, p99 {p99_ms:.3f} ms "
        f"({len(times)} calls); CPU time median {statistics.median(cpu):.3f} ms, p99 "
        f"{percentile(cpu, 0.99):.3f} ms; index built in {build_ms:.0f} ms"
    )
    print(
        json.dumps(
            {
                "top1": round(top1, 4),
                "abstention": round(abstention, 4),
                "median_ms": round(median_ms, 4),
                "p99_ms": round(p99_ms, 4),
                "median_cpu_ms": round(statistics.median(cpu), 4),
                "p99_cpu_ms": round(percentile(cpu, 0.99), 4),
                "top3": round(top3, 4),
                "entries": len(kb),
                "answerable": len(answerable),
                "unanswerable": len(unanswerable),
                "threshold": index.threshold,
                "method": args.method,
                "build_ms": round(build_ms, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
