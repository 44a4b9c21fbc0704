"""`zoo bench --peak auto`: the device's matmul peak measured in the same run, and MFU against it.

Sanity only (never timings): the figures exist, are positive, and MFU stays below 1.5
(1 plus room for the noise of a shared machine).
"""

from __future__ import annotations

import json

import pytest

from tests.bench.conftest import QUICK
from tests.bench.test_bench_cmd import QUICK_ARGS, invoke  # noqa: F401  (the fixture)
from zoo.bench.peak import apply_peak, dtypes_for, measure_peak
from zoo.bench.runner import run_benchmark


def test_json_reports_measured_peak_and_mfu(invoke, tiny):  # noqa: F811
    result = invoke(tiny, "--peak", "auto", "--peak-size", "128", "--json", *QUICK_ARGS)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    peak = document["peak"]
    assert peak["size"] == 128 and set(peak["tflops"]) == {"float32", "bfloat16"}
    assert peak["tflops"]["float32"] > 0
    # measured before and after the models; the higher is the peak
    assert peak["tflops"]["float32"] == max(peak["before"]["float32"], peak["after"]["float32"])
    assert peak["tflops"]["bfloat16"] is None or peak["tflops"]["bfloat16"] > 0
    [run] = document["results"][0]["runs"]
    assert run["peak_source"] == "measured float32 matmul"
    assert run["peak_tflops"] == peak["tflops"]["float32"]
    assert 0 < run["mfu"] <= 1.5
    assert run["mfu"] == pytest.approx(run["tflops"] / run["peak_tflops"])


def test_table_shows_mfu_and_the_peak(invoke, tiny):  # noqa: F811
    result = invoke(tiny, "--peak", "auto", "--peak-size", "128", *QUICK_ARGS)
    assert result.exit_code == 0, result.output
    assert "MFU" in result.stdout
    assert "measured matmul peak (128×128, TFLOP/s): float32 " in result.stdout


def test_given_peak_still_works(tiny):
    record = run_benchmark(tiny, peak_tflops=2.0, **QUICK)
    [run] = record["runs"]
    assert run["peak_source"] == "--peak-tflops" and run["peak_tflops"] == 2.0
    assert run["mfu"] == pytest.approx(run["tflops"] / 2.0)


def test_bfloat16_run_is_measured_against_the_bfloat16_peak():
    result = {"runs": [{"tflops": 0.5}], "notes": []}
    apply_peak(result, "mixed_bfloat16", measured={"tflops": {"float32": 1.0, "bfloat16": 2.0}})
    assert result["runs"][0]["mfu"] == 0.25 and result["runs"][0]["peak_source"] == "measured bfloat16 matmul"
    result = {"runs": [{"tflops": 0.5}], "notes": []}
    apply_peak(result, "mixed_bfloat16", measured={"tflops": {"float32": 1.0, "bfloat16": None}})
    assert result["runs"][0]["mfu"] is None
    assert result["notes"] == ["no bfloat16 peak could be measured on this device: no MFU"]


def test_float16_is_measured_only_when_the_run_uses_it():
    assert dtypes_for("float32") == ("float32", "bfloat16")
    assert dtypes_for("mixed_float16") == ("float32", "bfloat16", "float16")


def test_an_unsupported_dtype_is_recorded_not_raised():
    peak = measure_peak(("float32", "no_such_dtype"), size=64, repeats=1)
    assert peak["tflops"]["float32"] > 0
    assert peak["tflops"]["no_such_dtype"] is None and peak["errors"]["no_such_dtype"]


@pytest.mark.parametrize("args,line", [
    (["vgg16", "--peak", "max"], "error: --peak: must be auto (got 'max')"),
    (["vgg16", "--peak", "auto", "--peak-tflops", "1"], "error: give --peak auto or --peak-tflops, not both"),
    (["vgg16", "--peak", "auto", "--peak-size", "4"], "error: --peak-size: must be an integer >= 16 (got 4)"),
])
def test_bad_peak_options_are_one_line_and_exit_2(invoke, args, line):  # noqa: F811
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr == line + "\n"
    assert result.stdout == ""
