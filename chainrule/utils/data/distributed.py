"""DistributedSampler: each of ``num_replicas`` processes reads its own slice of the data."""
import math

import chainrule

from .sampler import Sampler, _T_co

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler[_T_co]):
    """Indices for replica ``rank`` of ``num_replicas``: the (optionally shuffled, seeded by
    ``seed + epoch``) index list is padded by wrapping around to a multiple of
    ``num_replicas`` (or cut down with ``drop_last``), then replica ``rank`` takes every
    ``num_replicas``-th index starting at ``rank``. Call ``set_epoch`` each epoch to reshuffle.

    chainrule has no process group, so ``num_replicas`` and ``rank`` must be given.

    >>> from chainrule.utils.data import DistributedSampler
    >>> s = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
    >>> list(s), len(s)
    ([1, 4, 7, 0], 4)
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            raise ValueError("Default process group has not been initialized, please make "
                             "sure to call init_process_group.")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            gen = chainrule.Generator().manual_seed(self.seed + self.epoch)
            order = chainrule.randperm(n, generator=gen).tolist()
        else:
            order = list(range(n))
        if self.drop_last:
            order = order[:self.total_size]
        elif order:
            missing = self.total_size - len(order)
            order += (order * math.ceil(missing / len(order)))[:missing]
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch, which (with ``seed``) picks this pass's shuffle."""
        self.epoch = epoch
