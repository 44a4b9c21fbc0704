"""AdaptivePool against PyTorch's definition of adaptive pooling, written out in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.keras.custom import AdaptivePool, adaptive_bins


def reference(x, out, mode):
    """Window (i, j) spans rows ⌊i·H/oh⌋ … ⌈(i+1)·H/oh⌉ − 1, columns likewise (torch.nn.AdaptiveAvgPool2d)."""
    n, h, w, c = x.shape
    reduce = np.mean if mode == "avg" else np.max
    y = np.empty((n, *out, c), np.float32)
    for i in range(out[0]):
        r0, r1 = int(np.floor(i * h / out[0])), int(np.ceil((i + 1) * h / out[0]))
        for j in range(out[1]):
            c0, c1 = int(np.floor(j * w / out[1])), int(np.ceil((j + 1) * w / out[1]))
            y[:, i, j] = reduce(x[:, r0:r1, c0:c1], axis=(1, 2))
    return y


def test_bins_overlap_where_the_size_does_not_divide():
    assert adaptive_bins(5, 3) == [(0, 2), (1, 4), (3, 5)]
    assert adaptive_bins(2, 4) == [(0, 1), (0, 1), (1, 2), (1, 2)]  # upsampling repeats pixels
    assert adaptive_bins(14, 7) == [(2 * i, 2 * i + 2) for i in range(7)]


@pytest.mark.parametrize("mode", ["avg", "max"])
@pytest.mark.parametrize("size,out", [((7, 7), (7, 7)), ((10, 13), (7, 7)), ((1, 1), (7, 7)), ((3, 5), (2, 4))])
def test_adaptive_pool_matches_pytorch_semantics(size, out, mode):
    x = np.random.default_rng(0).normal(size=(2, *size, 3)).astype(np.float32)
    y = np.asarray(AdaptivePool(out, mode)(x))
    np.testing.assert_allclose(y, reference(x, out, mode), rtol=1e-6, atol=1e-6)


def test_a_model_with_adaptive_pooling_saves_and_loads(write_spec, tmp_path):
    import keras

    import zoo

    path = write_spec("""
        tiny:
          features: [4, M]
          head: [{type: adaptive_pool, output: 3, mode: max}, {type: flatten}, {type: classifier}]
    """)
    model = zoo.build(f"{path}:tiny", (11, 11, 2), 5)
    assert model.get_layer("adaptive_max_pool").output.shape[1:] == (3, 3, 4)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(1).random((2, 11, 11, 2), dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(again(x)))
