"""chainrule.utils.data: datasets, samplers and DataLoader (torch.utils.data's API).

>>> import chainrule
>>> from chainrule.utils.data import DataLoader, TensorDataset
>>> ds = TensorDataset(chainrule.arange(6.0), chainrule.arange(6))
>>> g = chainrule.Generator().manual_seed(0)
>>> batches = list(DataLoader(ds, batch_size=4, shuffle=True, generator=g))
>>> [len(y) for x, y in batches]
[4, 2]
"""
from ._utils.collate import default_collate, default_convert
from ._utils.worker import WorkerInfo, get_worker_info
from .dataloader import DataLoader
from .distributed import DistributedSampler
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,
                      Subset, TensorDataset, random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DataLoader", "get_worker_info", "WorkerInfo", "default_collate", "default_convert",
           "DistributedSampler"]
