"""The learned risk screen: the published MiniLM's meaning of a message, read by a head trained here."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypedDict

import numpy as np
import yaml
from scipy import sparse

from bot.config import Settings
from bot.duty.safeguarding.encoder import Encoder, shared
from bot.duty.safeguarding.phrases import CONTEXT, IDIOMS_COMPILED, NEGATED, TIER_ORDER, normalise

log = logging.getLogger("carertext.safeguarding")

CORPUS = Path(__file__).resolve().parent / "corpus"
CATEGORIES = ("none", "suicide_self_harm", "cared_for_self_risk", "harm_by_carer", "harm_to_carer",
              "abuse_of_cared_for", "medical_emergency", "breaking_point")
TIERS = TIER_ORDER
# The head's bar for each tier, set by five-fold cross-validation on the training corpus alone (never on
# the held-out sets): a risk tier for the top 2% of ordinary messages, a safety question for the top 5%.
RISK_BAR = 0.752
STRAIN_BAR = 0.575
DANGER_BAR = 0.5
HEAD_FORMAT = 4  # raised when what the head holds or how it is trained changes
# How strongly the head is held back from fitting the corpus word for word (inverse; set by cross-validation).
C_REGULARISATION = 10.0
# Letter pieces count for a little less than whole words and meaning: they help with spelling, not sense.
CHAR_SCALE = 0.7
# Long answers bury disclosures: each clause and each window of this many words is read on its own too.
WINDOW_WORDS = 14


@dataclass(frozen=True)
class Reading:
    """What the head made of a message: its tier, the likely kinds of risk, and how sure it was."""

    tier: str
    categories: tuple[str, ...]
    p_risk: float  # probability of a risk tier (risk disclosed or danger now)
    p_danger: float


# Where one clause ends and the next begins: a disclosure in one is read apart from a denial in another.
CLAUSE_BREAK = re.compile(r"[.!?;\n]+\s*|\s+-\s+|,?\s+(?:but|though|however|although)\s+|,\s+(?:and|so)\s+")


def spans(text: str) -> list[tuple[int, int]]:
    """The whole message, its clauses and its overlapping windows of words, as character spans."""
    found = [(0, len(text))]
    start = 0
    clauses = []
    for m in CLAUSE_BREAK.finditer(text):
        if m.start() > start:
            clauses.append((start, m.start()))
        start = m.end()
    if start < len(text):
        clauses.append((start, len(text)))
    if len(clauses) > 1:
        found += clauses
    words = [m.span() for m in re.finditer(r"\S+", text)]
    if len(words) > WINDOW_WORDS + 4:
        step = WINDOW_WORDS // 2
        for i in range(0, len(words) - step, step):
            last = words[min(i + WINDOW_WORDS, len(words)) - 1]
            found.append((words[i][0], last[1]))
    return list(dict.fromkeys(found))


def guarded(text: str) -> bool:
    """A denial, someone else's story, a course, a programme or an idiom: the meaning is not a disclosure."""
    norm = normalise(text)
    return bool(NEGATED.search(norm) or CONTEXT.search(norm) or any(i.search(norm) for i in IDIOMS_COMPILED))


def tokens(text: str) -> list[str]:
    """Words and word pairs, spelling folded: what a phrase list sees, weighed by the head instead."""
    words = normalise(text).split()
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


def char_grams(text: str) -> list[str]:
    """Pieces of three to five letters inside each word: misspellings and text-speak share most of them."""
    grams = []
    for word in text.lower().split():
        word = f" {word} "
        for n in range(3, 6):
            grams += [word[i:i + n] for i in range(max(len(word) - n + 1, 1))]
    return grams


Pieces = Callable[[str], list[str]]  # how a message is cut up: tokens or char_grams


class CorpusRow(TypedDict):
    """One labelled message: its text, how serious (a TIERS name) and which kind of risk (or "none")."""

    text: str
    tier: str
    category: str


