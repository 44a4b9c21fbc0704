"""The Records page is generated from the JSON files the records runner writes."""

from __future__ import annotations

import json

from zoo.bench.records import RECORDS
from zoo.docs.records import RESULTS, records, records_page
from zoo.training.recipe import load_recipe

SAMPLE = {"record": "mnist", "goal": "MNIST to 99.5 % within 3 minutes on two CPU cores", "target": 0.995,
          "budget_s": 180, "command": "zoo train vgg_mini --recipe mnist_record", "spec": "vgg_mini",
          "dataset": "MNIST", "recipe": "mnist_record", "test_accuracy": 0.99587, "epochs": 5, "wall_s": 158.9,
          "train_s": 151.9, "cpu_s": 250.0, "images_per_second": 1971.97, "macs": 7338880, "met": True,
          "train_tflops": 0.0868, "peak_tflops_float32": 0.1065, "mfu": 0.815,
          "machine": {"cpu": "AMD EPYC", "cores": 2, "accelerator": None, "backend": "tensorflow",
                      "load_average_before": [1.5, 1.4, 1.3], "load_average_after": [2.0, 1.6, 1.4]},
          "date": "2026-11-29", "versions": {}}


def test_a_row_per_json_file_with_the_figures_it_holds(tmp_path):
    (tmp_path / "mnist.json").write_text(json.dumps(SAMPLE))
    page = records_page(tmp_path)
    row = next(line for line in page.splitlines() if line.startswith("| mnist |"))
    assert "(met)" in row and "`zoo train vgg_mini --recipe mnist_record`" in row
    assert "| 99.59% | 159 s | 5 | 1,972 | 82% of 106 GFLOP/s | AMD EPYC, 2 cores, tensorflow; load 1.5 at start " \
           "| 2026-11-29 |" in row
    (tmp_path / "mnist.json").write_text(json.dumps({**SAMPLE, "met": False}))
    assert "(not met)" in records_page(tmp_path)


def test_no_results_says_so(tmp_path):
    assert records_page(tmp_path / "none").endswith("No record has been run in this checkout yet.\n")


def test_committed_results_name_a_known_record_and_its_recipe():
    for result in records(RESULTS):
        record = RECORDS[result["record"]]
        assert result["recipe"] == record.recipe and result["spec"] == record.spec
        load_recipe(record.recipe)  # the recipe file still exists
        assert result["met"] == (result["test_accuracy"] >= record.target and result["wall_s"] <= record.budget_s)


def test_the_page_has_a_row_per_committed_result_with_its_figures():
    page = records_page()
    for result in records(RESULTS):
        row = next(line for line in page.splitlines() if line.startswith(f"| {result['record']} |"))
        assert f"| {100 * result['test_accuracy']:.2f}% | {result['wall_s']:.0f} s |" in row
        assert f"`{result['command']}`" in row
