"""Leave-one-base-out: fit the FAQ confidence on all knowledge bases but one, score that one.

The knowledge bases are written independently of one another (``benchmarks/data/kbs/*``: a
``kb.toml`` with question, answer and tags only, and the ``questions.tsv`` members typed),
plus the shipped base stripped of its alternates and near-misses, with its held-out question
sets.  For each base in turn, on the *other* bases only:

1. the hybrid ranking's two weights (answer, lexical) are chosen from a small grid, by the
   mean share of answerable questions ranked right;
2. the confidence weights are fitted (a logistic regression of "the best entry is the right
   one", each base weighing the same);
3. the threshold is the one with the best mean top-1 among those keeping the mean correct
   abstention at or above ``--abstain`` (0.87).

Then the left-out base is scored with them, through :meth:`FaqIndex.ask` itself.  Printed
per base: top-1 on answerable questions (English / other languages), correct abstention,
top-1 with no abstention (ranking alone), the ceiling (the best top-1 at 85 % abstention
with a threshold chosen on the base itself: the limit of the confidence's features), median
and p99 answer time; then the mean and the worst, and the weights fitted on all the bases
(what ``commands/faq/confidence.py`` ships).
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

from commands.faq import confidence as conf
from commands.faq import index as engine
from commands.faq.index import FaqIndex, KnowledgeBase, detect_language, load_kb

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).with_name("data")
NONE = "NONE"
GRID = {
    "ANSWER_WEIGHT": (0.25, 0.5),
    "SENTENCE_WEIGHT": (0.0, 0.3),
    "LEXICAL_WEIGHT": (0.2, 0.3, 0.45),
}


@dataclass(frozen=True, slots=True)
class Base:
    """One knowledge base and its labelled questions ``(question, expected id or NONE)``."""

    name: str
    kb: KnowledgeBase
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Sample:
    """One question as the engine assessed it."""

    expected: str
    best: str | None
    fixed: float | None
    features: dict[str, float] | None
    foreign: bool

    @property
    def right(self) -> bool:
        return self.best == self.expected


def strip(kb: KnowledgeBase) -> KnowledgeBase:
    """``kb`` as an organiser writes it: no alternates, no near-misses."""
    return KnowledgeBase(tuple(replace(e, alternates=(), near_misses=()) for e in kb.entries))


def read_items(path: Path) -> list[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t")[:2] != ["question", "expected_id"]:
        raise SystemExit(f"{path}: the first line must be 'question<TAB>expected_id'")
    return [
        (parts[0].strip(), parts[1].strip())
        for parts in (line.split("\t") for line in lines[1:] if line.strip())
    ]


def default_bases(extra: list[Path]) -> list[Base]:
    """The four blind bases, the shipped base stripped (its held-out sets), and ``extra``
    folders (each with ``kb.toml`` and ``questions.tsv``)."""
    folders = sorted((DATA / "kbs").iterdir()) + extra
    bases = [
        Base(
            folder.name,
            strip(load_kb(folder / "kb.toml")),
            tuple(read_items(folder / "questions.tsv")),
        )
        for folder in folders
        if (folder / "kb.toml").is_file()
    ]
    shipped = [i for p in sorted(DATA.glob("faq_questions_heldout*.tsv")) for i in read_items(p)]
    bases.append(Base("shipped-stripped", strip(load_kb()), tuple(shipped)))
    return bases


def assess(base: Base, method: str) -> list[Sample]:
    index = FaqIndex(base.kb, method=method)
    english = index._indexes.get("en")
    known = english.vocabulary if english else frozenset()
    samples: list[Sample] = []
    for question, expected in base.items:
        found = index.assess(question)
        best = found.index.entries[found.order[0][0]].id if found.index and found.order else None
        samples.append(
            Sample(
                expected,
                best,
                found.fixed if found.features is None else None,
                found.features,
                detect_language(question, known) is not None,
            )
        )
    return samples


def confidence(sample: Sample, bias: float, weights: dict[str, float]) -> float:
    if sample.features is None:
        return sample.fixed or 0.0
    return conf.logistic(bias, weights, sample.features)


def rates(
    samples: list[Sample], bias: float, weights: dict[str, float], threshold: float
) -> dict[str, float]:
    """Top-1 (all, English, other languages), abstention and ranking-only top-1."""
    answered = [confidence(s, bias, weights) >= threshold for s in samples]

    def share(flags: list[bool]) -> float:
        return sum(flags) / len(flags) if flags else float("nan")

    pos = [(s, a) for s, a in zip(samples, answered, strict=True) if s.expected != NONE]
    neg = [a for s, a in zip(samples, answered, strict=True) if s.expected == NONE]
    return {
        "top1": share([s.right and a for s, a in pos]),
        "top1_en": share([s.right and a for s, a in pos if not s.foreign]),
        "top1_other": share([s.right and a for s, a in pos if s.foreign]),
        "abstention": share([not a for a in neg]),
        "ranking": share([s.right for s, _ in pos]),
    }


def fit(groups: list[list[Sample]], l2: float = 0.0001) -> tuple[float, dict[str, float]]:
    """Logistic regression of "the best entry is right" (each group weighing the same), by
    Newton's method."""
    import numpy as np

    rows = [s for g in groups for s in g if s.features is not None]
    names = sorted(rows[0].features or {})
    x = np.array([[1.0, *((s.features or {})[k] for k in names)] for s in rows])
    y = np.array([1.0 if s.right else 0.0 for s in rows])
    w = np.concatenate(
        [np.full(sum(s.features is not None for s in g), 1.0 / max(1, len(g))) for g in groups]
    )
    w *= len(w) / w.sum()
    theta = np.zeros(x.shape[1])
    ridge = np.eye(x.shape[1]) * l2
    ridge[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(x @ theta, -30, 30)))
        grad = x.T @ (w * (p - y)) / len(y) + ridge @ theta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x / len(y) + ridge
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-7:
            break
    return float(theta[0]), {k: float(v) for k, v in zip(names, theta[1:], strict=True)}


