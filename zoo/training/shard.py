"""This process's part of every global batch, padded so that every batch divides across the devices.

``batch_size`` is global. Global batch ``i`` of an epoch is the same examples, in the same order, as in a
one-process run with the same seed; process ``p`` of ``P`` takes its ``p``-th contiguous slice, so the
processes read disjoint shards of every epoch. Training keeps full batches only (the last partial one is
dropped, as in one process). Evaluation keeps every example: a last batch that does not divide across
the devices is padded with copies of its first example at sample weight 0, which leaves accuracy
unchanged.
"""

from __future__ import annotations

import numpy as np

from zoo.training.pipeline import Batches, augment


def global_batch(batch_size: int, replicas: int) -> int:
    """The largest multiple of ``replicas`` not above ``batch_size`` (at least one per device)."""
    return max(replicas, batch_size - batch_size % replicas)


class ShardedBatches(Batches):
    """``Batches`` of which this process yields its slice; ``global_input`` rebuilds the global array."""

    def __init__(self, batches: Batches, *, process_id: int, num_processes: int, replicas: int,
                 distribution=None):
        self.__dict__.update(batches.__dict__)  # same data, order, seed, augmentation and epoch
        self.process_id, self.num_processes, self.replicas = process_id, num_processes, replicas
        self.distribution = distribution

    def local_count(self, count: int) -> int:
        """Examples this process gets from a global batch of ``count`` (after padding)."""
        padded = -(-count // self.replicas) * self.replicas
        return padded // self.num_processes

    def __getitem__(self, index: int):
        idx = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        local = self.local_count(len(idx))
        weights = None
        if local * self.num_processes != len(idx):  # evaluation's last batch: pad at weight 0
            fill = local * self.num_processes - len(idx)
            weights = np.concatenate([np.ones(len(idx), np.float32), np.zeros(fill, np.float32)])
            idx = np.concatenate([idx, np.full(fill, idx[0])])
        part = slice(self.process_id * local, (self.process_id + 1) * local)
        idx = idx[part]
        images = self.x[idx]
        if self.train and (self.crop_padding or self.flip):
            rng = np.random.default_rng([self.seed, self.epoch, index, self.process_id])
            images = augment(images, rng, self.crop_padding, self.flip)
        labels = np.zeros((len(idx), self.classes), dtype=np.float32)
        labels[np.arange(len(idx)), self.y[idx]] = 1.0
        if self.train:
            return images.astype(np.float32), labels
        # Evaluation batches always carry weights, so every batch has the same structure.
        weights = np.ones(len(idx), np.float32) if weights is None else weights[part]
        return images.astype(np.float32), labels, weights

    def shard_size(self) -> int:
        """Examples this process reads in one pass (padding included)."""
        return sum(self.local_count(len(self._order[i * self.batch_size:(i + 1) * self.batch_size]))
                   for i in range(len(self)))

    def global_input(self, x):
        """A local batch as the global array the model runs on (for eager calls such as precise BN)."""
        if self.distribution is None:
            return x
        import jax

        layout = self.distribution.get_data_layout(x.shape).backend_layout
        return jax.make_array_from_process_local_data(layout, x)


def shard(batches: Batches | None, placement) -> Batches | None:
    """``batches`` as this process reads them under ``placement`` (unchanged when nothing is sharded)."""
    if batches is None or not placement.sharded:
        return batches
    return ShardedBatches(batches, process_id=placement.process_id, num_processes=placement.num_processes,
                          replicas=placement.replicas, distribution=placement.keras_distribution)


def shard_sizes(*batches) -> dict[str, list[int]]:
    """Examples per process for train, validation and test (equal across processes by construction)."""
    sizes = {}
    for name, b in zip(("train", "validation", "test"), batches):
        if isinstance(b, ShardedBatches):
            sizes[name] = [b.shard_size()] * b.num_processes
    return sizes
