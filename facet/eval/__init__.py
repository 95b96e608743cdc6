"""Accuracy of facet and of the baselines on activation tensors (`facet eval`).

Every tensor is flattened in C order and cut into blocks of N values (the last block padded
with zeros, which the metrics leave out). The reference is the float32 input, so facet's own
rounding to its format counts as error, as does every baseline's.

:func:`evaluate` compares a few configs at one rate; :func:`rd_sweep` traces rate-distortion
curves, relative L2 error against bits per value, for every policy and baseline, and
:func:`write_rd` writes them as JSON, one PNG per tensor class and a markdown summary.

The package is split by concern: ``tensors`` (reading the input, grouping tensors, writing
JSON), ``accuracy`` (the metrics and :func:`evaluate` at one rate) and ``rd`` (the sweep).
"""

from .accuracy import baseline_names, evaluate, format_summary, format_table, metrics
from .rd import (RD_BITS, SUMMARY_RATES, format_rd_summary, plot_rd, rd_configs, rd_summary,
                 rd_sweep, run_rd, write_rd)
from .tensors import check_output_path, dump_json, load_tensors, tensor_class

__all__ = ["load_tensors", "check_output_path", "tensor_class", "metrics", "evaluate",
           "format_table", "format_summary", "dump_json", "baseline_names", "RD_BITS",
           "SUMMARY_RATES", "rd_configs", "rd_sweep", "rd_summary", "format_rd_summary", "plot_rd",
           "write_rd", "run_rd"]
