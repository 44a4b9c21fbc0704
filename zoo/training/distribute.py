"""Where training runs: one process, mirrored devices, or several processes joined into one JAX mesh.

Strategies (``--strategy``):

- ``none``: Keras's default placement.
- ``mirrored``: TensorFlow's ``MirroredStrategy`` over this host's GPUs, else its logical CPU devices
  (a plain CPU has one, so one replica; the run folder says so).
- ``data-parallel``: JAX backend, ``keras.distribution.DataParallel`` over every device of every
  process. Processes are joined through JAX's coordination service with gloo CPU collectives; the
  coordinator address, process count and index come from ``--coordinator/--num-processes/--process-id``
  or ``KERAS_DISTRIBUTION_JOB_ADDRESSES/_NUM_PROCESSES/_PROCESS_ID``.
- ``multi-worker``: on JAX, the same as ``data-parallel``; on TensorFlow it is refused up front, because
  Keras 3 cannot drive ``MultiWorkerMirroredStrategy`` (see ``MULTI_WORKER_TF``).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field

from zoo.errors import ZooError

STRATEGIES = ("none", "mirrored", "data-parallel", "multi-worker")
ENV_ADDRESS = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
ENV_COUNT = "KERAS_DISTRIBUTION_NUM_PROCESSES"
ENV_INDEX = "KERAS_DISTRIBUTION_PROCESS_ID"
ENV_TIMEOUT = "ZOO_DISTRIBUTION_TIMEOUT"  # seconds to wait for every process to join
DEFAULT_TIMEOUT = 30  # seconds; with start-up (~10 s), a lone worker gives up inside a minute
ENV_WORKER_DIR = "ZOO_WORKER_DIR"  # where processes other than 0 keep their outputs (default: nowhere)
HEARTBEAT_SECONDS = 20  # a peer silent this long is taken as dead

MULTI_WORKER_TF = ("--strategy multi-worker does not run on the TensorFlow backend with Keras 3: fit() hands "
                   "MultiWorkerMirroredStrategy PerReplica values it cannot convert (keras-team/keras#20585, then "
                   "tensorflow/tensorflow#72388); use KERAS_BACKEND=jax with --strategy data-parallel "
                   "--coordinator HOST:PORT --num-processes N --process-id I")

_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")


class DistributionError(ZooError):
    """The processes cannot be joined or the strategy cannot run here."""


@dataclass(frozen=True)
class Cluster:
    """Who this process is among ``num_processes`` joined through ``coordinator`` (HOST:PORT of process 0)."""

    coordinator: str
    num_processes: int
    process_id: int
    timeout: int = DEFAULT_TIMEOUT


def cluster_from(coordinator: str | None = None, num_processes: int | None = None,
                 process_id: int | None = None, timeout: int | None = None) -> Cluster | None:
    """Flags first, then the ``KERAS_DISTRIBUTION_*`` variables; None when neither names a cluster."""
    env = os.environ
    coordinator = coordinator or env.get(ENV_ADDRESS) or None
    num_processes = num_processes if num_processes is not None else _int_env(ENV_COUNT)
    process_id = process_id if process_id is not None else _int_env(ENV_INDEX)
    timeout = timeout if timeout is not None else (_int_env(ENV_TIMEOUT) or DEFAULT_TIMEOUT)
    if coordinator is None and num_processes is None and process_id is None:
        return None
    if coordinator is None:
        raise DistributionError("--coordinator HOST:PORT (or $KERAS_DISTRIBUTION_JOB_ADDRESSES) is needed "
                                "with --num-processes and --process-id")
    coordinator = coordinator.split(",")[0].strip()  # Keras's variable may list every job; the first leads
    match = _ADDRESS.match(coordinator)
    if match is None or not 0 < int(match.group(2)) < 65536:
        raise DistributionError(f"--coordinator must be HOST:PORT with a port from 1 to 65535 (got {coordinator!r})")
    if num_processes is None or num_processes < 1:
        raise DistributionError(f"--num-processes must be at least 1 (got {num_processes})")
    if process_id is None or not 0 <= process_id < num_processes:
        raise DistributionError(f"--process-id must be from 0 to {num_processes - 1} for --num-processes "
                                f"{num_processes} (got {process_id})")
    if timeout < 1:
        raise DistributionError(f"the join timeout must be at least 1 s (got {timeout})")
    return Cluster(coordinator, num_processes, process_id, timeout)


def _int_env(name: str) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise DistributionError(f"${name} must be a whole number (got {text!r})") from None


def check_strategy(strategy: str, backend: str) -> None:
    """Refuse, before any work, a strategy this backend cannot run."""
    if strategy not in STRATEGIES:
        raise DistributionError(f"unknown strategy {strategy!r} (expected one of: {', '.join(STRATEGIES)})")
    if strategy == "multi-worker" and backend == "tensorflow":
        raise DistributionError(MULTI_WORKER_TF)
    if strategy == "mirrored" and backend != "tensorflow":
        raise DistributionError(f"--strategy mirrored needs the TensorFlow backend (KERAS_BACKEND is {backend}); "
                                f"on JAX use --strategy data-parallel")
    if strategy in ("data-parallel", "multi-worker") and backend != "jax":
        raise DistributionError(f"--strategy {strategy} needs the JAX backend (KERAS_BACKEND=jax; "
                                f"it is {backend})")


def check(strategy: str) -> None:
    """``check_strategy`` against the configured Keras backend; ``none`` imports nothing."""
    if strategy not in STRATEGIES or strategy == "none":
        check_strategy(strategy, "")
        return
    import keras

    check_strategy(strategy, keras.backend.backend())


_joined: Cluster | None = None


def join(cluster: Cluster) -> None:
    """Join the JAX processes (once per process); a missing peer ends the wait after ``cluster.timeout`` s."""
    global _joined
    if _joined is not None:
        if _joined != cluster:
            raise DistributionError("this process already joined another cluster")
        return
    import jax

    # CPU arrays need a collectives implementation to cross processes; gloo is the one JAX ships.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(cluster.coordinator, cluster.num_processes, cluster.process_id,
                                   initialization_timeout=cluster.timeout,
                                   heartbeat_timeout_seconds=HEARTBEAT_SECONDS)
    except Exception as error:  # bad values or a second initialize; a timeout aborts the process instead
        text = " ".join(str(error).split())[:200]
        raise DistributionError(f"cannot join the processes at {cluster.coordinator} ({type(error).__name__}: "
                                f"{text})") from None
    _joined = cluster


@dataclass
class Placement:
    """The devices a run trains on and this process's part of every batch."""

    strategy: str
    replicas: int = 1
    process_id: int = 0
    num_processes: int = 1
    local_replicas: int = 1
    devices: list[str] = field(default_factory=list)
    tf_strategy: object = None  # a tf.distribute strategy for mirrored
    keras_distribution: object = None  # a keras.distribution.DataParallel for data-parallel

    @property
    def writes_run_folder(self) -> bool:
        return self.process_id == 0

    @property
    def sharded(self) -> bool:
        """Batches must be split across processes and padded to divide across devices."""
        return self.keras_distribution is not None

    @contextlib.contextmanager
    def scope(self):
        if self.tf_strategy is not None:
            with self.tf_strategy.scope():
                yield self
        else:
            yield self  # a Keras distribution is set for the whole run by place(), fit and evaluate included

    def release(self) -> None:
        """Forget the Keras distribution set by place() (the processes stay joined)."""
        if self.keras_distribution is not None:
            import keras

            keras.distribution.set_distribution(None)

    def output_dir(self, run_dir):
        """Process 0 writes the run folder; the others write to a scratch folder deleted at exit,
        or, to inspect a replica, to ``$ZOO_WORKER_DIR/worker-N`` (kept)."""
        if self.writes_run_folder:
            return run_dir
        import atexit
        import shutil
        import tempfile
        from pathlib import Path

        if os.environ.get(ENV_WORKER_DIR):
            return Path(os.environ[ENV_WORKER_DIR]) / f"worker-{self.process_id}"
        scratch = Path(tempfile.mkdtemp(prefix=f"zoo-worker-{self.process_id}-"))
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        return scratch

    def agree(self, facts: dict) -> None:
        """Stop with one line unless every process trains the same spec, recipe and data sizes."""
        if self.num_processes == 1:
            return
        import hashlib
        import json

        import numpy as np
        from jax.experimental import multihost_utils

        digest = hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).digest()
        mine = np.frombuffer(digest[:16], np.int32)
        every = np.asarray(multihost_utils.process_allgather(mine))  # (processes, 4)
        differ = [i for i in range(self.num_processes) if not np.array_equal(every[i], every[0])]
        if differ:
            raise DistributionError(f"process {differ[0]} trains a different spec, recipe or dataset than "
                                    f"process 0 (the same command must run on every process)")

    def record(self, shards: dict[str, list[int]] | None = None) -> dict:
        """What config.json says about where the run trained."""
        return {"strategy": self.strategy, "replicas": self.replicas, "processes": self.num_processes,
                "devices": self.devices, "per_process_examples": shards or {}}


