"""The docs call two networks the same only where their layouts agree, and name what differs elsewhere.

Equal parameter counts do not make equal networks: torchvision's resnet50 has every weight shape of
zoo's v1 resnet50 (TensorFlow `same` padding) and is ResNet v1.5 with symmetric padding. The layouts
are read from the specs, so an edited spec that stops matching its library model fails here.
"""

from __future__ import annotations

import re

import zoo
from zoo.docs.layouts import BASIC, V1, V1_5, V2_LAST, Layout, describe, differences, layout_of
from zoo.docs.references import KERAS_NAMES, LAYOUTS, TORCHVISION_NAMES



def test_layouts_read_from_the_specs():
    assert layout_of(zoo.load_spec("resnet50")) == Layout(V1, "same", False, 1e-5, 0.9)
    assert layout_of(zoo.load_spec("resnet50_keras")) == Layout(V1, "same", True, 1.001e-5, 0.99)
    assert layout_of(zoo.load_spec("resnet50_tv")) == Layout(V1_5, "symmetric", False, 1e-5, 0.9)
    assert layout_of(zoo.load_spec("resnet18_tv")) == Layout(BASIC, "symmetric", False, 1e-5, 0.9)
    assert layout_of(zoo.load_spec("resnet50v2_keras")) == Layout(V2_LAST, "symmetric", "auto", 1.001e-5, 0.99)
    assert layout_of(zoo.load_spec("vgg16")) == Layout(dropout=True)
    assert layout_of(zoo.load_spec("vgg16_keras")) == Layout()
    assert layout_of(zoo.load_spec("vgg16_bn_tv")) == Layout(bn_epsilon=1e-5, bn_momentum=0.9, dropout=True,
                                                           adaptive_pool=True)


def test_differences_name_only_what_differs():
    v1, tv = layout_of(zoo.load_spec("resnet50")), LAYOUTS[("torchvision", "resnet50")]
    assert differences(v1, tv) == "ResNet v1.5 (stride on the 3×3), PyTorch's symmetric padding"
    assert differences(tv, v1) == "ResNet v1 (stride on the first 1×1), TensorFlow's `same` padding"
    assert differences(v1, v1) == ""
    assert describe(LAYOUTS[("keras.applications", "VGG16")]) == (
        "a bias on every convolution, no batch norm, no dropout, no adaptive pool before the classifier")
    assert differences(layout_of(zoo.load_spec("vgg16_bn")), Layout()) == "no batch norm, no dropout"


def test_every_same_network_claim_has_equal_layouts(families):
    """A twin's spec has its library model's layout; every other reference names a real difference."""
    refs = [(m, r) for f in families for m in f.models for r in m.refs]
    assert len(refs) == len(KERAS_NAMES) + len(TORCHVISION_NAMES)
    for m, r in refs:
        ours, theirs = layout_of(m.spec), LAYOUTS[(r.library, r.model)]
        if r.twin == m.name:
            assert ours == theirs, (m.name, r.model, differences(ours, theirs))
            assert "the same network" in r.relation
        else:
            assert r.variant == differences(ours, theirs) != "", (m.name, r.model)
            assert f"not the same network (theirs: {r.variant})" in r.relation
        if r.twin is not None:  # the spec named as theirs is theirs, layout for layout
            assert layout_of(zoo.load_spec(r.twin)) == theirs, (r.twin, r.model)


def other_libraries_rows(page: str) -> dict[str, str]:
    """The "Other libraries" table of a model page: "library model" → what the row says of it."""
    section = page.split("## Other libraries\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        match = re.fullmatch(r"\[([\w.]+)\]\(\S+\)", cells[0]) if line.startswith("|") else None
        if match:
            rows[f"{match[1]} {cells[1].strip('`')}"] = cells[3]
    return rows


def test_no_page_calls_a_different_network_the_same(pages, families):
    """Above all: zoo's v1 resnet50 is not torchvision's resnet50, whatever the counts say."""
    v1 = other_libraries_rows(pages["models/resnet50.md"])["torchvision resnet50"]
    assert "not the same network" in v1 and "ResNet v1.5 (stride on the 3×3)" in v1
    assert "`resnet50_tv` is theirs" in v1
    for m in (m for f in families for m in f.models if m.refs):
        rows = other_libraries_rows(pages[m.page])
        for library, model in ((r.library, r.model) for r in m.refs):
            same = "the same network: its weights load" in rows[f"{library} {model}"]
            assert same == (layout_of(m.spec) == LAYOUTS[(library, model)]), (m.name, library, model)
