"""A BERT-uncased WordPiece tokenizer built from ``vocab.txt``."""

import unicodedata
from pathlib import Path

import numpy as np

__all__ = ["WordPiece"]


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