class Lexicon:
    """Weights (tf-idf) of the pieces a message is made of, learnt from the corpus: the wording beside the meaning."""

    def __init__(self, vocabulary: list[str], idf: np.ndarray, pieces: Pieces, scale: float = 1.0):
        self.vocabulary, self.idf, self.pieces, self.scale = vocabulary, idf.astype(np.float32), pieces, scale
        self.index = {w: i for i, w in enumerate(vocabulary)}

    @classmethod
    def learn(cls, texts: list[str], pieces: Pieces, scale: float = 1.0) -> "Lexicon":
        df: dict[str, int] = {}
        for text in texts:
            for tok in set(pieces(text)):
                df[tok] = df.get(tok, 0) + 1
        vocabulary = sorted(t for t, c in df.items() if c >= 2)
        idf = np.array([math.log((1 + len(texts)) / (1 + df[t])) + 1 for t in vocabulary])
        return cls(vocabulary, idf, pieces, scale)

    def features(self, texts: list[str]) -> sparse.csr_matrix:
        rows, cols, values = [], [], []
        for row, text in enumerate(texts):
            counts: dict[int, int] = {}
            for tok in self.pieces(text):
                col = self.index.get(tok)
                if col is not None:
                    counts[col] = counts.get(col, 0) + 1
            if not counts:
                continue
            found = np.fromiter(counts, dtype=np.int64)
            weight = (1 + np.log(np.fromiter(counts.values(), dtype=np.float32))) * self.idf[found]
            weight *= self.scale / np.linalg.norm(weight)
            rows += [row] * len(found)
            cols += found.tolist()
            values += weight.tolist()
        return sparse.csr_matrix((values, (rows, cols)), shape=(len(texts), len(self.vocabulary)),
                                 dtype=np.float32)


