"""Run one process of a multi-process `zoo train` under a small supervisor.

JAX's coordination service ends a process it gives up on with a fatal C++ log and a core-dump-style
stack (a coordinator that never answers, a peer that died). The user should see one line instead, and
Ctrl-C or SIGTERM must end the worker at once even while it waits inside a collective. So the
command re-runs itself in a child process (its own session, so a terminal's Ctrl-C reaches only the
supervisor), keeps the child's full stderr in a log file, forwards zoo's own lines, and on failure
prints one line that says what happened and where the log is.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from zoo.training.distribute import ENV_ADDRESS, ENV_COUNT, ENV_INDEX, ENV_TIMEOUT, Cluster

CHILD_ENV = "ZOO_DISTRIBUTED_CHILD"
GRACE_SECONDS = 5  # after SIGTERM, a worker that has not exited is killed
_NOISE = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages|\s+@ |\*\*\* )")
_FATAL = re.compile(r"^(F\d{4} |Traceback )")


def is_child() -> bool:
    return os.environ.get(CHILD_ENV) == "1"


def export(cluster: Cluster) -> None:
    """Hand the cluster to the trainer (and a child) through Keras's own variables."""
    os.environ[ENV_ADDRESS] = cluster.coordinator
    os.environ[ENV_COUNT] = str(cluster.num_processes)
    os.environ[ENV_INDEX] = str(cluster.process_id)
    os.environ[ENV_TIMEOUT] = str(cluster.timeout)


def explain(log: str, cluster: Cluster, returncode: int) -> str:
    """One line for a worker that ended without its own error line."""
    who = f"process {cluster.process_id} of {cluster.num_processes}"
    if "RegisterTask" in log:  # the join itself timed out: no coordinator, or too few peers
        return (f"{who}: the processes did not all join at {cluster.coordinator} within {cluster.timeout} s "
                f"(is process 0 running there, and does every process say --num-processes "
                f"{cluster.num_processes}?)")
    if re.search(r"heartbeat|Connection closed by peer|another task died|unhealthy|Connection reset", log):
        return f"{who}: a peer process stopped or became unreachable, so training stopped"
    if returncode < 0:
        return f"{who}: the worker ended with signal {signal.Signals(-returncode).name}"
    return f"{who}: the worker ended with exit status {returncode}"


def supervise(argv: list[str], cluster: Cluster) -> int:
    """Run ``zoo <argv>`` (as ``python -m zoo.cli``) as this process's worker; returns the exit status."""
    export(cluster)
    env = {**os.environ, CHILD_ENV: "1", "PYTHONUNBUFFERED": "1"}
    log_file = tempfile.NamedTemporaryFile("w", prefix=f"zoo-worker-{cluster.process_id}-", suffix=".log",
                                           delete=False, encoding="utf-8")
    leader = cluster.process_id == 0
    child = subprocess.Popen([sys.executable, "-m", "zoo.cli", *argv], env=env, start_new_session=True,
                             preexec_fn=_die_with_parent,
                             stdout=None if leader else subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, errors="replace")
    stopped_by: list[str] = []

    def stop(signum, _frame):
        stopped_by.append(signal.Signals(signum).name)
        _terminate(child)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    errors: list[str] = []
    reader = threading.Thread(target=_pump, args=(child.stderr, log_file, leader, errors), daemon=True)
    reader.start()
    try:
        returncode = child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    reader.join(timeout=10)
    log_file.close()
    if stopped_by:
        print(f"interrupted: process {cluster.process_id}: stopped by {stopped_by[0]}; worker log {log_file.name}",
              file=sys.stderr)
        return 130 if stopped_by[0] == "SIGINT" else 143
    if returncode == 0:
        Path(log_file.name).unlink(missing_ok=True)
        return 0
    if errors:  # zoo's own one-line error (or interruption) from the worker
        print(errors[-1], file=sys.stderr)
        return returncode if returncode > 0 else 2
    text = Path(log_file.name).read_text(encoding="utf-8", errors="replace")
    print(f"error: {explain(text, cluster, returncode)}; worker log {log_file.name}", file=sys.stderr)
    return 2


def _pump(stream, log_file, leader: bool, errors: list[str]) -> None:
    """Copy the worker's stderr to the log; forward zoo's lines until a crash starts."""
    crashed = False
    for line in stream:
        log_file.write(line)
        log_file.flush()
        crashed = crashed or bool(_FATAL.match(line))
        if line.startswith(("error: ", "interrupted: ")):
            errors.append(line.rstrip("\n"))
        elif leader and not crashed and not _NOISE.match(line):
            sys.stderr.write(line)
            sys.stderr.flush()


def _die_with_parent() -> None:
    """In the child: a killed supervisor (even SIGKILL) takes its worker along (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _terminate(child: subprocess.Popen) -> None:
    if child.poll() is not None:
        return
    try:
        os.killpg(child.pid, signal.SIGTERM)  # the worker and anything it started
    except ProcessLookupError:
        return
    timer = threading.Timer(GRACE_SECONDS, _kill, args=(child,))
    timer.daemon = True
    timer.start()


def _kill(child: subprocess.Popen) -> None:
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
