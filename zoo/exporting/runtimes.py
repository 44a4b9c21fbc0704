"""Run an exported artefact in its own runtime: TensorFlow's SavedModel loader, onnxruntime, LiteRT."""

from __future__ import annotations

import time

import numpy as np

from zoo.errors import ZooError
from zoo.exporting import formats


class Runner:
    """``runner(x)`` → the artefact's outputs as a list of arrays, in the model's output order."""

    def __init__(self, path: str, fmt_name: str):
        fmt = formats.get(fmt_name)
        if formats.missing([fmt.runtime]):
            raise ZooError(f"running a {fmt.name} artefact needs {fmt.runtime}, which is not installed: "
                           f"{formats.EXTRA}")
        self.path, self.fmt = str(path), fmt
        self._call = {"saved_model": self._saved_model, "onnx": self._onnx, "litert": self._litert}[fmt.name]()

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        return self._call(np.ascontiguousarray(x, dtype=np.float32))

    def _saved_model(self):
        import tensorflow as tf

        loaded = tf.saved_model.load(self.path)

        def call(x):
            out = loaded.serve(tf.constant(x))  # the model's own structure: a tensor or a dict
            return [np.asarray(v) for v in (out.values() if isinstance(out, dict) else [out])]
        return call

    def _onnx(self):
        import onnxruntime

        session = onnxruntime.InferenceSession(self.path, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda x: [np.asarray(v) for v in session.run(None, {name: x})]

    def _litert(self):
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=self.path)
        tensor = interpreter.get_input_details()[0]
        shape = [None]

        def call(x):
            if shape[0] != x.shape:  # a free batch dimension (-1) is sized per call
                interpreter.resize_tensor_input(tensor["index"], x.shape)
                interpreter.allocate_tensors()
                shape[0] = x.shape
            interpreter.set_tensor(tensor["index"], x)
            interpreter.invoke()
            return [np.array(interpreter.get_tensor(d["index"])) for d in interpreter.get_output_details()]
        return call


def relative_difference(got: np.ndarray, want: np.ndarray) -> float:
    """max |got − want| / max |want|: one number for "equal within 1e-5 relative"."""
    scale = float(np.max(np.abs(want))) or 1.0
    return float(np.max(np.abs(np.asarray(got, np.float64) - want))) / scale


def median_latency(runner: Runner, x: np.ndarray, repeats: int = 20) -> float:
    """Seconds per call on ``x``, the median of ``repeats`` after one warm-up call."""
    runner(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        runner(x)
        times.append(time.perf_counter() - start)
    return float(np.median(times))
