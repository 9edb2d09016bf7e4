"""Worker processes. A worker fetches batches and sends them to the parent through a queue;
tensors travel as NumPy arrays (chainrule tensors refuse pickling) and are rebuilt as tensors
when the parent unpickles them."""
import io
import os
import pickle
import queue
import random
import sys
import traceback
from multiprocessing.reduction import ForkingPickler

import numpy as np

import chainrule

from .fetch import _create_fetcher

__all__ = ["get_worker_info", "WorkerInfo"]

_POLL_S = 1.0
_worker_info = None


class WorkerInfo:
    """What a worker process knows about itself: ``id``, ``num_workers``, ``seed`` and its copy
    of the ``dataset``. Read-only."""
    _frozen = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self._frozen = True

    def __setattr__(self, key, val):
        if self._frozen:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        super().__setattr__(key, val)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{self.__class__.__name__}({items})"


def get_worker_info():
    """Inside a DataLoader worker process: its WorkerInfo (``id``, ``num_workers``, ``seed``,
    ``dataset``); in the main process: None.

    >>> from chainrule.utils.data import get_worker_info
    >>> get_worker_info() is None
    True
    """
    return _worker_info


class _IterableDatasetStopIteration:
    def __init__(self, worker_id):
        self.worker_id = worker_id


class _ExceptionWrapper:
    """An exception raised in a worker, re-raised in the parent with the worker's traceback."""

    def __init__(self, where):
        exc_type, exc, tb = sys.exc_info()
        try:
            pickle.dumps(exc_type)
        except Exception:
            exc_type = RuntimeError
        self.exc_type = exc_type
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


def _rebuild_tensor(array, requires_grad):
    t = chainrule.from_numpy(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _reduce_tensor(t):
    return _rebuild_tensor, (np.ascontiguousarray(t.detach().numpy()), t.requires_grad)


class _TensorPickler(ForkingPickler):
    """Pickles tensors (and subclasses) as NumPy arrays, for traffic between the DataLoader and
    its workers only: nothing is registered globally, so tensors stay unpicklable elsewhere."""

    def reducer_override(self, obj):
        if isinstance(obj, chainrule.Tensor):
            return _reduce_tensor(obj)
        return NotImplemented


def _dumps(obj):
    buf = io.BytesIO()
    _TensorPickler(buf, pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def _loads(payload):
    return pickle.loads(payload)


def _send(data_queue, idx, data, worker_id):
    """Pickle here (not in the queue's feeder thread) so that an unpicklable batch becomes an
    error in the parent instead of a batch that never arrives."""
    try:
        payload = _dumps((idx, data))
    except Exception:
        err = _ExceptionWrapper(f"in DataLoader worker process {worker_id} while sending a "
                                "batch to the main process (it must be picklable)")
        payload = _dumps((idx, err))
    data_queue.put(payload)


def _worker_loop(iterable, shipped, index_queue, data_queue, done_event, auto_collation,
                 drop_last, base_seed, worker_id, num_workers, parent_pid):
    """``shipped`` is (dataset, collate_fn, worker_init_fn), pickled by _dumps when the worker
    is not forked (spawn, forkserver)."""
    global _worker_info
    dataset, collate_fn, init_fn = _loads(shipped) if isinstance(shipped, bytes) else shipped
    seed = base_seed + worker_id
    random.seed(seed)
    chainrule.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                              dataset=dataset)
    init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = _create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
    except Exception:
        init_error = _ExceptionWrapper(f"in DataLoader worker process {worker_id}")
    ended = False
    try:
        while True:
            try:
                task = index_queue.get(timeout=_POLL_S)
            except queue.Empty:
                if os.getppid() != parent_pid:
                    done_event.set()
                    break
                continue
            if task is None:
                break
            idx, index = task
            if idx == "resume":
                # a persistent worker starts a new epoch
                if init_error is None:
                    fetcher = _create_fetcher(iterable, dataset, auto_collation, collate_fn,
                                              drop_last)
                ended = False
                _send(data_queue, "resume", None, worker_id)
                continue
            if init_error is not None:
                data, init_error = init_error, None
            elif ended:
                data = _IterableDatasetStopIteration(worker_id)
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if not iterable:
                        data = _ExceptionWrapper(f"in DataLoader worker process {worker_id}")
                    else:
                        data = _IterableDatasetStopIteration(worker_id)
                        ended = True
                except Exception:
                    data = _ExceptionWrapper(f"in DataLoader worker process {worker_id}")
            _send(data_queue, idx, data, worker_id)
            del data
    except KeyboardInterrupt:
        done_event.set()
    if done_event.is_set():
        # the parent is shutting down and reads nothing more: don't wait to flush
        data_queue.cancel_join_thread()
    # otherwise (an iterable dataset ran out) the process exits only once its last results
    # are fully written, so that no message is cut and the shared write lock is released
    data_queue.close()
