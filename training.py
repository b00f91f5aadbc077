"""Training plumbing shared by every generator: device, held-out split, dataset, checkpoints.

The generator scripts hold only their method (networks, losses, `generate`); everything a
training run needs around the method lives here once.
"""
import os
from pathlib import Path

import torch

MODELS_ROOT = Path("data/models")
VALIDATION_FRACTION = 0.1  # the last 10 % of the target's frames, in time order, are never trained on


class CheckpointError(Exception):
    """A checkpoint that is missing, unreadable, or made for another generator or target."""


def pick_device(name=None):
    """CUDA, then Apple MPS, then CPU; `name` ("cpu", "cuda", "cuda:1", "mps") forces one."""
    if name:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def default_checkpoint(video_skeleton, generator_name):
    """data/models/<target cache name>/<generator>.pt: where a trained generator is looked for."""
    return MODELS_ROOT / video_skeleton.name / f"{generator_name}.pt"


def split_indices(n_frames, validation_fraction=VALIDATION_FRACTION):
    """(train indices, validation indices): the validation part is the contiguous last 10 %.

    A random split would put near-identical neighbouring frames on both sides and flatter the model.
    """
    n_validation = max(1, int(round(n_frames * validation_fraction))) if n_frames > 1 else 0
    return list(range(n_frames - n_validation)), list(range(n_frames - n_validation, n_frames))


def save_atomically(obj, path):
    """torch.save to a temporary file, then rename: a crash never leaves half a checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(obj, partial)
    os.replace(partial, path)
    return path
