"""Benchmarks: training and inference throughput of zoo models, alone or against keras.applications.

Importing this package is cheap; Keras is imported when a benchmark runs.
"""

from zoo.bench.runner import Settings, expand_names, run_benchmark, run_benchmarks
from zoo.system import system_info

__all__ = ["Settings", "expand_names", "run_benchmark", "run_benchmarks", "system_info"]
