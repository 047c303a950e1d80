"""Devices, threads and the collectives of a run under ``torchrun`` (DDP); every helper also works without it.

Under ``torchrun`` (``WORLD_SIZE`` > 1) the loop wraps the model in DistributedDataParallel (gloo on CPU, nccl
on CUDA); gradients are averaged over ranks, rank 0 evaluates and writes every file. At each checkpoint all
ranks hash their weights, and a divergence is an error (the hashes are recorded).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

import torch
import torch.distributed as dist

from andimamba.errors import UserError
from andimamba.nn.model import ModelConfig

__all__ = ["resolve_device", "pin_threads", "process_group", "rank_and_world", "gather", "barrier"]


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``"auto"`` → CUDA if available else CPU; ``"cuda"`` → the process's local GPU under torchrun."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError("device cuda requested but no CUDA GPU is available (use --device cpu)")
        return torch.device("cuda", local_rank) if name == "cuda" else torch.device(name)
    return torch.device(name)


def pin_threads(n: int, model: ModelConfig, device: torch.device) -> None:
    """Use ``n`` torch threads for the whole run.

    numba's OpenMP pool, started by the first fused-scan call, resets the process-wide OpenMP thread count
    to numba's own; so start it now (one tiny scan), then set ``n``. Otherwise the count would change in the
    middle of the first step, and a resumed run would not repeat the uninterrupted one's arithmetic.
    """
    if model.arch == "bimamba" and device.type == "cpu" and model.scan_impl in ("auto", "fused"):
        from andimamba.nn.scan import fused_available, scan_fused

        if fused_available():
            z = torch.zeros(1, 2, 8)  # (b, l, d)
            scan_fused(z, z + 1, -torch.ones(8, 2), torch.zeros(1, 2, 2), torch.zeros(1, 2, 2))
    torch.set_num_threads(n)


@contextmanager
def process_group(device: torch.device) -> Iterator[None]:
    """Join the ``torchrun`` process group for the block (when ``WORLD_SIZE`` > 1 and none is joined yet)."""
    created = False
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        created = True
    try:
        yield
    finally:
        if created:
            dist.destroy_process_group()


def rank_and_world() -> tuple[int, int]:
    """(rank of this process, number of processes); (0, 1) without torch.distributed."""
    return (dist.get_rank(), dist.get_world_size()) if dist.is_available() and dist.is_initialized() else (0, 1)


def gather(obj: Any) -> list[Any]:
    """``obj`` of every rank, in rank order (``[obj]`` without torch.distributed)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def barrier() -> None:
    """Wait for every rank (nothing without torch.distributed)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
