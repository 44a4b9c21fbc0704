"""Datasets for ``zoo train``: MNIST, Fashion-MNIST, CIFAR-10/100 and image folders, as uint8 arrays.

Importing this package imports neither Keras nor TensorFlow (nor Pillow).
"""

from zoo.data.datasets import KNOWN_DATASETS, DataError, Dataset, load_dataset

__all__ = ["Dataset", "DataError", "load_dataset", "KNOWN_DATASETS"]
