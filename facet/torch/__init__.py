"""PyTorch implementation of the codec and saved-tensor compression for training.

:func:`encode` / :func:`decode` are bit-identical to :func:`facet.encode` /
:func:`facet.decode` and run on the device of their input. Each policy is a small class in
:mod:`facet.torch.policies` built from the shared stages in :mod:`facet.torch.stages` and
the bit machinery in :mod:`facet.torch.bits`. :func:`compress_saved_tensors` stores the
tensors autograd saves for the backward pass in a compressed (or baseline) format.
"""

from .codec import encode, decode, decode_raw
from .policies import POLICIES, register
from .hooks import Method, method, compress_saved_tensors

__all__ = ["encode", "decode", "decode_raw", "POLICIES", "register", "Method", "method",
           "compress_saved_tensors"]
