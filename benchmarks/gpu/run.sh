#!/usr/bin/env bash
# The one-shot H200 run (docs/benchmarks.md, benchmarks/gpu/README.md): from the repo root,
#   bash benchmarks/gpu/run.sh [OUT]
# installs the carried wheels (.gpuwheels/), then runs the three stages under JAX within 8 minutes
# and writes one JSON per stage, summary.json and run.log into OUT ($OUT on the device machine).
set -euo pipefail
out=${1:-${OUT:-benchmarks/results/gpu}}
mkdir -p "$out"
# The image has JAX, NumPy, Pillow, rich, typer, PyYAML, h5py; Keras, pydantic, optree, namex and zoo travel.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpuwheels/*.whl
export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
export KERAS_BACKEND=jax
export ZOO_COMMIT=$(cat .gpuwheels/COMMIT 2>/dev/null || echo unknown)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import jax, keras, zoo; print('jax', jax.__version__, jax.devices(), '| keras', keras.__version__, '| zoo', zoo.__file__)"
python3 benchmarks/gpu/run.py --data-dir .gpudata --out "$out" --work /tmp/zoo-gpu-work 2>&1 | tee "$out/run.log"
