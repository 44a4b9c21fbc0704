"""Learning-rate schedules as one serializable Keras schedule, driven by the optimizer's step count."""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """constant, step, cosine or one-cycle, after a linear warm-up; all in optimizer steps."""

    def __init__(self, kind: str, peak: float, total_steps: int, warmup_steps: int = 0,
                 milestones: tuple[int, ...] = (), gamma: float = 0.1, final_fraction: float = 0.0):
        self.kind, self.peak, self.total_steps, self.warmup_steps = kind, peak, max(1, total_steps), warmup_steps
        self.milestones, self.gamma, self.final_fraction = tuple(milestones), gamma, final_fraction

    def __call__(self, step):
        step = ops.cast(step, "float32")
        peak, final = self.peak, self.peak * self.final_fraction
        warm = float(max(self.warmup_steps, 0))
        after = ops.maximum(step - warm, 0.0)
        span = float(max(self.total_steps - self.warmup_steps, 1))
        progress = ops.minimum(after / span, 1.0)
        if self.kind == "cosine":
            lr = final + (peak - final) * 0.5 * (1.0 + ops.cos(math.pi * progress))
        elif self.kind == "onecycle":
            lr = final + (peak - final) * (1.0 - progress)  # linear anneal after the warm-up ramp
        elif self.kind == "step":
            lr = ops.convert_to_tensor(peak, "float32")
            for milestone in self.milestones:
                lr = ops.where(step >= float(milestone), lr * self.gamma, lr)
        else:
            lr = ops.convert_to_tensor(peak, "float32")
        if self.warmup_steps > 0:
            lr = ops.where(step < warm, peak * (step + 1.0) / warm, lr)
        return lr

    def get_config(self):
        return {"kind": self.kind, "peak": self.peak, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps, "milestones": list(self.milestones), "gamma": self.gamma,
                "final_fraction": self.final_fraction}


def make_schedule(recipe, steps_per_epoch: int) -> WarmupSchedule:
    s = recipe.schedule
    return WarmupSchedule(kind=s.type, peak=recipe.optimizer.lr, total_steps=steps_per_epoch * recipe.epochs,
                          warmup_steps=round(s.warmup_epochs * steps_per_epoch),
                          milestones=tuple(round(m * steps_per_epoch) for m in s.milestones),
                          gamma=s.gamma, final_fraction=s.final_fraction)


def make_optimizer(recipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    o = recipe.optimizer
    lr = make_schedule(recipe, steps_per_epoch)
    decay = recipe.weight_decay or None
    if o.type == "sgd":
        opt = keras.optimizers.SGD(lr, momentum=o.momentum, nesterov=o.nesterov, weight_decay=decay)
    elif o.type == "adam":
        opt = keras.optimizers.Adam(lr, beta_1=o.beta_1, beta_2=o.beta_2, epsilon=o.epsilon, weight_decay=decay)
    else:
        opt = keras.optimizers.AdamW(lr, weight_decay=recipe.weight_decay, beta_1=o.beta_1, beta_2=o.beta_2,
                                     epsilon=o.epsilon)
    if decay:
        # Decay the weights, not the batch-norm scales and shifts or the biases.
        opt.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    return opt
