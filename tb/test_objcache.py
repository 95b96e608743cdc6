"""The runtime object cache (:mod:`tb.objcache`) with a stand-in compiler."""

import os
import sys

from . import objcache

COMPILER = """\
import pathlib, sys
args = sys.argv[1:]
out = pathlib.Path(args[args.index("-o") + 1])
out.write_text("object of " + args[-1])
out.with_suffix(".d").write_text(out.name + ": " + args[-1])
log = pathlib.Path(__file__).with_name("calls")
log.write_text(log.read_text() + "x" if log.exists() else "x")
"""


def _compile(tmp_path, build, src):
    build.mkdir(exist_ok=True)
    cwd = os.getcwd()
    os.chdir(build)
    try:
        return objcache.main([sys.executable, str(tmp_path / "cc.py"), "-Os", "-c", "-o",
                              "verilated.o", str(src)])
    finally:
        os.chdir(cwd)


def test_runtime_objects_compiled_once(tmp_path, monkeypatch):
    (tmp_path / "cc.py").write_text(COMPILER)
    include = tmp_path / "root" / "include"
    include.mkdir(parents=True)
    runtime, design = include / "verilated.cpp", tmp_path / "Vtop.cpp"
    runtime.write_text("//")
    design.write_text("//")
    monkeypatch.setenv("VERILATOR_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("FACET_TB_OBJCACHE", str(tmp_path / "cache"))
    calls = tmp_path / "calls"
    assert _compile(tmp_path, tmp_path / "a", runtime) == 0
    assert _compile(tmp_path, tmp_path / "b", runtime) == 0
    assert calls.read_text() == "x"
    for name in ("verilated.o", "verilated.d"):
        assert (tmp_path / "b" / name).read_text() == (tmp_path / "a" / name).read_text()
    runtime.write_text("// changed")  # a new runtime source is a new entry
    assert _compile(tmp_path, tmp_path / "c", runtime) == 0
    assert calls.read_text() == "xx"
    for build in ("d", "e"):  # the design's own files always compile
        assert _compile(tmp_path, tmp_path / build, design) == 0
    assert calls.read_text() == "xxxx"
