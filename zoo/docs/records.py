"""The Records page: time-to-accuracy runs, one row per JSON file that `python -m zoo.bench.records`
wrote under benchmarks/results/records/; no figure on the page is typed by hand."""

from __future__ import annotations

import json
from pathlib import Path

from zoo.docs.markdown import table

PAGE = "records.md"
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "records"

INTRO = """# Records

Time to accuracy. Each record is the whole `zoo train` command, timed from its start to its last
test prediction, so Python and TensorFlow start-up, data loading and the final test evaluation are
all included. Each row is read from `benchmarks/results/records/<record>.json`, which
`python -m zoo.bench.records <record>` writes. The recipe is a named file in
`specs/recipes/records.yaml`, and a slow test (`tests/train/test_records.py`) asserts the accuracy,
never the time. The two cores are shared with other jobs (the load average at the start of each
run is in the machine column; the JSON file has it after the run too, and the run's CPU seconds),
so a quiet machine is faster than these wall times.

"""


def records(folder: Path = RESULTS) -> list[dict]:
    if not folder.is_dir():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def records_page(folder: Path = RESULTS) -> str:
    rows = []
    for r in records(folder):
        m = r["machine"]
        load = m.get("load_average_before")
        machine = f"{m['cpu']}, {m['cores']} cores{', ' + m['accelerator'] if m.get('accelerator') else ''}, " \
                  f"{m['backend']}" + (f"; load {load[0]:.1f} at start" if load else "")
        verdict = "met" if r["met"] else "not met"
        rows.append((r["record"], f"{r['goal']} ({verdict})", f"`{r['command']}`",
                     f"{100 * r['test_accuracy']:.2f}%", f"{r['wall_s']:.0f} s", f"{r['epochs']}",
                     f"{r['images_per_second']:,.0f}", _mfu(r), machine, r["date"]))
    if not rows:
        return INTRO + "No record has been run in this checkout yet.\n"
    header = ("record", "goal", "command", "test accuracy", "wall time", "epochs", "train img/s", "MFU",
              "machine", "date")
    return INTRO + table(header, rows, "lllrrrrrll") + MFU_NOTE


MFU_NOTE = """
MFU is the training step's FLOP rate (6 FLOPs per multiply-add per image: the forward pass and two
backward products) divided by the float32 matrix-multiply peak measured on the same machine right
after the run (`zoo.bench.peak`, as `zoo bench --peak auto`).
"""


def _mfu(r: dict) -> str:
    return f"{100 * r['mfu']:.0f}% of {1000 * r['peak_tflops_float32']:.0f} GFLOP/s" if r.get("mfu") else "–"