def place(strategy: str, cluster: Cluster | None = None) -> Placement:
    """Check the strategy against the backend, join the processes if asked, and choose the devices."""
    import keras

    backend = keras.backend.backend()
    check_strategy(strategy, backend)
    if cluster is not None and strategy not in ("data-parallel", "multi-worker"):
        raise DistributionError(f"--coordinator/--num-processes/--process-id need --strategy data-parallel "
                                f"(got --strategy {strategy})")
    if strategy == "none":
        return Placement("none")
    if strategy == "mirrored":
        import tensorflow as tf

        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or \
                  [d.name for d in tf.config.list_logical_devices("CPU")]
        chosen = tf.distribute.MirroredStrategy(devices)
        if chosen.num_replicas_in_sync == 1:  # a plain CPU is one device: say so rather than imply more
            import sys

            print(f"note: --strategy mirrored found one device ({devices[0]}): training on 1 replica",
                  file=sys.stderr)
        return Placement("mirrored", chosen.num_replicas_in_sync, devices=devices, tf_strategy=chosen,
                         local_replicas=chosen.num_replicas_in_sync)
    if cluster is not None:
        join(cluster)
    import jax

    devices = jax.devices()
    # Batches arrive per process and Keras stitches them into one global array; no automatic sharding.
    distribution = keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
    keras.distribution.set_distribution(distribution)  # fit's iterator looks it up at every epoch
    return Placement(strategy, len(devices), jax.process_index(), jax.process_count(),
                     jax.local_device_count(), [str(d) for d in devices], keras_distribution=distribution)
