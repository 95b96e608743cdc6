"""A float32 BERT encoder forward pass in NumPy that captures the activation tensors."""

import math

import numpy as np

__all__ = ["erf", "gelu", "layer_norm", "forward", "mean_pool"]


# -- forward pass -----------------------------------------------------------------------------

_ERF_SPLIT = 2.0      # series below, continued fraction above
_ERF_CF_TERMS = 50


def erf(x):
    """Vectorized error function in float64, max abs error about 1e-15.

    For ``|x| < 2``: ``erf(x) = 2/sqrt(pi) exp(-x^2) sum_n (2x^2)^n x / (2n+1)!!``, a series of
    positive terms (no cancellation). Above: ``erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x +
    1/(x + (3/2)/(x + ...))))``, the Laplace continued fraction, evaluated backwards.
    """
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    out = np.empty_like(a)
    small = a < _ERF_SPLIT
    z = a[small]
    term = z.copy()
    total = z.copy()
    z2 = 2.0 * z * z
    n = 0
    while True:
        n += 1
        term = term * z2 / (2 * n + 1)
        total += term
        if not np.any(term > 1e-17 * total):
            break
    out[small] = (2.0 / math.sqrt(math.pi)) * np.exp(-z * z) * total
    large = ~small
    z = a[large]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        frac = z.copy()
        for k in range(_ERF_CF_TERMS, 0, -1):
            frac = z + (0.5 * k) / frac
        out[large] = 1.0 - np.exp(-z * z) / (math.sqrt(math.pi) * frac)
    return np.copysign(out, x)


def gelu(x):
    """Exact (erf) GELU, ``x * Phi(x)``, computed in float64 and returned as float32."""
    x64 = np.asarray(x, dtype=np.float64)
    return (0.5 * x64 * (1.0 + erf(x64 / math.sqrt(2.0)))).astype(np.float32)


def layer_norm(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=-1, keepdims=True)
    return (centered / np.sqrt(var + np.float32(eps)) * weight + bias).astype(np.float32)


def _linear(x, weights, name):
    w = np.asarray(weights[name + ".weight"], dtype=np.float32)
    b = np.asarray(weights[name + ".bias"], dtype=np.float32)
    return x @ w.T + b


def _prefix(weights):
    """Weight-name prefix: ``""`` or ``"bert."`` for checkpoints saved from a task model."""
    for prefix in ("", "bert."):
        if prefix + "embeddings.word_embeddings.weight" in weights:
            return prefix
    raise KeyError("no embeddings.word_embeddings.weight in the weights")


def _num_layers(weights, prefix):
    n = 0
    while f"{prefix}encoder.layer.{n}.attention.self.query.weight" in weights:
        n += 1
    return n


def forward(weights, input_ids, attention_mask, capture=None, *, num_heads=12, eps=1e-12):
    """BERT encoder forward pass in float32; returns the last hidden state ``(B, S, H)``.

    ``weights`` maps Hugging Face BertModel parameter names to arrays. If ``capture`` is a
    dict, it receives float32 copies of ``emb.ln_in`` ``(B, S, H)`` and, for each layer ``i``,
    ``L{i}.attn_softmax`` ``(B, heads, S, S)``, ``L{i}.ln1_in`` and ``L{i}.ln2_in``
    ``(B, S, H)``, ``L{i}.gelu_in`` and ``L{i}.gelu_out`` ``(B, S, intermediate)``.
    Padded key positions get attention probability exactly 0.
    """
    p = _prefix(weights)
    input_ids = np.asarray(input_ids, dtype=np.int64)
    mask = np.asarray(attention_mask).astype(bool)
    if input_ids.ndim != 2 or mask.shape != input_ids.shape:
        raise ValueError("input_ids and attention_mask must be (batch, seq) arrays of one shape")
    batch, seq = input_ids.shape

    def keep(name, value):
        if capture is not None:
            capture[name] = np.array(value, dtype=np.float32)

    def param(name):
        return np.asarray(weights[p + name], dtype=np.float32)

    # Embeddings: word + absolute position + token type 0, then LayerNorm.
    x = (param("embeddings.word_embeddings.weight")[input_ids]
         + param("embeddings.position_embeddings.weight")[:seq][None]
         + param("embeddings.token_type_embeddings.weight")[0])
    keep("emb.ln_in", x)
    x = layer_norm(x, param("embeddings.LayerNorm.weight"), param("embeddings.LayerNorm.bias"),
                   eps)

    hidden = x.shape[-1]
    if hidden % num_heads:
        raise ValueError(f"hidden size {hidden} is not a multiple of {num_heads} heads")
    head_dim = hidden // num_heads
    scale = np.float32(1.0 / math.sqrt(head_dim))
    key_ok = mask[:, None, None, :]                       # (B, 1, 1, S)
    lowest = np.finfo(np.float32).min

    def heads(t):                                         # (B, S, H) -> (B, heads, S, d)
        return t.reshape(batch, seq, num_heads, head_dim).transpose(0, 2, 1, 3)

    for i in range(_num_layers(weights, p)):
        name = f"{p}encoder.layer.{i}."
        q = heads(_linear(x, weights, name + "attention.self.query"))
        k = heads(_linear(x, weights, name + "attention.self.key"))
        v = heads(_linear(x, weights, name + "attention.self.value"))
        scores = (q @ k.transpose(0, 1, 3, 2)) * scale
        scores = np.where(key_ok, scores, lowest)
        scores = scores - scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        keep(f"L{i}.attn_softmax", probs)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)

        attn_out = _linear(context, weights, name + "attention.output.dense") + x
        keep(f"L{i}.ln1_in", attn_out)
        x = layer_norm(attn_out, param(f"encoder.layer.{i}.attention.output.LayerNorm.weight"),
                       param(f"encoder.layer.{i}.attention.output.LayerNorm.bias"), eps)

        inter = _linear(x, weights, name + "intermediate.dense")
        keep(f"L{i}.gelu_in", inter)
        inter = gelu(inter)
        keep(f"L{i}.gelu_out", inter)

        out = _linear(inter, weights, name + "output.dense") + x
        keep(f"L{i}.ln2_in", out)
        x = layer_norm(out, param(f"encoder.layer.{i}.output.LayerNorm.weight"),
                       param(f"encoder.layer.{i}.output.LayerNorm.bias"), eps)
    return x


def mean_pool(hidden, attention_mask):
    """Masked mean over tokens, L2-normalized: sentence-transformers' MiniLM embedding."""
    m = np.asarray(attention_mask, dtype=np.float32)[..., None]
    pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    norm = np.linalg.norm(pooled, axis=-1, keepdims=True)
    return (pooled / np.maximum(norm, 1e-12)).astype(np.float32)