def load_corpus(rasa_project: Path) -> list[CorpusRow]:
    """The labelled messages in the repository: risks, ordinary talk, and the dialogue model's examples."""
    rows: list[CorpusRow] = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                tier = row.get("tier", "none")
                rows.append({"text": row["text"], "tier": tier,
                             "category": row["category"] if tier != "none" else "none"})
    # Every example the dialogue model learns commands and answers from is ordinary talk, except its
    # own safeguarding intent, which is the screen's to catch.
    for path in sorted((rasa_project / "data" / "nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block or block["intent"] == "safeguarding":
                continue
            for ex in str(block.get("examples", "")).splitlines():
                ex = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", ex.strip().lstrip("- ").strip())
                if ex:
                    rows.append({"text": ex, "category": "none", "tier": "none"})
    return rows


def corpus_digest(rows: list[CorpusRow]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(json.dumps(r, sort_keys=True).encode())
    h.update(str((HEAD_FORMAT, WINDOW_WORDS, CATEGORIES, TIERS, CLAUSE_BREAK.pattern)).encode())
    return h.hexdigest()[:16]


def training_spans(rows: list[CorpusRow]) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Each message, and the spans it teaches from: an ordinary message's clauses and windows are ordinary too."""
    texts = [" ".join(r["text"].split()) for r in rows]
    return texts, [spans(t) if r["tier"] == "none" else [(0, len(t))] for t, r in zip(texts, rows, strict=True)]


def _logistic(x: sparse.csr_matrix, y: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression fitted to convergence, classes weighted to balance."""
    from sklearn.linear_model import LogisticRegression  # training only: reading needs NumPy alone

    model = LogisticRegression(C=C_REGULARISATION, max_iter=3000, class_weight="balanced").fit(x, y)
    w = np.zeros((x.shape[1], classes), dtype=np.float32)
    b = np.full(classes, -30.0, dtype=np.float32)  # a class the corpus lacks is never read
    w[:, model.classes_], b[model.classes_] = model.coef_.T, model.intercept_
    return w, b


class Head:
    """Two small readers on meaning and wording: which kind of risk, and how serious."""

    def __init__(self, words: Lexicon, chars: Lexicon, cat_w: np.ndarray, cat_b: np.ndarray, tier_w: np.ndarray,
                 tier_b: np.ndarray):
        self.words, self.chars = words, chars
        self.cat_w, self.cat_b, self.tier_w, self.tier_b = cat_w, cat_b, tier_w, tier_b

    def features(self, vectors: np.ndarray, span_texts: list[str]) -> sparse.csr_matrix:
        return _features(self.words, self.chars, vectors, span_texts)

    @classmethod
    def train(cls, encoder: Encoder, rows: list[CorpusRow], vectors: list[np.ndarray] | None = None) -> "Head":
        """Fit both readers; vectors, when given, are the encoder's reading of training_spans(rows)."""
        texts, parts = training_spans(rows)
        if vectors is None:
            vectors = encoder.encode_spans(texts, parts)
        cats, tiers, span_texts = [], [], []
        for t, r, p in zip(texts, rows, parts, strict=True):
            cats += [CATEGORIES.index(r["category"])] + [0] * (len(p) - 1)
            tiers += [TIERS.index(r["tier"])] + [0] * (len(p) - 1)
            span_texts += [t[a:b] for a, b in p]
        words, chars = Lexicon.learn(texts, tokens), Lexicon.learn(texts, char_grams, CHAR_SCALE)
        x = _features(words, chars, np.vstack(vectors), span_texts)
        cat_w, cat_b = _logistic(x, np.array(cats), len(CATEGORIES))
        tier_w, tier_b = _logistic(x, np.array(tiers), len(TIERS))
        return cls(words, chars, cat_w, cat_b, tier_w, tier_b)

    def save(self, path: Path, digest: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, cat_w=self.cat_w, cat_b=self.cat_b, tier_w=self.tier_w, tier_b=self.tier_b,
                 words=np.array(self.words.vocabulary), words_idf=self.words.idf,
                 chars=np.array(self.chars.vocabulary), chars_idf=self.chars.idf, digest=np.array(digest))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, digest: str) -> "Head | None":
        if not path.exists():
            return None
        data = np.load(path)
        if "digest" not in data or str(data["digest"]) != digest:
            return None
        words = Lexicon([str(w) for w in data["words"]], data["words_idf"], tokens)
        chars = Lexicon([str(w) for w in data["chars"]], data["chars_idf"], char_grams, CHAR_SCALE)
        return cls(words, chars, data["cat_w"], data["cat_b"], data["tier_w"], data["tier_b"])

    def probabilities(self, vectors: np.ndarray, span_texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Kind and tier probabilities of each span; the three parts are weighed apart, sparse ones sparsely."""
        split = [vectors.shape[1], vectors.shape[1] + len(self.words.vocabulary)]
        words, chars = self.words.features(span_texts), self.chars.features(span_texts)

        def softmax(w: np.ndarray, b: np.ndarray) -> np.ndarray:
            top, mid, low = np.split(w, split)
            z = vectors @ top + words @ mid + chars @ low + b
            z = z - z.max(-1, keepdims=True)
            e = np.exp(z)
            p: np.ndarray = e / e.sum(-1, keepdims=True)
            return p
        return softmax(self.cat_w, self.cat_b), softmax(self.tier_w, self.tier_b)


def _features(words: Lexicon, chars: Lexicon, vectors: np.ndarray, span_texts: list[str]) -> sparse.csr_matrix:
    """Meaning, then wording (words, then pieces of words), side by side."""
    return sparse.hstack([sparse.csr_matrix(vectors), words.features(span_texts), chars.features(span_texts)],
                         format="csr")


class RiskClassifier:
    """Reads every chunk of a message and keeps the most serious reading."""

    def __init__(self, encoder: Encoder, head: Head):
        self.encoder, self.head = encoder, head

    def span_probabilities(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Kind and tier probabilities of each span that may be a disclosure (rows), for read and calibration."""
        text = " ".join(text.split())
        # A clause that denies a risk or tells another's story is not read as a disclosure (the phrases
        # set the same ones aside); the rest of the message still is.
        parts = [(a, b) for a, b in spans(text) if not guarded(text[a:b])]
        if not parts:
            return np.zeros((0, len(CATEGORIES))), np.zeros((0, len(TIERS)))
        vectors = self.encoder.encode_spans([text], [parts])[0]
        return self.head.probabilities(vectors, [text[a:b] for a, b in parts])

    def read(self, text: str) -> Reading:
        cat_p, tier_p = self.span_probabilities(text)
        if not len(tier_p):
            return Reading("none", (), 0.0, 0.0)
        p_risk_each = tier_p[:, 2] + tier_p[:, 3]
        worst = int(np.argmax(p_risk_each + tier_p[:, 1] * 0.01))
        p_risk, p_danger = float(p_risk_each.max()), float(tier_p[:, 3].max())
        p_strain = float((tier_p[:, 1] + p_risk_each).max())
        if p_danger >= DANGER_BAR and p_risk >= RISK_BAR:
            tier = "danger_now"
        elif p_risk >= RISK_BAR:
            tier = "risk_disclosed"
        elif p_strain >= STRAIN_BAR:
            tier = "strain"
        else:
            tier = "none"
        categories: tuple[str, ...] = ()
        if tier != "none":
            row = cat_p[worst].copy()
            row[0] = 0.0
            order = np.argsort(-row)
            categories = tuple(CATEGORIES[i] for i in order[:2] if row[i] >= 0.25) or (CATEGORIES[int(order[0])],)
        return Reading(tier, categories, p_risk, p_danger)


def build(settings: Settings, encoder: Encoder | None = None) -> RiskClassifier:
    """The classifier, trained from the corpus now if the head on disk is missing or out of date."""
    encoder = encoder or shared()
    path = Path(settings.safeguarding_model)
    rows = load_corpus(Path(settings.rasa_project))
    digest = corpus_digest(rows)
    head = Head.load(path, digest)
    if head is None:
        log.info("training the safeguarding head on %d examples", len(rows))
        head = Head.train(encoder, rows)
        head.save(path, digest)
    return RiskClassifier(encoder, head)
