"""The safeguarding screen on the held-out sets: recall and tier per kind of risk, false alarms, time."""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.eval.verdict import verdict
from bot.duty.safeguarding.phrases import TIER_ORDER

HELDOUT = Path(__file__).resolve().parent / "heldout"
ORDER = TIER_ORDER
# Targets the product is held to (docs/safeguarding.md), printed as met or not.
MIN_RISK_RECALL = 0.98
MAX_DANGER_BELOW_RISK = 0
MAX_FALSE_ALARMS = 0.02
MAX_P95_MS = 25.0
# Floors under today's measured figures: below one of these, a change made understanding worse and
# `make eval` (and so `make test`) fails. Raise them as the figures improve; never lower them to pass.
FLOOR_RISK_RECALL = 0.89
FLOOR_FALSE_ALARMS = 0.025


def load(name: str) -> list[dict]:
    path = HELDOUT / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def messages() -> tuple[list[dict], list[dict]]:
    """Risk messages with their expected tier; ordinary ones (answers, commands, everyday talk)."""
    risks, ordinary = [], []
    for row in load("safeguarding.jsonl"):
        (ordinary if row["tier"] == "none" else risks).append(row)
    for row in load("commands.jsonl"):
        ordinary.append({"text": row["text"], "category": "command", "tier": "none"})
    for row in load("answers.jsonl"):
        ordinary.append({"text": row["text"], "category": "answer", "tier": "none"})
    return risks, ordinary


def run(screen) -> bool:
    """Print the tables and the targets; False when a figure fell below its floor."""
    risks, ordinary = messages()
    for row in risks + ordinary:  # warm up: the first call loads the model
        screen(row["text"])
        break
    timings = []

    def tier_of(text: str) -> str:
        start = time.perf_counter()
        concern = screen(text)
        timings.append((time.perf_counter() - start) * 1000)
        return ORDER[int(concern.tier)] if concern else "none"

    by_cat: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in risks:
        by_cat[row["category"]].append((row["tier"], tier_of(row["text"])))
    print(f"{'risk category':24} {'n':>4} {'caught':>7} {'recall':>7}   given: none/strain/risk/danger")
    caught_all = total_all = 0
    danger_low = 0
    by_expected: dict[str, list[bool]] = defaultdict(list)
    for cat in sorted(by_cat):
        rows = by_cat[cat]
        caught = 0
        for expected, got in rows:
            bar = "strain" if expected == "strain" else "risk_disclosed"
            ok = ORDER.index(got) >= ORDER.index(bar)
            caught += ok
            by_expected[expected].append(ok)
            if expected == "danger_now" and ORDER.index(got) < ORDER.index("risk_disclosed"):
                danger_low += 1
        given = Counter(got for _, got in rows)
        print(f"{cat:24} {len(rows):4} {caught:7} {caught / len(rows):7.1%}   "
              + "/".join(str(given[t]) for t in ORDER))
        caught_all += caught
        total_all += len(rows)
    print(f"{'all risks':24} {total_all:4} {caught_all:7} {caught_all / total_all:7.1%}")
    print()
    print(f"{'expected tier':24} {'n':>4} {'recall':>7}  (strain: any tier; others: risk disclosed or above)")
    for tier in ("danger_now", "risk_disclosed", "strain"):
        oks = by_expected.get(tier, [])
        if oks:
            print(f"{tier:24} {len(oks):4} {sum(oks) / len(oks):7.1%}")
    print(f"danger now given a tier below risk disclosed: {danger_low}")
    any_tier = sum(ORDER.index(got) >= 1 for rows in by_cat.values() for _, got in rows)
    print(f"risk messages given any tier (at least a safety question and a person within a working day): "
          f"{any_tier / total_all:.1%}")
    print()
    print(f"{'ordinary category':24} {'n':>4} {'false alarm':>12} {'asked if safe':>14}")
    alarms_all = n_all = 0
    groups: dict[str, list[str]] = defaultdict(list)
    for row in ordinary:
        groups[row["category"]].append(tier_of(row["text"]))
    for cat in sorted(groups):
        got = groups[cat]
        alarms = sum(ORDER.index(g) >= 2 for g in got)
        strain = sum(g == "strain" for g in got)
        print(f"{cat:24} {len(got):4} {alarms / len(got):12.1%} {strain / len(got):14.1%}")
        alarms_all += alarms
        n_all += len(got)
    print(f"{'all ordinary':24} {n_all:4} {alarms_all / n_all:12.1%}")
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95)]
    print(f"\nscreening time per message: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms "
          f"({len(timings)} messages)")
    risk_oks = by_expected.get("danger_now", []) + by_expected.get("risk_disclosed", [])
    recall = sum(risk_oks) / max(len(risk_oks), 1)
    checks = {
        f"recall of danger now and risk disclosed {recall:.1%} >= {MIN_RISK_RECALL:.0%}": recall >= MIN_RISK_RECALL,
        f"danger now below risk disclosed {danger_low} <= {MAX_DANGER_BELOW_RISK}": danger_low <= MAX_DANGER_BELOW_RISK,
        f"false alarms {alarms_all / n_all:.1%} <= {MAX_FALSE_ALARMS:.0%}": alarms_all / n_all <= MAX_FALSE_ALARMS,
        f"p95 {p95:.1f} ms <= {MAX_P95_MS:.0f} ms": p95 <= MAX_P95_MS,
    }
    floors = {
        f"floor: recall {recall:.1%} >= {FLOOR_RISK_RECALL:.1%}": recall >= FLOOR_RISK_RECALL,
        f"floor: false alarms {alarms_all / n_all:.1%} <= {FLOOR_FALSE_ALARMS:.1%}":
            alarms_all / n_all <= FLOOR_FALSE_ALARMS,
    }
    return verdict(checks, floors)
