"""`facet eval` on the command line: bad inputs and outputs fail fast with one line, and runs."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from facet import cli
from facet import eval as ev
from facet.config import POLICIES

RNG_SEED = 20241201


@pytest.fixture
def acts(tmp_path):
    rng = np.random.default_rng(RNG_SEED)
    p = tmp_path / "acts.npz"
    np.savez(p, **{"emb.ln_in": rng.standard_normal(1024).astype(np.float32),
                   "L0.gelu_in": rng.standard_normal(512).astype(np.float32),
                   "ids": np.arange(8)})
    return p


@pytest.fixture
def no_work(monkeypatch):
    """Make every long computation fail the test: errors must come before it."""
    def boom(*a, **k):
        raise AssertionError("an argument error was found only after the computation began")
    for name in ("evaluate", "run_rd", "rd_sweep"):
        monkeypatch.setattr(ev, name, boom)


def fails(argv, capsys, *names):
    """Run `facet eval ...`: exit status 2, one stderr line naming each of ``names``."""
    assert cli.main(["eval", *map(str, argv)]) == 2
    out, err = capsys.readouterr()
    assert out == "", "nothing is printed before an argument error"
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("facet eval: error: ")
    for n in names:
        assert str(n) in lines[0], (n, lines[0])
    assert "allow_pickle" not in err and "Traceback" not in err
    return lines[0]


def test_missing_file(tmp_path, capsys, no_work):
    p = tmp_path / "missing.npz"
    assert "no such file" in fails([p], capsys, p)


def test_directory_named_npz(tmp_path, capsys, no_work):
    p = tmp_path / "x.npz"
    p.mkdir()
    assert "is a directory" in fails([p], capsys, p)


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_empty_file(tmp_path, capsys, no_work, suffix):
    p = tmp_path / f"e{suffix}"
    p.write_bytes(b"")
    assert "empty file" in fails([p], capsys, p)


def test_corrupt_npy(tmp_path, capsys, no_work):
    p = tmp_path / "c.npy"
    good = tmp_path / "g.npy"
    np.save(good, np.ones(100, np.float32))
    p.write_bytes(good.read_bytes()[:60])  # header cut short
    assert "corrupt .npy" in fails([p], capsys, p)


def test_corrupt_npz(tmp_path, capsys, no_work):
    good = tmp_path / "g.npz"
    np.savez(good, a=np.ones(1000, np.float32))
    p = tmp_path / "c.npz"
    p.write_bytes(good.read_bytes()[:200])  # a zip whose directory is gone
    assert "corrupt .npz" in fails([p], capsys, p)
    q = tmp_path / "d.npz"
    with zipfile.ZipFile(q, "w") as z:
        z.writestr("a.npy", b"\x93NUMPY garbage")
    assert "corrupt .npz" in fails([q], capsys, q)


def test_text_file_named_npz(tmp_path, capsys, no_work):
    p = tmp_path / "t.npz"
    p.write_text("layer,value\n0,1.5\n")
    line = fails([p], capsys, p)
    assert "not a .npz file" in line and "pickle" not in line


def test_npz_without_float_arrays(tmp_path, capsys, no_work):
    p = tmp_path / "i.npz"
    np.savez(p, ids=np.arange(5), names=np.array(["a", "b"]), empty=np.zeros(0, np.float32),
             objs=np.array([{"a": 1}], dtype=object))
    line = fails([p], capsys, p, "ids", "objs")
    assert "no usable floating-point array" in line


def test_json_in_missing_directory(acts, tmp_path, capsys, no_work):
    j = tmp_path / "nope" / "out.json"
    fails([acts, "--json", j], capsys, "--json", j)
    fails([acts, "--json", tmp_path], capsys, "--json", "is a directory")
    fails([acts, "--md", tmp_path / "nope" / "k.md"], capsys, "--md", "does not exist")
    fails([acts, "--rd", "--md", tmp_path / "k.md"], capsys, "--md", "--rd")


def test_out_in_missing_directory(acts, tmp_path, capsys, no_work):
    o = tmp_path / "nope" / "rd"
    fails([acts, "--rd", "--out", o], capsys, "--out", o)
    f = tmp_path / "file"
    f.write_text("")
    fails([acts, "--rd", "--out", f], capsys, "--out", "not a directory")


def test_bad_policy_and_config(acts, capsys, no_work):
    fails([acts, "--policy", "nope"], capsys, "--policy", "nope")
    fails([acts, "--policies", "plane", "--bits", "4.5"], capsys, "T=4.5")
    fails([acts, "--baselines", "mxint9"], capsys, "mxint9")


def test_one_line_and_status_from_the_installed_command(tmp_path):
    p = tmp_path / "t.npz"
    p.write_text("not numbers")
    exe = os.path.join(os.path.dirname(sys.executable), "facet")
    r = subprocess.run([exe, "eval", str(p)], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and str(p) in r.stderr and "Traceback" not in r.stderr


# -- runs ---------------------------------------------------------------------------------

def test_eval_fractional_bits_and_every_baseline(acts, tmp_path, capsys):
    j, md = tmp_path / "rows.json", tmp_path / "table.md"
    assert cli.main(["eval", str(acts), "--bits", "4.5", "--json", str(j), "--md", str(md)]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(j.read_text())
    table = md.read_text()
    assert "2 tensors, 1,536 values" in table and "| nvfp4 (4.5 b/v)" in table
    assert table[table.index("relative L2"):] in out
    facet_rows = [r for r in rows if r["policy"]]
    assert facet_rows and all(r["bits_per_value"] == 4.5 for r in facet_rows)
    assert {"mxint8", "nvfp4"} <= {r["method"] for r in rows}
    assert "mxint8 (8.25 b/v)" in out and "nvfp4 (4.5 b/v)" in out
    assert "skipped ids" in err


def test_eval_rd(acts, tmp_path, capsys):
    out_dir = tmp_path / "rd"
    pols = ",".join(POLICIES[-2:])
    assert cli.main(["eval", str(acts), "--rd", "--policies", pols, "--out", str(out_dir),
                     "--baselines", "mxint8,mxfp8-e4m3,mxfp6-e2m3,nvfp4,mxfp4",
                     "--no-progress"]) == 0
    out, _ = capsys.readouterr()
    res = json.loads((out_dir / "summary.json").read_text())
    assert res["settings"]["policies"] == list(POLICIES[-2:])
    swept = {(r["policy"], r["bits_per_value"]) for r in res["rows"] if r["policy"]}
    rejected = {(r["policy"], r["bits"]) for r in res["rejected"]}
    assert swept | rejected == {(p, t) for p in POLICIES[-2:] for t in ev.RD_BITS}
    assert not swept & rejected
    for p, t in rejected:
        assert f"rejected {p} T={t:g}" in out
    assert "runs in" in out and " s" in out
    assert sorted(f.name for f in out_dir.iterdir()) == \
        ["rd_gelu_in.png", "rd_ln_in.png", "summary.json", "summary.md"]
    md = (out_dir / "summary.md").read_text()
    assert md.count("### ") == 4 and "nvfp4 (4.5)" in md and "mxfp4 (4.25)" in md


def test_json_that_cannot_be_written(acts, tmp_path, capsys, no_work):
    j = tmp_path / "ro" / "out.json"
    j.mkdir(parents=True)                      # opening a directory for writing fails
    fails([acts, "--json", j], capsys, "--json", "is a directory")
    if os.path.isdir("/proc"):                 # a parent where no file can be created
        fails([acts, "--json", "/proc/facet.json"], capsys, "--json", "cannot be written")


@pytest.fixture
def no_build(monkeypatch):
    """Make generation, synthesis and training fail the test: path errors come before them."""
    from facet import generate, synth_flow, train

    def boom(*a, **k):
        raise AssertionError("a path error was found only after the work began")
    for mod, name in ((generate, "generate"), (synth_flow, "synth_config"),
                      (synth_flow, "synth_policies"), (synth_flow, "synth_sweep"), (train, "run")):
        monkeypatch.setattr(mod, name, boom)


@pytest.mark.parametrize("argv, words", [
    (["gen", "-o", "{file}"], ["-o", "exists and is not a directory"]),
    (["gen", "-o", "{file}/sub/dir"], ["-o", "{file} exists and is not a directory"]),
    (["synth", "--policy", "plane", "-o", "{file}"], ["-o", "not a directory"]),
    (["synth", "--policy", "plane,significance", "-o", "{file}/x"], ["-o", "not a directory"]),
    (["synth", "--policy", "plane", "--liberty", "{dir}/no.lib"], ["--liberty", "no such file"]),
    (["synth-sweep", "--liberty", "{dir}/no.lib"], ["--liberty", "no such file"]),
    (["synth", "--policy", "plane", "-j", "0"], ["-j 0", "at least one job"]),
    (["synth-sweep", "-j", "-1"], ["-j -1", "at least one job"]),
    (["train", "--out", "{file}"], ["--out", "not a directory"]),
])
def test_output_paths_fail_before_the_work(argv, words, tmp_path, capsys, no_build):
    f = tmp_path / "afile"
    f.write_text("")
    fill = lambda v: v.format(file=f, dir=tmp_path)  # noqa: E731
    assert cli.main([fill(a) for a in argv]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith(f"facet {argv[0]}: error: "), err
    for w in words:
        assert fill(w) in lines[0], (w, lines[0])


@pytest.mark.parametrize("argv", [[], ["nope"], ["eval"], ["synth", "--format", "fp64"],
                                  ["gen", "--block", "7"], ["synth-sweep", "--bits", "x"],
                                  ["eval", "a.npz", "--nope"]])
def test_argument_errors_are_one_line(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    out, err = capsys.readouterr()
    assert e.value.code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("facet") and ": error: " in err and "--help" in err


def test_gen_output_that_is_a_file(tmp_path, capsys):
    """`facet gen -o FILE` names the file in one line and exits 2, before generating."""
    from facet.cli import main
    target = tmp_path / "afile"
    target.write_text("")
    assert main(["gen", "-o", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(target) in err and "not a directory" in err
