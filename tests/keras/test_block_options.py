"""New block options in Keras against a NumPy reference written from their definitions (PyTorch/timm semantics)."""

from __future__ import annotations

import numpy as np

import zoo

SPEC = """
tiny:
  conv: {bias: false, batch_norm: true}
  block: {type: bottleneck, expansion: 2, stride_on: 3x3, padding: symmetric, groups: 2, se: {reduction: 2},
          shortcut: avg_down}
  stages: [1, 1]
  widths: [4, 4]
  strides: [2, 2]            # 7 → 4 → 2: odd maps, where ceil-mode pooling and padding matter
  head: [{type: global_pool, mode: avg}, {type: classifier, activation: linear}]
"""


def conv(x, w, stride=1, pad=0, groups=1, b=None):
    """x: H×W×C, w: kh×kw×(C/groups)×F; zero padding `pad` on every side, then valid."""
    x = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    kh, kw, cg, f = w.shape
    h, wd = (x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1
    out = np.zeros((h, wd, f))
    fg = f // groups
    for i in range(h):
        for j in range(wd):
            patch = x[i * stride:i * stride + kh, j * stride:j * stride + kw]
            for g in range(groups):
                p = patch[..., g * cg:(g + 1) * cg]
                out[i, j, g * fg:(g + 1) * fg] = np.tensordot(p, w[..., g * fg:(g + 1) * fg], axes=3)
    return out if b is None else out + b


def bn(x, gamma, beta, mean, var, eps=1e-5):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def avg_pool_ceil(x):
    """2×2 windows, stride 2, ceil mode, averaging only the pixels inside the map."""
    h, w = -(-x.shape[0] // 2), -(-x.shape[1] // 2)
    return np.array([[x[2 * i:2 * i + 2, 2 * j:2 * j + 2].mean(axis=(0, 1)) for j in range(w)] for i in range(h)])


def relu(x):
    return np.maximum(x, 0)


def reference(x, p, name):
    """He et al. bottleneck, v1.5 stride, grouped 3×3, SE before the sum, ResNet-D shortcut."""
    out = relu(bn(conv(x, *p[f"{name}_1_conv"]), *p[f"{name}_1_bn"]))
    out = relu(bn(conv(out, *p[f"{name}_2_conv"], stride=2, pad=1, groups=2), *p[f"{name}_2_bn"]))
    out = bn(conv(out, *p[f"{name}_3_conv"]), *p[f"{name}_3_bn"])
    squeezed = out.mean(axis=(0, 1))
    hidden = relu(squeezed @ p[f"{name}_se_reduce"][0][0, 0] + p[f"{name}_se_reduce"][1])
    gate = 1 / (1 + np.exp(-(hidden @ p[f"{name}_se_expand"][0][0, 0] + p[f"{name}_se_expand"][1])))
    shortcut = bn(conv(avg_pool_ceil(x), *p[f"{name}_0_conv"]), *p[f"{name}_0_bn"])
    return relu(out * gate + shortcut)


def test_grouped_se_avg_down_block_computes_its_definition(write_spec):
    path = write_spec(SPEC)
    model = zoo.build(f"{path}:tiny", (7, 7, 3), 5)
    rng = np.random.default_rng(0)
    params = {}
    for layer in model.layers:
        if layer.weights:
            values = [rng.normal(0.0, 0.5, w.shape) + (1.0 if "variance" in w.path else 0.0) for w in layer.weights]
            values = [np.abs(v) if "variance" in w.path else v for v, w in zip(values, layer.weights)]
            layer.set_weights([v.astype("float32") for v in values])
            params[layer.name] = layer.get_weights()
    x = rng.random((7, 7, 3), dtype=np.float32)
    h = reference(reference(x, params, "conv2_block1"), params, "conv3_block1")
    w, b = params["predictions"]
    expected = h.mean(axis=(0, 1)) @ w + b
    got = np.asarray(model(x[None], training=False))[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert model.get_layer("conv2_block1_2_conv").get_weights()[0].shape == (3, 3, 4, 8)  # 8 channels, 2 groups
