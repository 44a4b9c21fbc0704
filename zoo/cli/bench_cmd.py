"""`zoo bench`: training and inference throughput, alone or against keras.applications."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from zoo.cli.errors import reports_errors


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)


@reports_errors
def bench(
    names: list[str] = typer.Argument(..., metavar="NAME", help="Zoo models, wildcards such as 'resnet*', or spec files."),
    input_shape: Optional[str] = typer.Option(None, "--input-shape", "-i", help="H,W,C, e.g. 32,32,3 (default: the spec's, or the dataset's)."),
    classes: Optional[int] = typer.Option(None, "--classes", "-c", help="Output classes (default: the dataset's with --dataset mnist/cifar10, else the spec's)."),
    batch_size: int = typer.Option(32, "--batch-size", "-b", help="Samples per step; halved on out-of-memory."),
    mode: str = typer.Option("train", "--mode", help="train, infer or both."),
    steps: int = typer.Option(10, "--steps", help="Timed steps per repeat."),
    warmup: int = typer.Option(2, "--warmup", help="Untimed steps first (the first one compiles)."),
    repeats: int = typer.Option(3, "--repeats", help="Timed repeats: the tables give their median and range."),
    precision: str = typer.Option("float32", "--precision", help="float32, mixed_float16 or mixed_bfloat16."),
    jit: str = typer.Option("auto", "--jit", help="XLA: auto (on for accelerators and JAX, off on CPU), on or off."),
    dataset: str = typer.Option("synthetic", "--dataset", help="synthetic, mnist or cifar10 (real images, held in memory)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Where to look first for --dataset files (then $ZOO_DATA)."),
    peak_tflops: Optional[float] = typer.Option(None, "--peak-tflops", help="The device's peak, for model FLOP utilisation."),
    peak: Optional[str] = typer.Option(None, "--peak", help="auto: measure the device's matmul peak (float32, bfloat16) in this run; MFU against it."),
    peak_size: Optional[int] = typer.Option(None, "--peak-size", help="n of the n×n×n peak matmul (default: 8192 on accelerators, 2048 on CPU)."),
    vs: Optional[str] = typer.Option(None, "--vs", help="keras: alternate with the keras.applications twin and give ratios."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Time training and inference steps: samples/s, ms/step, TFLOP/s, memory; with --vs keras, zoo ÷ keras ratios."""
    from zoo.bench import run_benchmarks
    from zoo.cli.main import parse_shape
    from zoo.cli.render import err, out

    document = run_benchmarks(names, input_shape=parse_shape(input_shape), classes=classes,
                              batch_size=batch_size, mode=mode, steps=steps, warmup=warmup,
                              repeats=repeats, precision=precision, jit=jit, dataset=dataset, data_dir=data_dir,
                              peak_tflops=peak_tflops, peak=peak, peak_size=peak_size, vs=vs, log=lambda line: err.print(line, style="dim", markup=False))
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    out.print(runs_table(document))
    if any(r["ratios"] for r in document["results"]):
        out.print(ratios_table(document))
    for result in document["results"]:
        for note in result["notes"]:
            out.print(f"{result['name']}: {note}", style="yellow", markup=False)
    out.print(footer(document))


def runs_table(document: dict[str, Any]):
    from rich.table import Table

    results = document["results"]
    show_mfu = any(run.get("mfu") is not None for r in results for run in r["runs"])
    show_device = any(run["device_peak_bytes"] is not None for r in results for run in r["runs"])
    table = Table(title="zoo bench (samples/s and ms/step: median of the repeats)", title_justify="left")
    columns = [("model", "left"), ("by", "left"), ("mode", "left"), ("batch", "right"), ("GMACs", "right"),
               ("samples/s", "right"), ("min–max", "right"), ("ms/step", "right"), ("TFLOP/s", "right")]
    columns += [("MFU", "right")] if show_mfu else []
    columns += [("build s", "right"), ("1st step s", "right"), ("host peak", "right")]
    columns += [("device peak", "right")] if show_device else []
    for column, justify in columns:
        table.add_column(column, justify=justify, no_wrap=True)
    for result in results:
        for run in result["runs"]:
            sps, ms, first = run["samples_per_s"], run["ms_per_step"], run["first_step_s"]
            row = [result["zoo_model"], run["variant"], run["mode"], str(run["batch_size"]),
                   f"{result['macs'] / 1e9:.3f}", f"{sps['median']:,.1f}", f"{sps['min']:,.1f}–{sps['max']:,.1f}",
                   f"{ms['median']:,.1f}", f"{run['tflops']:.4f}"]
            row += [f"{100 * run['mfu']:.1f}%"] if show_mfu else []
            row += [f"{result['build_s'][run['variant']]['median']:.2f}", "" if first is None else f"{first:.2f}",
                    _bytes(run["host_peak_bytes"])]
            row += [_bytes(run["device_peak_bytes"])] if show_device else []
            table.add_row(*row)
    return table


def ratios_table(document: dict[str, Any]):
    from rich.table import Table

    modes = ("train", "infer") if document["settings"]["mode"] == "both" else (document["settings"]["mode"],)
    table = Table(title="zoo ÷ keras.applications (paired repeats: median, min–max; > 1 means zoo is faster)",
                  title_justify="left")
    table.add_column("model")
    table.add_column("twin")
    for mode in modes:
        table.add_column(f"{mode} samples/s", justify="right")
    table.add_column("build time (< 1: zoo builds faster)", justify="right")
    for result in document["results"]:
        ratios = result["ratios"]
        if ratios:
            table.add_row(result["zoo_model"], result["twin"],
                          *(_ratio(ratios[f"{mode}_throughput"]) for mode in modes), _ratio(ratios["build_time"]))
    return table


def footer(document: dict[str, Any]) -> str:
    v, d, s = document["system"]["versions"], document["system"]["device"], document["settings"]
    where = f"{d['gpu']} ×{d['gpu_count']}" if d["gpu"] else f"{d['cpu']}, {d['cpu_cores']} cores"
    load = document.get("load_average_before")
    return (f"[dim]{where}; keras {v['keras']} ({v['backend']} {v['backend_version']}), numpy {v['numpy']}, "
            f"python {v['python']}\n{s['precision']}, jit {'on' if s['jit_compile'] else 'off'}, "
            f"{s['dataset']} data, {s['steps']} steps × {s['repeats']} repeats after {s['warmup']} warm-up"
            + (f"; load average {load[0]:.2f}" if load else "") + _peak_line(document.get("peak")) + "[/dim]")


def _peak_line(peak: dict[str, Any] | None) -> str:
    if not peak:
        return ""
    figures = ", ".join(f"{dtype} {'n/a' if value is None else f'{value:.3f}'}" for dtype, value in peak["tflops"].items())
    return f"\nmeasured matmul peak ({peak['size']}×{peak['size']}, TFLOP/s): {figures}"


def _ratio(summary: dict[str, Any]) -> str:
    return f"{summary['median']:.3f}× ({summary['min']:.3f}–{summary['max']:.3f})"


def _bytes(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:,.0f} MiB"
