"""TensorFlow's start-up lines are filtered from stderr; everything else written there passes."""

from __future__ import annotations

import os

from zoo.system import native_stderr_filtered

NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795909250.228664   27487 port.cc:153] oneDNN custom operations are on.",
    "I0000 00:00:1795909250.229807   27487 cudart_stub.cc:31] Could not find cuda drivers on your machine.",
    "E0000 00:00:1795909252.917929   27487 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
]
KEPT = [
    "E0000 00:00:1795909252.917929   27487 op_kernel.cc:1830] a real error from a kernel",
    "W0000 00:00:1795909252.917929   27487 some_file.cc:12] a warning",
    "Traceback (most recent call last):",
]


def test_start_up_noise_is_dropped_and_the_rest_kept_in_order(capfd):
    with native_stderr_filtered():
        for line in (NOISE[0], KEPT[0], NOISE[1], NOISE[2], KEPT[1], NOISE[3], KEPT[2]):
            os.write(2, (line + "\n").encode())  # as the C++ side writes: straight to file descriptor 2
    assert capfd.readouterr().err.splitlines() == KEPT
