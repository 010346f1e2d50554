r"""CIFAR-10 for the proxy and reference trainings: a class-balanced 1/10 of CIFAR-10, held in
memory (torch only; the PyTorch Geometric datasets of cells are :mod:`gemgraph.datasets`).

Modules: :mod:`~gemgraph.cifar.constants`, :mod:`~gemgraph.cifar.transforms`,
:mod:`~gemgraph.cifar.dataset`, :mod:`~gemgraph.cifar.files` (finding, safe reading,
download) and :mod:`~gemgraph.cifar.sets` (the proxy and reference sets).

Two on-disk sources are read, looked for under a data root (``root``, default
``$GEMGRAPH_DATA``):

* torchvision's CIFAR-10 files, ``<root>/cifar-10-batches-py`` (the official python
  pickles; ``download=True`` fetches them with :class:`torchvision.datasets.CIFAR10` on a
  machine with internet). Any ``fraction`` and ``seed`` can be drawn from them.
* with no data root at all (``root=None`` and ``$GEMGRAPH_DATA`` unset): the subset embedded
  in the package, ``gemgraph/cifar/data/cifar10_proxy16.npz`` (4.4 MB, attributed in
  ``SOURCE.md`` beside it): the train and val splits of the ``fraction=0.1, seed=0`` draw
  below, average-pooled to 16x16 (:func:`downsample`), enough for the ``quick`` preset with
  no download. It serves ``resolution=16`` (or a divisor); it is byte-identical to pooling
  the 32x32 files, so a run gives the same result with or without a data root.
* ``<root>/cifar10-proxy/cifar10_proxy.npz`` (keys ``x_train, y_train, x_val, y_val,
  x_test, y_test``, images uint8 (N, 32, 32, 3) HWC): the draw for ``fraction=0.1, seed=0``,
  stored.

The draw (identical to the one that produced ``cifar10_proxy.npz``)::

    y = labels of the 50,000 official training images, official order
    rng = numpy.random.default_rng(seed)
    train = sorted(concat(rng.choice(flatnonzero(y == c), round(fraction * n_c), replace=False)
                          for c in 0..9))                       # n_c images of class c
    rng = numpy.random.default_rng(seed + 1)
    val   = sorted(concat(rng.choice(flatnonzero((y == c) & not in train),
                                     round(fraction * n_c / 5), replace=False) for c in 0..9))
    test  = the first round(fraction * 10,000) images of the official test batch

so ``fraction=0.1`` gives 5,000 train (500 per class), 1,000 val (100 per class, held-out
*training* images) and 1,000 test images (the official test batch is in random order, so
this is a random tenth; not exactly balanced).

Safety and checks. Batch files are never read with a bare ``pickle.load``: they are read with
a restricted unpickler that admits only what a CIFAR-10 batch holds (dicts, lists, strings,
ints, uint8 numpy arrays) and refuses any other global before it is looked up, so a planted
file cannot run code (a file whose md5 is not the official one is also logged). The npz is
read with ``allow_pickle=False``. On load, images must be uint8 32x32 RGB and labels integers
in [0, 10) (one per image); anything else is a ValueError naming the file and array.

Images are kept as one uint8 tensor (N, 3, 32, 32); :class:`CifarTensorDataset` normalises
them (CIFAR-10 channel mean / std) and, for the train split, augments them (random crop
with 4 pixels of zero padding, horizontal flip), either per sample (``__getitem__``, for a
``DataLoader``) or vectorised per batch (:meth:`CifarTensorDataset.batch`, the fast path of
:class:`~gemgraph.evaluate.ProxyTrainer`).
"""
from .constants import CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD, EMBEDDED_PATH
from .dataset import CifarTensorDataset
from .files import OFFICIAL_MD5, download_cifar10, file_md5, find_cifar10
from .sets import cifar10_proxy, cifar10_reference
from .transforms import augment_batch, balanced_indices, downsample

__all__ = [
    "OFFICIAL_MD5",
    "CIFAR10_CLASSES",
    "EMBEDDED_PATH",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CifarTensorDataset",
    "augment_batch",
    "balanced_indices",
    "cifar10_proxy",
    "cifar10_reference",
    "download_cifar10",
    "downsample",
    "file_md5",
    "find_cifar10",
]
