"""Data-parallel training across real processes, and every way of starting one wrong.

The fast tests check the cluster values, the shards and the failures that must end in one line
(a refused TensorFlow multi-worker run, an unreachable coordinator, SIGTERM while waiting). The slow
test trains on real MNIST in two `zoo train` processes and compares them with one process:
python -m pytest -m slow tests/train/test_distributed.py -s
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import SHARED_DATA
from zoo.cli.main import app
from zoo.training.distribute import MULTI_WORKER_TF, DistributionError, check_strategy, cluster_from
from zoo.training.pipeline import Batches, Split
from zoo.training.shard import ShardedBatches, global_batch

runner = CliRunner()
MNIST = SHARED_DATA / "mnist"
CLUSTER_ENV = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
               "KERAS_DISTRIBUTION_PROCESS_ID", "ZOO_DISTRIBUTION_TIMEOUT")


@pytest.fixture(autouse=True)
def _no_cluster_env(monkeypatch):
    for name in CLUSTER_ENV:
        monkeypatch.delenv(name, raising=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("args, message", [
    (("127.0.0.1:5000", 2, 2), "--process-id must be from 0 to 1 for --num-processes 2 (got 2)"),
    (("127.0.0.1:5000", 2, -1), "--process-id must be from 0 to 1 for --num-processes 2 (got -1)"),
    (("127.0.0.1:5000", 0, 0), "--num-processes must be at least 1 (got 0)"),
    (("127.0.0.1", 2, 0), "--coordinator must be HOST:PORT with a port from 1 to 65535 (got '127.0.0.1')"),
    (("host:70000", 2, 0), "--coordinator must be HOST:PORT with a port from 1 to 65535 (got 'host:70000')"),
    ((None, 2, 0), "--coordinator HOST:PORT (or $KERAS_DISTRIBUTION_JOB_ADDRESSES) is needed with "
                   "--num-processes and --process-id"),
])
def test_bad_cluster_values_are_one_line(args, message):
    with pytest.raises(DistributionError) as caught:
        cluster_from(*args)
    assert str(caught.value) == message


def test_cluster_comes_from_keras_variables(monkeypatch):
    monkeypatch.setenv("KERAS_DISTRIBUTION_JOB_ADDRESSES", "10.0.0.1:1234,10.0.0.2:2345")
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "1")
    cluster = cluster_from()
    assert (cluster.coordinator, cluster.num_processes, cluster.process_id) == ("10.0.0.1:1234", 2, 1)
    assert cluster_from(process_id=0).process_id == 0  # a flag wins over the variable


def test_strategies_a_backend_cannot_run_are_refused():
    with pytest.raises(DistributionError, match=re.escape(MULTI_WORKER_TF)):
        check_strategy("multi-worker", "tensorflow")
    with pytest.raises(DistributionError, match="needs the JAX backend"):
        check_strategy("data-parallel", "tensorflow")
    with pytest.raises(DistributionError, match="needs the TensorFlow backend"):
        check_strategy("mirrored", "jax")
    check_strategy("multi-worker", "jax")  # the working path


def test_cli_wrong_process_id_is_one_line(tiny_spec, mnist_dir, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(tiny_spec), "--data-dir", str(mnist_dir), "--out", str(out),
                                 "--strategy", "data-parallel", "--coordinator", "127.0.0.1:5000",
                                 "--num-processes", "2", "--process-id", "3"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --process-id must be from 0 to 1 for --num-processes 2 (got 3)"
    assert not out.exists()


@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow", reason="TensorFlow backend only")
def test_cli_refuses_tensorflow_multi_worker_up_front(tiny_spec, mnist_dir, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(tiny_spec), "--data-dir", str(mnist_dir), "--out", str(out),
                                 "--strategy", "multi-worker"])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {MULTI_WORKER_TF}"
    assert not out.exists()


def _images(n: int) -> Split:
    x = np.arange(n, dtype=np.uint8).reshape(n, 1, 1, 1).repeat(2, axis=1)  # pixel value = example index
    return Split(x, np.arange(n) % 3)


def test_each_process_reads_its_half_of_every_global_batch():
    train = Batches(_images(100), 3, 16, train=True, seed=5)
    parts = [ShardedBatches(train, process_id=p, num_processes=2, replicas=2) for p in range(2)]
    assert len(parts[0]) == len(parts[1]) == len(train) == 6  # full global batches only
    seen = []
    for i in range(len(train)):
        whole, _ = train[i]
        halves = [part[i][0] for part in parts]
        assert [len(h) for h in halves] == [8, 8]
        np.testing.assert_array_equal(np.concatenate(halves), whole)  # the one-process batch, split in two
        seen.append([set(h[:, 0, 0, 0].astype(int)) for h in halves])
    first = set().union(*(s[0] for s in seen))
    second = set().union(*(s[1] for s in seen))
    assert not first & second and len(first) == len(second) == 48  # disjoint halves of the epoch


def test_evaluation_keeps_every_example_and_pads_at_weight_zero():
    test = Batches(_images(35), 3, 16, train=False)  # batches of 16, 16 and 3 examples
    parts = [ShardedBatches(test, process_id=p, num_processes=2, replicas=4) for p in range(2)]
    counted = []
    for i in range(len(test)):
        pieces = [part[i] for part in parts]
        assert len({len(x) for x, _, _ in pieces}) == 1  # every process feeds the same local batch size
        assert all(len(x) % 2 == 0 for x, _, _ in pieces)  # and it divides over its 2 local devices
        for x, _, w in pieces:
            counted += list(x[w > 0][:, 0, 0, 0].astype(int))
    assert sorted(counted) == list(range(35))  # every test example once; padding carries no weight
    assert parts[0].shard_size() == 8 + 8 + 2
    assert global_batch(30, 4) == 28 and global_batch(3, 4) == 4


def _worker(args, env, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "zoo.cli", "train", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _jax_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CLUSTER_ENV}
    return {**env, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def test_unreachable_coordinator_fails_in_one_line_within_the_timeout(tiny_spec, mnist_dir, tmp_path):
    out = tmp_path / "run"
    port = free_port()  # nobody listens there
    started = time.perf_counter()
    proc = _worker([str(tiny_spec), "--data-dir", str(mnist_dir), "--out", str(out), "--strategy", "data-parallel",
                    "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", "1"],
                   _jax_env(ZOO_DISTRIBUTION_TIMEOUT="2", TMPDIR=str(tmp_path)))
    _, stderr = proc.communicate(timeout=120)
    assert time.perf_counter() - started < 60
    assert proc.returncode == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert re.fullmatch(rf"error: process 1 of 2: the processes did not all join at 127\.0\.0\.1:{port} within 2 s "
                        r"\(is process 0 running there, and does every process say --num-processes 2\?\); "
                        r"worker log \S+zoo-worker-1-\S+\.log", lines[0]), lines[0]
    assert not out.exists()


def test_sigterm_ends_a_waiting_worker_at_once(tiny_spec, mnist_dir, tmp_path):
    out = tmp_path / "run"
    proc = _worker([str(tiny_spec), "--data-dir", str(mnist_dir), "--out", str(out), "--strategy", "data-parallel",
                    "--coordinator", f"127.0.0.1:{free_port()}", "--num-processes", "2", "--process-id", "0"],
                   _jax_env(ZOO_DISTRIBUTION_TIMEOUT="50", TMPDIR=str(tmp_path)))
    time.sleep(3)  # the supervisor is up; its worker is starting or waiting for process 1
    sent = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert time.perf_counter() - sent < 15  # SIGTERM, then SIGKILL after 5 s at the latest
    assert proc.returncode == 143
    assert re.fullmatch(r"interrupted: process 0: stopped by SIGTERM; worker log \S+\.log",
                        stderr.strip().splitlines()[-1])
    assert not (out / "metrics.json").exists()


def _run_two(tmp_path, args) -> tuple[dict, float]:
    port = free_port()
    env = _jax_env(ZOO_WORKER_DIR=str(tmp_path / "workers"))
    procs = [_worker([*args, "--out", str(tmp_path / "two"), "--strategy", "data-parallel", "--coordinator",
                      f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(i)], env) for i in (0, 1)]
    results = [p.communicate(timeout=900) for p in procs]
    for p, (_, err) in zip(procs, results):
        assert p.returncode == 0, err[-3000:]
    return json.loads((tmp_path / "two" / "metrics.json").read_text())


@pytest.mark.slow
@pytest.mark.skipif(not (MNIST / "mnist.npz").exists(), reason="no shared MNIST")
def test_two_processes_train_like_one(tmp_path):
    import zoo

    args = ["vgg_mini", "--dataset", "mnist", "--data-dir", str(MNIST), "--recipe", "mnist_fast", "--epochs", "2",
            "--limit", "2000", "--test-limit", "2000", "--batch-size", "64", "--quiet"]
    two = _run_two(tmp_path, args)
    one = subprocess.run([sys.executable, "-m", "zoo.cli", "train", *args, "--out", str(tmp_path / "one")],
                         env=_jax_env(), capture_output=True, text=True, timeout=900)
    assert one.returncode == 0, one.stderr[-3000:]
    one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    print(f"\none process: {one['test_accuracy']:.4f}, {one['images_per_second']:.0f} img/s; "
          f"two processes: {two['test_accuracy']:.4f}, {two['images_per_second']:.0f} img/s")
    assert abs(two["test_accuracy"] - one["test_accuracy"]) <= 0.005
    lr = [[row.split(",")[5] for row in (tmp_path / run / "history.csv").read_text().splitlines()[1:]]
          for run in ("one", "two")]
    assert lr[0] == lr[1]  # the schedule counts global steps: the same learning rate after every epoch
    assert two["test_examples"] == 2000

    config = json.loads((tmp_path / "two" / "config.json").read_text())
    distribution = config["device"]["distribution"]
    assert (distribution["strategy"], distribution["replicas"], distribution["processes"]) == ("data-parallel", 2, 2)
    n_train = config["dataset"]["train"]
    assert distribution["per_process_examples"]["train"] == [n_train // 64 * 32] * 2  # half of every full batch
    assert not (tmp_path / "workers" / "worker-0").exists()  # process 0 wrote only the run folder

    ours = zoo.load_model(tmp_path / "two" / "model.keras").get_weights()
    theirs = zoo.load_model(tmp_path / "workers" / "worker-1" / "model.keras").get_weights()
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)  # the replicas ended bit-identical


def _tiny_pair(tiny_spec, mnist_dir, out, extra=((), ()), env=None) -> list[tuple[int, str]]:
    """Two supervised workers of a tiny run; (exit status, stderr) for processes 0 and 1."""
    port = free_port()
    procs = [_worker([str(tiny_spec), "--data-dir", str(mnist_dir), "--out", str(out), "--recipe", "mnist_fast",
                      "-b", "64", "--quiet", "--strategy", "data-parallel", "--coordinator", f"127.0.0.1:{port}",
                      "--num-processes", "2", "--process-id", str(i), *extra[i]], env or _jax_env()) for i in (0, 1)]
    errs = [p.communicate(timeout=600)[1] for p in procs]
    return [(p.returncode, err) for p, err in zip(procs, errs)]


@pytest.mark.slow
def test_mismatched_workers_stop_in_one_line_and_a_run_resumes(tiny_spec, mnist_dir, tmp_path):
    out = tmp_path / "run"
    ends = _tiny_pair(tiny_spec, mnist_dir, tmp_path / "bad", ((), ("--limit", "320")),
                      _jax_env(TMPDIR=str(tmp_path)))
    for code, err in ends:
        assert code == 2
        assert err.strip() == ("error: process 1 trains a different spec, recipe or dataset than process 0 "
                               "(the same command must run on every process)")
    assert not (tmp_path / "bad").exists()

    first = _tiny_pair(tiny_spec, mnist_dir, out, (("-e", "1"), ("-e", "1")))
    assert [code for code, _ in first] == [0, 0], first
    assert (out / "metrics.json").exists()
    resumed = _tiny_pair(tiny_spec, mnist_dir, out, (("-e", "2", "--resume"), ("-e", "2", "--resume")))
    assert [code for code, _ in resumed] == [0, 0], resumed
    rows = (out / "history.csv").read_text().splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["1", "2"]


@pytest.mark.slow
def test_a_killed_peer_stops_the_others_in_one_line(tiny_spec, mnist_dir, tmp_path):
    out = tmp_path / "run"
    port = free_port()
    procs = [_worker([str(tiny_spec), "--data-dir", str(mnist_dir), "--out", str(out), "--recipe", "mnist_fast",
                      "-b", "32", "-e", "200", "--quiet", "--strategy", "data-parallel", "--coordinator",
                      f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(i)],
                     _jax_env(TMPDIR=str(tmp_path))) for i in (0, 1)]
    deadline = time.perf_counter() + 300
    while not (out / "checkpoints" / "state.json").exists():  # epoch 1 is done: training is under way
        assert time.perf_counter() < deadline and procs[0].poll() is None, procs[0].communicate()[1]
        time.sleep(0.5)
    procs[1].kill()  # SIGKILL: the supervisor cannot tell anyone; its worker dies with it
    killed = time.perf_counter()
    _, stderr = procs[0].communicate(timeout=120)
    procs[1].communicate()
    assert time.perf_counter() - killed < 60
    assert procs[0].returncode == 2
    last = stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"error: process 0 of 2: a peer process stopped or became unreachable, so training "
                        r"stopped; worker log \S+\.log", last), stderr[-2000:]
    assert "Traceback" not in stderr
    assert (out / "checkpoints" / "state.json").exists()  # the last full epoch is kept


@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow", reason="TensorFlow backend only")
def test_mirrored_on_a_plain_cpu_says_it_has_one_replica(tiny_spec, mnist_dir, tmp_path):
    import tensorflow as tf

    if len(tf.config.list_logical_devices("CPU")) != 1 or tf.config.list_logical_devices("GPU"):
        pytest.skip("this process's TensorFlow already has several devices")
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(tiny_spec), "--data-dir", str(mnist_dir), "--out", str(out), "-e", "1",
                                 "--limit", "128", "--test-limit", "64", "--strategy", "mirrored", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "note: --strategy mirrored found one device (/device:CPU:0): " \
           "training on 1 replica" in result.stderr
    distribution = json.loads((out / "config.json").read_text())["device"]["distribution"]
    assert distribution["strategy"] == "mirrored" and distribution["replicas"] == 1
    assert distribution["devices"] == ["/device:CPU:0"]
