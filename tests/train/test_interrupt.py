"""Ctrl-C during training: remembered as well as raised, so a dropped one is raised again; held
back while an epoch's files are written. Real SIGINTs to this process, no TensorFlow."""

from __future__ import annotations

import gc
import os
import signal
import sys

import pytest

from zoo.training.interrupt import CtrlC


def _sigint() -> None:
    os.kill(os.getpid(), signal.SIGINT)


class _SendsCtrlCWhenFinalised:
    def __del__(self):
        _sigint()  # the KeyboardInterrupt raised here is printed by Python and dropped


def test_an_interrupt_dropped_in_a_finaliser_is_raised_at_the_next_check(monkeypatch):
    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: dropped.append(info.exc_type))
    with CtrlC() as ctrl_c:
        _SendsCtrlCWhenFinalised()  # no reference kept: finalised at once
        gc.collect()
        assert dropped == [KeyboardInterrupt] and ctrl_c.hit  # Python went on as if nothing happened...
        with pytest.raises(KeyboardInterrupt):
            ctrl_c.check()  # ...the boundary raises it again


def test_writes_held_together_finish_before_the_interrupt():
    written = []
    with CtrlC() as ctrl_c:
        with pytest.raises(KeyboardInterrupt):
            with ctrl_c.held():
                written.append("checkpoint")
                _sigint()
                written.append("state")  # reached: the interrupt waits for the block's end
    assert written == ["checkpoint", "state"]


def test_outside_a_held_block_the_interrupt_is_raised_at_once():
    after = []
    with CtrlC():
        with pytest.raises(KeyboardInterrupt):
            _sigint()
            after.append("step")
    assert after == []


def test_python_s_handler_comes_back_and_a_caller_s_own_handler_is_left_alone():
    before = signal.getsignal(signal.SIGINT)
    assert before is signal.default_int_handler
    with CtrlC():
        assert signal.getsignal(signal.SIGINT) is not before
    assert signal.getsignal(signal.SIGINT) is before

    def own(signum, frame):
        calls.append(signum)

    calls: list[int] = []
    previous = signal.signal(signal.SIGINT, own)
    try:
        with CtrlC() as ctrl_c:
            assert signal.getsignal(signal.SIGINT) is own
            _sigint()
            ctrl_c.check()  # not ours to see: the caller's handler took it
        assert calls == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)