def choose_threshold(
    groups: list[list[Sample]], bias: float, weights: dict[str, float], abstain: float
) -> float:
    """The threshold with the best mean top-1 among those whose mean abstention is at least
    ``abstain`` (the best mean of both when none is)."""
    best: tuple[bool, float, float] | None = None
    chosen = 0.5
    for step in range(10, 96):
        t = step / 100
        measured = [rates(g, bias, weights, t) for g in groups]
        top1 = statistics.mean(m["top1"] for m in measured)
        abst = statistics.mean(m["abstention"] for m in measured)
        key = (abst >= abstain, top1 if abst >= abstain else top1 + abst, -t)
        if best is None or key > best:
            best, chosen = key, t
    return chosen


def ceiling(samples: list[Sample], bias: float, weights: dict[str, float]) -> float:
    """The best top-1 the fitted confidence allows on this base with the threshold chosen on
    the base itself (keeping its abstention at 85 % or more): what a perfectly transferred
    threshold would give, so a shortfall below it is the features', not the threshold's."""
    best = 0.0
    for step in range(0, 100):
        measured = rates(samples, bias, weights, step / 100)
        if measured["abstention"] >= 0.85:
            best = max(best, measured["top1"])
    return best


def set_params(params: dict[str, float]) -> None:
    for name, value in params.items():
        setattr(engine, name, value)


