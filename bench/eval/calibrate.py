"""Set the classifier's bars by five-fold cross-validation on the training corpus alone.

python -m bench.eval.calibrate prints, for each bar, the share of ordinary training messages above it and
the recall it keeps; the held-out sets are never read here, so they stay a fair test."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.duty.safeguarding.classifier import TIERS, Head, RiskClassifier, load_corpus, training_spans
from bot.duty.safeguarding.encoder import shared


def cross_validate(folds: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each training message read by a head that never saw it: (p_risk, p_strain, expected tier)."""
    encoder, rows = shared(), load_corpus(Path(Settings.from_env().rasa_project))
    vectors = encoder.encode_spans(*training_spans(rows))  # once: each fold's head reads the same vectors
    order = np.random.default_rng(seed).permutation(len(rows))
    p_risk, p_strain = np.zeros(len(rows)), np.zeros(len(rows))
    for fold in np.array_split(order, folds):
        held = set(fold.tolist())
        kept = [i for i in range(len(rows)) if i not in held]
        classifier = RiskClassifier(encoder, Head.train(encoder, [rows[i] for i in kept], [vectors[i] for i in kept]))
        for i in fold:
            _, tier_p = classifier.span_probabilities(rows[i]["text"])
            if len(tier_p):
                risk = tier_p[:, 2] + tier_p[:, 3]
                p_risk[i], p_strain[i] = risk.max(), (tier_p[:, 1] + risk).max()
    return p_risk, p_strain, np.array([TIERS.index(r["tier"]) for r in rows])


def main() -> None:
    p_risk, p_strain, tier = cross_validate()
    ordinary, risky, strain = tier == 0, tier >= 2, tier == 1
    print(f"{len(tier)} training messages, 5-fold cross-validation\n")
    print("risk bar   ordinary above   risk recall")
    for q in (0.97, 0.98, 0.99):
        bar = float(np.quantile(p_risk[ordinary], q))
        print(f"{bar:8.3f}   {1 - q:14.0%}   {(p_risk[risky] >= bar).mean():11.1%}")
    print("\nstrain bar ordinary above   strain recall   risk caught at any tier")
    for q in (0.93, 0.95, 0.97):
        bar = float(np.quantile(p_strain[ordinary], q))
        print(f"{bar:8.3f}   {1 - q:14.0%}   {(p_strain[strain] >= bar).mean():13.1%}   "
              f"{(p_strain[risky] >= bar).mean():11.1%}")


if __name__ == "__main__":
    main()
