#!/usr/bin/env python3
"""Object cache for Verilator's runtime library, run by make as verilated.mk's ``OBJCACHE``.

Every build of the cocotb top compiles the same runtime files (``verilated.cpp``,
``verilated_vpi.cpp`` and three more, about 26 s of CPU) with the same command line. This
prefix keeps the object and dependency file of each such command once, under the directory
``FACET_TB_OBJCACHE`` names, and copies them into later builds. Compiles of anything else,
or without that variable, run as they are.

Usage (make does this): ``objcache.py <compiler> <arguments>``
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def _key(cmd, src):
    """The command line, and the compiler binary and source file as they are on disk."""
    digest = hashlib.sha256("\0".join(cmd).encode())
    for path in (shutil.which(cmd[0]) or cmd[0], src):
        st = os.stat(os.path.realpath(path))
        digest.update(f"\0{os.path.realpath(path)}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


def _store(src, dst):
    """Copy ``src`` to ``dst`` atomically (parallel builds may store the same entry)."""
    fd, tmp = tempfile.mkstemp(dir=dst.parent)
    os.close(fd)
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def main(cmd):
    cache = os.environ.get("FACET_TB_OBJCACHE")
    include = Path(os.environ.get("VERILATOR_ROOT", "/nonexistent")) / "include"
    src = Path(cmd[-1]) if cmd else None
    if not (cache and "-c" in cmd and "-o" in cmd and src and src.parent == include):
        return subprocess.call(cmd)
    obj = Path(cmd[cmd.index("-o") + 1])
    dep = obj.with_suffix(".d")
    entry = Path(cache) / _key(cmd, src)
    if entry.with_suffix(".o").is_file() and entry.with_suffix(".d").is_file():
        # Fresh copies: newer than the Vtop.mk the objects depend on.
        shutil.copyfile(entry.with_suffix(".o"), obj)
        shutil.copyfile(entry.with_suffix(".d"), dep)
        return 0
    status = subprocess.call(cmd)
    if status == 0 and obj.is_file() and dep.is_file():
        entry.parent.mkdir(parents=True, exist_ok=True)
        _store(dep, entry.with_suffix(".d"))
        _store(obj, entry.with_suffix(".o"))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