def main(
    method: str = "hybrid",
    extra: list[Path] | None = None,
    abstain: float = 0.87,
    bases: list[Base] | None = None,
) -> dict[str, object]:
    """Run the leave-one-base-out check; print it; return the summary."""
    bases = bases if bases is not None else default_bases(extra or [])
    grid = (
        [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
        if method == "hybrid"
        else [{}]
    )
    saved = {name: getattr(engine, name) for name in GRID}
    assessed: dict[tuple[int, str], list[Sample]] = {}
    started = time.perf_counter()
    for g, params in enumerate(grid):
        set_params(params)
        for base in bases:
            assessed[g, base.name] = assess(base, method)
    set_params(saved)
    print(
        f"assessed {len(bases)} bases x {len(grid)} ranking settings in "
        f"{time.perf_counter() - started:.0f} s"
    )
    rows: dict[str, dict[str, float]] = {}
    shipped_setting: tuple[dict[str, float], float, dict[str, float], float] | None = None
    for left in [*bases, None]:
        train = [b for b in bases if b is not left]

        def ranking(g: int, train: list[Base] = train) -> float:
            return statistics.mean(
                statistics.mean(s.right for s in assessed[g, b.name] if s.expected != NONE)
                for b in train
            )

        g = max(range(len(grid)), key=ranking)
        groups = [assessed[g, b.name] for b in train]
        bias, weights = fit(groups)
        threshold = choose_threshold(groups, bias, weights, abstain)
        if left is None:
            shipped_setting = (grid[g], bias, weights, threshold)
            break
        measured = rates(assessed[g, left.name], bias, weights, threshold)
        measured["ceiling"] = ceiling(assessed[g, left.name], bias, weights)
        measured.update(_timed(left, method, grid[g], bias, weights, threshold, measured))
        rows[left.name] = measured
        print(
            f"{left.name:22s} ({len(left.kb)} entries, {len(left.items)} questions): "
            f"top-1 {measured['top1']:.3f} (English {measured['top1_en']:.3f}, other "
            f"languages {measured['top1_other']:.3f}), abstention {measured['abstention']:.3f}, "
            f"ranking alone {measured['ranking']:.3f}, ceiling {measured['ceiling']:.3f}, "
            f"median {measured['median_ms']:.2f} ms, "
            f"p99 {measured['p99_ms']:.2f} ms (CPU {measured['median_cpu_ms']:.2f} / "
            f"{measured['p99_cpu_ms']:.2f} ms); threshold {threshold:.2f}, {grid[g]}"
        )
    summary: dict[str, object] = {"method": method}
    keys = (
        "top1",
        "abstention",
        "ranking",
        "ceiling",
        "top1_en",
        "top1_other",
        "median_ms",
        "median_cpu_ms",
    )
    for key in keys:
        values = [r[key] for r in rows.values() if r[key] == r[key]]  # not NaN
        if not values:
            continue
        summary[f"mean_{key}"] = round(statistics.mean(values), 4)
        worst = max(values) if key.endswith("_ms") else min(values)
        summary[f"worst_{key}"] = round(worst, 4)
    print(
        f"mean: top-1 {summary['mean_top1']}, abstention {summary['mean_abstention']}; "
        f"worst: top-1 {summary['worst_top1']}, abstention {summary['worst_abstention']}"
    )
    if shipped_setting is not None:
        params, bias, weights, threshold = shipped_setting
        print(
            "fitted on all the bases: "
            + json.dumps(
                {
                    **params,
                    "threshold": threshold,
                    "bias": round(bias, 2),
                    **{k: round(v, 2) for k, v in weights.items()},
                }
            )
        )
    summary["bases"] = {name: {k: round(v, 4) for k, v in r.items()} for name, r in rows.items()}
    return summary


def _timed(
    base: Base,
    method: str,
    params: dict[str, float],
    bias: float,
    weights: dict[str, float],
    threshold: float,
    expected: dict[str, float],
) -> dict[str, float]:
    """Ask the left-out base's questions through :meth:`FaqIndex.ask` with the fitted
    setting: the answer times, and a check that the rates are the ones computed."""
    saved = {name: getattr(engine, name) for name in GRID}
    names = (
        ("HYBRID_BIAS", "HYBRID_WEIGHTS") if method == "hybrid" else ("PLAIN_BIAS", "PLAIN_WEIGHTS")
    )
    kept = [getattr(conf, n) for n in names]
    set_params(params)
    setattr(conf, names[0], bias)
    setattr(conf, names[1], weights)
    index = FaqIndex(base.kb, method=method, threshold=threshold)
    try:
        if index._semantic is not None:
            index._semantic.encoder.query_cache_size = 0
            index._semantic.encoder._queries.clear()
        times: list[float] = []
        cpu: list[float] = []
        right = 0
        for question, label in base.items:
            start, started = time.perf_counter_ns(), time.thread_time_ns()
            answer = index.ask(question)
            times.append((time.perf_counter_ns() - start) / 1e6)
            cpu.append((time.thread_time_ns() - started) / 1e6)
            got = answer.entry.id if answer.entry else NONE
            right += got == label and label != NONE
    finally:
        set_params(saved)
        setattr(conf, names[0], kept[0])
        setattr(conf, names[1], kept[1])
        if index._semantic is not None:
            index._semantic.encoder.query_cache_size = 2048
    answerable = sum(label != NONE for _, label in base.items)
    top1 = right / max(1, answerable)
    if abs(top1 - expected["top1"]) > 1e-9:
        print(
            f"  note: {base.name}: ask() gave top-1 {top1:.3f}, the samples {expected['top1']:.3f}"
        )
    times.sort()
    cpu.sort()
    return {
        "median_cpu_ms": statistics.median(cpu),
        "p99_cpu_ms": cpu[min(len(cpu) - 1, round(0.99 * len(cpu)) - 1)],
        "median_ms": statistics.median(times),
        "p99_ms": times[min(len(times) - 1, round(0.99 * len(times)) - 1)],
    }
