"""`zoo train` and `zoo report`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from zoo.cli.errors import fail
from zoo.errors import ZooError


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("report")(report)


def train(spec: Optional[str] = typer.Argument(None, help="A zoo model name or a spec file (not needed with "
                                                          "--resume: the run knows it)."),
          dataset: Optional[str] = typer.Option(None, "--dataset", "-d",
                                                help="mnist (default), fashion_mnist, cifar10, cifar100, or an "
                                                     "image folder / .tar.gz."),
          recipe: Optional[str] = typer.Option(None, "--recipe", "-r", help="A recipe name or file (default: by family)."),
          epochs: Optional[int] = typer.Option(None, "--epochs", "-e"),
          batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b"),
          limit: Optional[int] = typer.Option(None, "--limit",
                                              help="Train on N examples: a sample drawn per class in proportion to "
                                                   "its size, seeded by the recipe's seed (so class-ordered files "
                                                   "still give every class)."),
          test_limit: Optional[int] = typer.Option(None, "--test-limit",
                                                   help="Test on N examples, sampled per class like --limit."),
          data_dir: Optional[str] = typer.Option(None, "--data-dir", help="Where the dataset files are."),
          max_memory: Optional[str] = typer.Option(None, "--max-memory",
                                                   help="Most memory the dataset may take, e.g. 4G "
                                                        "(default: half the available memory)."),
          cache: Optional[str] = typer.Option(None, "--cache",
                                              help="Image folders / .tar: auto (stream when over the memory "
                                                   "budget; the default), memory, or none (always stream)."),
          input_size: Optional[int] = typer.Option(None, "--input-size",
                                                   help="Streamed images: train on random resized crops of this "
                                                        "size, evaluate on centre crops."),
          out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder (default: runs/NAME-DATASET-TIME)."),
          resume: bool = typer.Option(False, "--resume",
                                      help="Continue the run in --out from its last checkpoint with every setting "
                                           "it was started with; only --epochs (to extend), --jit, --cache and "
                                           "--max-memory may change."),
          strategy: Optional[str] = typer.Option(None, "--strategy",
                                                 help="none (default), mirrored (TensorFlow), data-parallel (JAX; "
                                                      "also multi-worker)."),
          coordinator: Optional[str] = typer.Option(None, "--coordinator", help="HOST:PORT of process 0 (data-parallel)."),
          num_processes: Optional[int] = typer.Option(None, "--num-processes", help="Processes in the run."),
          process_id: Optional[int] = typer.Option(None, "--process-id", help="This process: 0 to N-1; 0 writes the run."),
          precision: Optional[str] = typer.Option(None, "--precision", help="float32, mixed_float16, mixed_bfloat16."),
          jit: Optional[str] = typer.Option(None, "--jit", help="auto, on or off."),
          weights: Optional[Path] = typer.Option(None, "--weights", "-w",
                                                 help="Start from this weights file (fine-tuning): .weights.h5, "
                                                      ".keras, .h5, .safetensors or .pth; a classifier of "
                                                      "another class count starts afresh."),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="Plain log lines instead of progress bars.")) -> None:
    """Train SPEC on a dataset; writes config, history, metrics, curves, checkpoints and the model."""
    from zoo.training.trainer import Interrupted, train as run

    if resume and out is None:
        fail(ZooError("--resume needs --out RUN_DIR"))
    from zoo.training import distribute, launch

    try:  # several processes: this one runs as a supervised worker (one-line failures, prompt Ctrl-C)
        cluster = distribute.cluster_from(coordinator, num_processes, process_id)
    except ZooError as e:
        fail(e)
    if cluster is not None and not launch.is_child():
        raise typer.Exit(launch.supervise(sys.argv[1:], cluster))
    if cluster is not None:
        launch.export(cluster)
    try:
        result = run(spec, dataset, recipe, epochs=epochs, batch_size=batch_size, limit=limit, test_limit=test_limit,
                     data_dir=data_dir, out=out, resume=resume, quiet=quiet, strategy=strategy,
                     precision=precision, jit=jit, max_memory=max_memory,
                     cache=cache, input_size=input_size, weights=weights)
    except Interrupted as e:
        print(f"interrupted: {e.line_text()}", file=sys.stderr)
        raise typer.Exit(130)
    except KeyboardInterrupt:  # before training began (loading data, building): the run folder is taken back
        print("interrupted: before training began: nothing was saved", file=sys.stderr)
        raise typer.Exit(130)
    except ZooError as e:
        fail(e)
    if cluster is not None and cluster.process_id != 0:
        return  # process 0 reports the run; the others wrote none
    from zoo.cli.render import out as console
    from zoo.training.report import run_table

    console.print(run_table(result.run_dir))
    console.print(f"run folder: {result.run_dir}")


def report(runs: list[Path] = typer.Argument(..., help="Run folders to compare."),
           markdown: Optional[Path] = typer.Option(None, "--markdown", "-m", help="Also write the table as Markdown here."),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """A side-by-side table of training runs; a damaged run folder is one line on stderr (exit 2), not a stop."""
    from zoo.training.report import collect_all, markdown_table, metrics_table

    rows, problems = collect_all(runs)
    for problem in problems:
        print(f"error: {problem.line_text()}", file=sys.stderr)
    if as_json:
        import json

        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    elif rows:
        from zoo.cli.render import out as console

        console.print(metrics_table(runs, rows))
    if markdown is not None:
        from zoo.outpath import atomic_output, check_output_path

        try:
            target = check_output_path(markdown, "--markdown")
            with atomic_output(target, "--markdown") as tmp:
                tmp.write_text(markdown_table(rows), encoding="utf-8")
        except ZooError as e:
            fail(e)
    if problems:
        raise typer.Exit(2)
