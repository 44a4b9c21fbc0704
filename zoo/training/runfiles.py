"""Reading a run folder's own files back: each checked against a schema before anything uses it.

A run folder may have been edited, truncated or copied from elsewhere, so ``state.json``,
``config.json`` and ``metrics.json`` are untrusted input: a list where an object belongs, a missing
key, a wrong type, a negative epoch or a checkpoint path leading out of the folder is one
`RunFileError` line naming the file and the field, never a traceback.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zoo.errors import ZooError
from zoo.safefile import read_capped

RUN_FILE_CAP = 64 << 20  # bytes; a state.json holds one short row per epoch


class RunFileError(ZooError):
    """A file in a run folder is unreadable or has the wrong shape."""


class _Checked(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


Finite = Annotated[float, Field(allow_inf_nan=False)]


class HistoryRow(_Checked):
    epoch: Annotated[int, Field(ge=1)]
    loss: float  # may be nan only in a diverged run, which writes no state; checked below
    accuracy: Finite
    val_loss: float | None
    val_accuracy: Finite | None
    lr: Finite
    seconds: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    images_per_second: Annotated[float, Field(ge=0, allow_inf_nan=False)]

    @field_validator("loss")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class State(_Checked):
    """``checkpoints/state.json``: the last finished epoch and the checkpoint holding it."""
    epoch: Annotated[int, Field(ge=1)]
    checkpoint: str
    history: list[HistoryRow]
    seed: int | None = None
    seconds: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0  # wall time of the processes so far


class Metrics(_Checked):
    """The figures ``zoo report`` reads from ``metrics.json``."""
    epochs: Annotated[int, Field(ge=0)]
    final_train_accuracy: Finite | None
    best_val_accuracy: Finite | None
    test_accuracy: Finite
    train_seconds: Finite
    images_per_second: Finite | None


class DatasetInfo(_Checked):
    label: str
    limit: int | None = None
    test_limit: int | None = None


class Config(_Checked):
    """The parts of ``config.json`` that ``zoo report`` and ``--resume`` read."""
    model: str
    params: int
    dataset: DatasetInfo
    recipe_name: str
    recipe: dict[str, Any]
    settings: dict[str, Any] | None = None  # absent in runs written before --resume restored settings


def read_json(path: Path, schema: type[BaseModel]) -> BaseModel:
    """``path`` parsed and checked against ``schema``; else one `RunFileError` line."""
    raw = read_capped(path, RUN_FILE_CAP, RunFileError, what="run file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise RunFileError(f"not valid JSON ({e})", file=str(path)) from None
    if not isinstance(data, dict):
        raise RunFileError(f"must be a JSON object (got {type(data).__name__})", file=str(path))
    try:
        return schema.model_validate(data)
    except ValidationError as e:
        raise RunFileError(_first_problem(e), file=str(path)) from None


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem["loc"]).lstrip(".")
    if problem["type"] == "missing":
        return f"{where}: missing"
    message = problem["msg"].removeprefix("Value error, ")
    return f"{where}: {message[0].lower()}{message[1:]} (got {problem.get('input')!r})"


def read_state(run_dir: Path) -> State:
    """The state of ``run_dir``'s last checkpoint, consistent with itself and inside the folder."""
    path = run_dir / "checkpoints" / "state.json"
    state = read_json(path, State)
    epochs = [row.epoch for row in state.history]
    if epochs != list(range(1, state.epoch + 1)):
        raise RunFileError(f"history: must hold epochs 1 to {state.epoch} in order (got {epochs[:8]})",
                           file=str(path))
    checkpoint_path(run_dir, state.checkpoint, path)
    return state


def checkpoint_path(run_dir: Path, name: str, state_file: Path) -> Path:
    """``run_dir/checkpoints/name``, refused unless it is a plain file name that stays in that folder."""
    folder = (run_dir / "checkpoints").resolve()
    target = (folder / name).resolve()
    if Path(name).name != name or name in ("", ".", "..") or target.parent != folder:
        raise RunFileError(f"checkpoint: must name a file inside {run_dir / 'checkpoints'} (got {name!r})",
                           file=str(state_file))
    return target


def history_rows(state: State) -> list[dict]:
    """The history as the plain dicts the epoch loop appends to."""
    return [{k: getattr(row, k) for k in HistoryRow.model_fields} for row in state.history]
