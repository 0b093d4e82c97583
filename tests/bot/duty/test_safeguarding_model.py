"""The sentence model behind the risk classifier: the published weights, computed as published."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from bot.duty.safeguarding.encoder import Encoder, ModelMismatch, model_dir, shared

# sentence-transformers 5 with PyTorch 2.13 on all-MiniLM-L6-v2 (normalised): the first eight numbers of
# each sentence's embedding, and its cosine with the first sentence.
REFERENCE = [
    ("I want to kill myself tonight",
     [-0.002729, -0.002603, 0.012404, -0.01274, 0.046369, -0.05495, 0.036284, 0.020551], 1.0),
    ("The weather is lovely today",
     [0.013478, 0.115809, 0.161195, 0.051646, 0.058655, -0.029133, 0.054056, -0.083978], 0.191134),
    ("my back is killing me after lifting him",
     [0.044052, -0.042095, 0.010286, 0.037245, -0.0442, -0.054277, -0.003211, 0.031456], 0.21016),
]


def test_embeddings_match_the_reference_implementation():
    vectors = shared().encode([text for text, _, _ in REFERENCE])
    for (text, first8, cosine), v in zip(REFERENCE, vectors, strict=True):
        assert np.allclose(v[:8], first8, atol=2e-6), text
        assert abs(float(v @ vectors[0]) - cosine) < 2e-6, text


def test_a_sentence_read_inside_a_longer_message_keeps_its_meaning():
    text = "we get by most days. I have the tablets saved up for when I go"
    whole, first, second = shared().encode_spans([text], [[(0, len(text)), (0, 19), (20, len(text))]])[0]
    alone = shared().encode(["I have the tablets saved up for when I go"])[0]
    assert float(second @ alone) > float(first @ alone)


def test_weights_that_are_not_the_published_ones_are_refused(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(model_dir(), copy)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF  # one flipped byte in the last weight
    (copy / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelMismatch):
        Encoder(copy)
