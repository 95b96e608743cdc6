"""Synthesize one stage component on its own: area (NAND2-eq) and logic depth.

    PYTHONPATH=. .venv/bin/python scripts/synth_stage.py facet.rtl.vlc.depth.Depth [format N T policy]

Work directory: build/synth/stages/<config>/<Class>/ (report.json there).
"""

import importlib
import sys
from pathlib import Path

from amaranth.back import rtlil

from facet.config import Config
from facet.synth import DEFAULT_ADDERS, synthesize


def main(argv):
    path, *rest = argv
    fmt, n, t, policy = (rest + ["bf16", "32", "8", "vlc"][len(rest):])[:4]
    cfg = Config(fmt, int(n), float(t) if "." in t else int(t), policy=policy)
    mod, cls = path.rsplit(".", 1)
    dut = getattr(importlib.import_module(mod), cls)(cfg)
    out = Path("build/synth/stages") / cfg.name / cls
    out.mkdir(parents=True, exist_ok=True)
    top = cls.lower()
    (out / f"{top}.il").write_text(rtlil.convert(dut, name=top, emit_src=False))
    rep = synthesize(out / f"{top}.il", top, out / "work", adders=DEFAULT_ADDERS)
    depth = (rep.get("depth") or {}).get("levels")
    print(f"{cfg.name} {cls}: {rep['total']['nand2_eq']:,.0f} NAND2-eq, depth {depth}")


if __name__ == "__main__":
    main(sys.argv[1:])
