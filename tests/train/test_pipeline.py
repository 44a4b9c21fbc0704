"""Batches: splits, statistics, augmentation, one-hot labels, determinism."""

from __future__ import annotations

import numpy as np

from zoo.training.pipeline import Batches, Split, augment, channel_stats, split_train


def test_split_is_seeded_and_disjoint():
    x = np.arange(100, dtype=np.uint8).reshape(100, 1, 1, 1)
    y = np.arange(100)
    train, val = split_train(x, y, 0.2, seed=3)
    again, _ = split_train(x, y, 0.2, seed=3)
    assert len(train.y) == 80 and len(val.y) == 20
    assert not set(train.y) & set(val.y)
    np.testing.assert_array_equal(train.y, again.y)


def test_channel_stats_are_those_of_scaled_pixels():
    x = np.stack([np.full((4, 4), 0), np.full((4, 4), 255)]).astype(np.uint8)[..., None]
    mean, var = channel_stats(x)
    assert mean == [0.5] and abs(var[0] - 0.25) < 1e-9


def test_batches_one_hot_full_batches_and_epoch_reshuffle():
    x = np.zeros((10, 2, 2, 1), np.uint8)
    y = np.arange(10) % 3
    batches = Batches(Split(x, y), 3, 4, train=True, seed=0)
    assert len(batches) == 2  # full batches only when training
    first = np.concatenate([batches[i][1].argmax(1) for i in range(2)])
    images, labels = batches[0]
    assert images.dtype == np.float32 and labels.shape == (4, 3) and labels.sum() == 4
    batches.on_epoch_end()
    second = np.concatenate([batches[i][1].argmax(1) for i in range(2)])
    assert not np.array_equal(batches._order, Batches(Split(x, y), 3, 4, train=True, seed=0)._order)
    assert len(first) == len(second) == 8
    assert len(Batches(Split(x, y), 3, 4, train=False)) == 3  # evaluation keeps the last partial batch


def test_augment_crops_from_padding_and_flips():
    images = np.arange(2 * 4 * 4 * 1, dtype=np.uint8).reshape(2, 4, 4, 1) + 1
    flipped = augment(images, np.random.default_rng(0), padding=0, flip=True)
    for original, out in zip(images, flipped):
        assert np.array_equal(out, original) or np.array_equal(out, original[:, ::-1])
    cropped = augment(images, np.random.default_rng(1), padding=2, flip=False)
    assert cropped.shape == images.shape
    for original, out in zip(images, cropped):
        # every non-zero pixel of a crop is an original pixel in the same relative place
        padded = np.pad(original, ((2, 2), (2, 2), (0, 0)))
        assert any(np.array_equal(out, padded[dy:dy + 4, dx:dx + 4]) for dy in range(5) for dx in range(5))


def test_tensorflow_reads_batches_through_the_bounded_queue_without_the_autotuner():
    # Keras's one-worker default gives tf.data.from_generator + prefetch(AUTOTUNE), whose autotuning
    # thread each epoch's iterator waited for at its end (up to a minute, CPU idle). Two workers take
    # Keras's enqueuer path, which switches autotuning off and feeds every pass, in order, from threads.
    import keras
    import pytest

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the tf.data path is TensorFlow's")
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    x = np.arange(12 * 2 * 2, dtype=np.uint8).reshape(12, 2, 2, 1)
    batches = Batches(Split(x, np.arange(12) % 3), 3, 4, train=True, seed=1, flip=True)
    adapter = PyDatasetAdapter(batches, shuffle=False)
    dataset = adapter.get_tf_dataset()
    assert adapter.enqueuer is not None and dataset.options().autotune.enabled is False
    adapter.on_epoch_begin()
    seen = [images for images, _ in dataset.as_numpy_iterator()]
    adapter.on_epoch_end()
    reference = Batches(Split(x, np.arange(12) % 3), 3, 4, train=True, seed=1, flip=True)
    assert len(seen) == 3 and batches.epoch == 1
    for i, images in enumerate(seen):  # the queue keeps the order and the seeded augmentation
        np.testing.assert_array_equal(images, reference[i][0])
