"""Training plumbing shared by every network generator: device, held-out split, dataset,
checkpoints, the training loop with its budget, and distributed training.

The generator scripts hold only their method (networks, losses, one optimisation step); all a
training run needs around the method lives here once. A method is a `TrainingMethod` with
    name, size, device, networks (dict of modules, "generator" among them, and AVERAGE if the
    generator's weights are averaged: the loop updates it, and it is what generates), optimizers (dict),
    input_kind ("vector" or "image"), model_args (dict: the architecture, what a checkpoint must
    match to be resumed; loss weights and learning rates are run options, kept in its config),
    training_step(batch: Batch) -> dict of float losses, make_datasets (PairDatasets by default), and
    needs_drawings (whether its training batches carry the drawn skeletons, for a conditional critic),
and `TrainedGenerator` turns its saved network back into `generate(skeleton, view)`. Every network
outputs the person's colour and an alpha (networks.composite): the image is the person over the
target's scene, rendered for each crop's camera, and alpha is trained towards the cached person masks.
"""
import argparse
import copy
import math
import os
import random
import sys
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from generators import Generator
from networks import composite
from paths import MODELS_ROOT
from Skeleton import Skeleton, steady_sequence
from video_io import image_grid
from VideoSkeleton import (CACHE_ROOT, VALIDATION_FRACTION, VideoSkeleton, VideoSkeletonError,  # noqa: F401
                           split_indices)  # (the held-out split is the cache's)


INTERRUPTED = 130  # the exit status after Ctrl-C (128 + SIGINT), as shells report it
CHECKPOINT_FORMAT = 2  # 2: generators output a person and an alpha, drawn over the scene
SEQUENCE_POSE_SIGMA = 1.5  # (frames) a sequence's poses are steadied in time before a network sees them
# (Skeleton.steady_sequence): MediaPipe's landmarks shake by a few pixels from frame to frame, and a
# network that moves the target's pixels with the pose would carry its clothes with that shake.
# Nearest neighbour does not: its poses only choose whole frames, and steadied ones make it hold more


class CheckpointError(Exception):
    """A checkpoint that is missing, unreadable, or made for another generator or target."""


# --- device and distribution ------------------------------------------------------------------
def pick_device(name=None):
    """CUDA, then Apple MPS, then CPU; `name` ("cpu", "cuda", "cuda:1", "mps") forces one."""
    if name:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def autocast_for(device):
    """Mixed precision on CUDA (bfloat16, no loss scaling needed); full precision elsewhere."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def setup_distributed(device_name=None):
    """(device, rank, world_size). Under `torchrun` this joins the process group: gloo on CPU,
    nccl on GPU, one GPU per local rank."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return pick_device(device_name), 0, 1
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device, rank, world_size


def wrap_distributed(module, device):
    """DistributedDataParallel when running under torchrun, the module itself otherwise."""
    if not (dist.is_available() and dist.is_initialized()):
        return module
    from torch.nn.parallel import DistributedDataParallel
    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


def unwrap(module):
    return module.module if hasattr(module, "module") else module


# --- generator weight average ---------------------------------------------------------------------
AVERAGE = "generator_average"  # a method's network of this name is its generator's weight average
AVERAGE_MAX_DECAY = 0.999


def weight_average(network):
    """A copy of a generator to hold the exponential moving average of its weights (Karras et al.,
    2018; Yazici et al., 2019). A GAN's generator oscillates from step to step as it chases the
    critic; the average sits near the middle of that orbit, and it is what is saved for generating."""
    average = copy.deepcopy(unwrap(network))
    average.requires_grad_(False)
    return average


@torch.no_grad()
def update_average(average, network, step, max_decay=AVERAGE_MAX_DECAY):
    """average <- decay * average + (1 - decay) * network, after optimisation step `step` (1, 2, ...).
    decay = (1 + step) / (10 + step), at most max_decay: the average spans about the last tenth of a
    short run, and the last 1000 steps of a long one. Batch-norm statistics are averaged alike."""
    decay = min(max_decay, (1 + step) / (10 + step))
    for averaged, current in zip(average.state_dict().values(), unwrap(network).state_dict().values()):
        if averaged.dtype.is_floating_point:
            averaged.lerp_(current, 1 - decay)
        else:  # counters
            averaged.copy_(current)


def generating_network(networks):
    """What generates from a method's networks (or a checkpoint's weights): the average if kept."""
    return networks.get(AVERAGE, networks["generator"])


# --- data ---------------------------------------------------------------------------------------
def images_to_tensor(images):
    """uint8 BGR (N, H, W, 3) -> float RGB (N, 3, H, W) in [-1, 1]: the only way in."""
    array = np.ascontiguousarray(np.asarray(images)[..., ::-1])
    return torch.from_numpy(array).permute(0, 3, 1, 2).float().div(127.5).sub(1)


def tensor_to_images(tensor):
    """float RGB (N, 3, H, W) in [-1, 1] -> uint8 BGR (N, H, W, 3): the only way out."""
    array = tensor.detach().float().clamp(-1, 1).add(1).mul(127.5).round().byte()
    return np.ascontiguousarray(array.permute(0, 2, 3, 1).cpu().numpy()[..., ::-1])


def skeleton_inputs(skeletons, input_kind, size):
    """What a network sees of a list of skeletons: (N, 26) reduced vectors in [-1, 1], or the
    drawn skeleton images (N, 3, size, size) in [-1, 1]."""
    if input_kind == "vector":
        vectors = np.stack([s.reduced() for s in skeletons])  # (N, 26), 0..1 inside the crop
        return torch.from_numpy(vectors).float().mul(2).sub(1)
    return images_to_tensor(np.stack([s.to_image(size) for s in skeletons]))


def resize_crop(crop, size):
    """A cached crop (uint8 BGR) at a generator's resolution: area averaging down, linear up."""
    if crop.shape[0] == size:
        return crop
    interpolation = cv2.INTER_AREA if size < crop.shape[0] else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interpolation)


def masks_to_tensor(masks):
    """uint8 (N, H, W) person masks 0..255 -> float (N, 1, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(masks)).float().div(255).unsqueeze(1)


@dataclass
class Batch:
    """What one training step sees, all (B, ., S, S) but the vector inputs."""
    inputs: torch.Tensor  # (B, 26) or (B, C, S, S): the skeleton (and whatever else the method feeds)
    real: torch.Tensor  # (B, 3, S, S) in [-1, 1]: the real crops
    mask: torch.Tensor  # (B, 1, S, S) in [0, 1]: their person masks, alpha's target
    background: torch.Tensor = None  # (B, 3, S, S) in [-1, 1]: the scene behind each crop; None if unknown
    drawings: torch.Tensor = None  # (B, 3, S, S) in [-1, 1]: the drawn skeletons a conditional critic
    # judges against, whatever the network's input; None unless the dataset was asked for them
    previous: "Batch" = None  # the frame just before each of these (training on consecutive pairs), or None
    motion: torch.Tensor = None  # (B, 2, S, S): where each pixel of these frames was in the previous ones
    # (x, y in [-1, 1], grid_sample's convention); None without `previous`

    def to(self, device):
        return Batch(*(None if value is None else value.to(device)
                       for value in (self.inputs, self.real, self.mask, self.background, self.drawings,
                                     self.previous, self.motion)))


def augmentation(rng, size):
    """A random shift and scale of a few percent about the image centre: (2x3 matrix, scale, shift)."""
    scale = 1 + rng.uniform(-0.05, 0.05)
    shift = rng.uniform(-0.05, 0.05, size=2)
    centre = 0.5 * (1 - scale)
    matrix = np.array([[scale, 0, (centre + shift[0]) * size],
                       [0, scale, (centre + shift[1]) * size]], dtype=np.float32)
    return matrix, scale, centre + shift


class PairDataset:
    """(skeleton input, person crop, person mask, scene background) of some frames of a
    VideoSkeleton, at `size`.

    Crops, masks and backgrounds (the target's scene rendered for each frame's own camera and
    crop box; none when the scene is not registrable) are resized or rendered once and kept as
    uint8; skeleton images are drawn once. With `augment`, each pair is shifted and scaled by a few
    percent, the skeleton redrawn to match, so the network learns that a pose moved a little
    yields the same person moved a little. With `drawings`, each batch also carries the drawn
    skeletons (Batch.drawings): the inputs themselves when they are drawings, drawn per batch otherwise.
    """

    frames_per_item = 1  # frames in one item of the dataset (a step takes batch_size frames' worth of items)
    item_name = "pairs"  # what an item is, for the training log

    def __init__(self, video_skeleton, indices, size, input_kind, augment=False, drawings=False):
        self.indices = list(indices)
        self.size, self.input_kind, self.augment, self.with_drawings = size, input_kind, augment, drawings
        self.images = np.stack([resize_crop(video_skeleton.image(i), size) for i in self.indices])  # (N, S, S, 3)
        self.masks = np.stack([resize_crop(video_skeleton.mask(i), size) for i in self.indices])  # (N, S, S)
        self.backgrounds = video_skeleton.backgrounds([video_skeleton.view(i) for i in self.indices], size)  # or None
        self.skeletons = [video_skeleton.skeleton(i) for i in self.indices]
        self.inputs = skeleton_inputs(self.skeletons, input_kind, size)  # (N, 26) or (N, 3, S, S)

    def __len__(self):
        return len(self.indices)

    def batch(self, positions, rng=None):
        """The Batch of some dataset positions; augmented when enabled and rng given."""
        if not (self.augment and rng is not None):
            skeletons = [self.skeletons[p] for p in positions]
            inputs, images, masks = self.inputs[positions], self.images[positions], self.masks[positions]
            backgrounds = None if self.backgrounds is None else self.backgrounds[positions]
        else:
            skeletons, images, masks, backgrounds = self.augmented(positions, rng)
            inputs = skeleton_inputs(skeletons, self.input_kind, self.size)
        return self.make_batch(inputs, images, masks, backgrounds, self.drawings_of(skeletons, inputs))

    def drawings_of(self, skeletons, inputs):
        """A batch's drawn skeletons (B, 3, S, S) if the dataset was asked for them, else None."""
        if not self.with_drawings:
            return None
        return inputs if self.input_kind == "image" else skeleton_inputs(skeletons, "image", self.size)

    @staticmethod
    def make_batch(inputs, images, masks, backgrounds, drawings=None):
        return Batch(inputs, images_to_tensor(images), masks_to_tensor(masks),
                     None if backgrounds is None else images_to_tensor(backgrounds), drawings)

    def augmented(self, positions, rng, transforms=None):
        """(skeletons, images (B, S, S, 3), masks (B, S, S), backgrounds (B, S, S, 3) or None) of
        the pairs, each shifted and scaled a little, all layers alike; `transforms`: the
        `augmentation` of each pair, drawn from rng when not given."""
        skeletons, images, masks, backgrounds = [], [], [], []
        if transforms is None:
            transforms = [augmentation(rng, self.size) for _ in positions]
        for position, (matrix, scale, shift) in zip(positions, transforms):
            warp = lambda image: cv2.warpAffine(image, matrix, (self.size, self.size), borderMode=cv2.BORDER_REFLECT)
            images.append(warp(self.images[position]))
            masks.append(warp(self.masks[position]))
            if self.backgrounds is not None:
                backgrounds.append(warp(self.backgrounds[position]))
            skeletons.append(self.skeletons[position].transformed(scale, shift))
        return skeletons, np.stack(images), np.stack(masks), np.stack(backgrounds) if backgrounds else None


class TrainingMethod:
    """What every training method shares: by default it trains on PairDatasets of the skeleton
    (a method that feeds its network more than the skeleton overrides `make_datasets`)."""

    needs_drawings = False  # True: training batches carry the drawn skeletons (Batch.drawings)

    def make_datasets(self, video_skeleton, train_ids, validation_ids, augment=False):
        """(training pairs, held-out pairs)."""
        return (PairDataset(video_skeleton, train_ids, self.size, self.input_kind, augment, self.needs_drawings),
                PairDataset(video_skeleton, validation_ids, self.size, self.input_kind))


def epoch_batches(n_items, batch_size, epoch, seed, rank=0, world_size=1):
    """Shuffled batches of positions for one epoch; under DDP each rank takes its own share of
    the same permutation, so ranks never see the same pair in one epoch."""
    permutation = np.random.default_rng(seed + epoch).permutation(n_items)
    share = permutation[rank::world_size]
    n_batches = max(1, len(share) // batch_size)  # drop the ragged end: batch norm needs full batches
    return [share[b * batch_size:(b + 1) * batch_size] for b in range(n_batches)]


# --- checkpoints ----------------------------------------------------------------------------------
def default_checkpoint(video_skeleton, generator_name):
    """data/models/<target cache name>/<generator>.pt: where a trained generator is looked for."""
    return MODELS_ROOT / video_skeleton.name / f"{generator_name}.pt"


def save_atomically(obj, path):
    """torch.save to a temporary file, then rename: a crash never leaves half a checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(obj, partial)
    os.replace(partial, path)
    return path


def load_checkpoint(path, generator_name=None):
    """Read a checkpoint and check it belongs to `generator_name` (one of its accepted names)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:
        raise CheckpointError(f"cannot read checkpoint {path}: {type(error).__name__}") from None
    if not isinstance(checkpoint, dict) or "format" not in checkpoint:
        raise CheckpointError(f"{path} is not a Dance Transfer checkpoint")
    if checkpoint["format"] != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} was saved by an older version (checkpoint format {checkpoint['format']}, "
                              f"this one reads {CHECKPOINT_FORMAT}: generators now draw the person over the scene); "
                              f"train it again")
    names = [generator_name] if isinstance(generator_name, str) else generator_name
    if names and checkpoint["generator"] not in names:
        raise CheckpointError(f"{path} holds a '{checkpoint['generator']}' generator, not '{'/'.join(names)}'")
    return checkpoint


def load_weights(network, state_dict, checkpoint_path):
    """Load saved weights, turning an architecture mismatch (a checkpoint from another version of the
    code) into a clear CheckpointError instead of a wall of tensor names."""
    try:
        network.load_state_dict(state_dict)
    except (RuntimeError, KeyError) as error:
        first_line = str(error).splitlines()[1].strip() if len(str(error).splitlines()) > 1 else str(error)
        raise CheckpointError(f"{checkpoint_path} does not fit this version's network ({first_line}); "
                              f"train it again") from None


def make_checkpoint(method, target_name, config, progress):
    """Everything needed to rebuild, resume or reproduce: weights, architecture, options, state."""
    return {
        "format": CHECKPOINT_FORMAT,
        "generator": method.name,
        "size": method.size,
        "input_kind": method.input_kind,
        "model_args": method.model_args,
        "target": target_name,
        "networks": {name: unwrap(net).state_dict() for name, net in method.networks.items()},
        "optimizers": {name: opt.state_dict() for name, opt in method.optimizers.items()},
        "config": config,
        "progress": progress,  # epoch, step, seconds, history
        "versions": {"torch": torch.__version__},
    }


def open_target_cache(target_name, checkpoint_path):
    """The target's VideoSkeleton cache under data/cache/, or a clear CheckpointError."""
    try:
        return VideoSkeleton(CACHE_ROOT / target_name, verbose=False)
    except VideoSkeletonError:
        raise CheckpointError(f"{checkpoint_path} draws on its target's frames and scene, but their cache "
                              f"{CACHE_ROOT / target_name} is missing: run VideoSkeleton.py on the target video") from None


def steadied(skeletons, sigma_frames=SEQUENCE_POSE_SIGMA):
    """The consecutive skeletons of a sequence, each landmark's x and y smoothed along time by a
    Gaussian of `sigma_frames` (Skeleton.steady_sequence); a list of new Skeletons."""
    if not skeletons:
        return []
    landmarks = steady_sequence(np.stack([skeleton.landmarks for skeleton in skeletons]), sigma_frames)  # (N, 33, 4)
    return [Skeleton(pose) for pose in landmarks]


class TrainedGenerator(Generator):
    """A trained network as a generator (generators.Generator): `generate(skeleton, view)` -> HxWx3
    uint8 BGR image, the person over the scene of the view (scene.View; the target's typical view
    by default).

    Subclasses set `name` (or `names`, the generators a checkpoint of theirs may hold) and
    `build_network(size, model_args)`; everything else (loading, device, batching, conversion,
    compositing) is shared.
    """

    name = None

    def __init__(self, target=None, checkpoint=None, device=None, names=None):
        """`target`: the target's VideoSkeleton, whose scene the person is drawn over (and whose
        frames a generator may draw on); None: the checkpoint's target cache under data/cache/.
        `checkpoint`: by default the target's own, data/models/<target>/<name>.pt (the course form
        `GenGAN(video_skeleton)`). `names`: the generators the checkpoint may hold (default the class's)."""
        names = names or self.accepted_names()
        if checkpoint is None:
            if target is None:
                raise CheckpointError("give a checkpoint or a target (whose default checkpoint is used)")
            checkpoint = default_checkpoint(target, names[0])
        checkpoint_data = load_checkpoint(checkpoint, names)
        self.checkpoint_path = Path(checkpoint)
        self.name = checkpoint_data["generator"]
        self.size = checkpoint_data["size"]
        self.input_kind = checkpoint_data["input_kind"]
        self.model_args = checkpoint_data["model_args"]
        self.composites = self.model_args["composite"]
        self.config, self.trained = checkpoint_data["config"], checkpoint_data["progress"]
        self.versions = checkpoint_data["versions"]
        self.device = pick_device(device)
        try:
            self.network = self.build_network(checkpoint_data["size"], checkpoint_data["model_args"])
        except KeyError as missing:
            raise CheckpointError(f"{checkpoint} does not fit this version's network (its arguments lack {missing}); "
                                  f"train it again") from None
        load_weights(self.network, generating_network(checkpoint_data["networks"]), checkpoint)
        self.network.to(self.device).eval()
        trained_on = checkpoint_data["target"]
        self.target = target or open_target_cache(trained_on, self.checkpoint_path)
        if self.target.name != trained_on:
            raise CheckpointError(f"{self.checkpoint_path} was trained on another target ({trained_on}), "
                                  f"not {self.target.name}")

    @classmethod
    def accepted_names(cls):
        return [cls.name]

    @staticmethod
    def build_network(size, model_args):
        raise NotImplementedError

    @torch.no_grad()
    def run_network(self, input_batches):
        """Batches of network inputs (an iterable, made one at a time) -> (person (N, S, S, 3) uint8
        BGR, alpha (N, S, S) float32 in [0, 1], or None if this generator does not composite)."""
        return self.layers_of(self.network_output(inputs) for inputs in input_batches)

    @torch.no_grad()
    def network_output(self, inputs, *state):
        """(B, 4, S, S) float32 of the network on a batch of its inputs (and whatever state it carries)."""
        with autocast_for(self.device):
            return self.network(inputs.to(self.device), *state).float()

    def layers_of(self, outputs):
        """Network outputs (B, 4, S, S), an iterable -> (person (N, S, S, 3) uint8 BGR, alpha (N, S, S)
        float32 in [0, 1], or None if this generator does not composite)."""
        persons, alphas = [], []
        for output in outputs:
            persons.append(tensor_to_images(output[:, :3]))
            alphas.append(output[:, 3].add(1).div(2).clamp(0, 1).cpu().numpy())
        if not persons:
            return np.zeros((0, self.size, self.size, 3), np.uint8), np.zeros((0, self.size, self.size), np.float32)
        return np.concatenate(persons), np.concatenate(alphas) if self.composites else None

    def plan(self, skeletons, sequence):
        """What a subclass decides for all the skeletons at once before generating (GenGAN: each
        pose's exemplar, along one path for a sequence): an (N,) array, or None."""
        return None

    def network_inputs(self, skeletons, plan=None):
        """What the network is fed for a list of skeletons and their share of the plan."""
        return skeleton_inputs(skeletons, self.input_kind, self.size)

    def generate_layers(self, skeletons, sequence=False, batch_size=32):
        """(person (N, S, S, 3) uint8 BGR, alpha (N, S, S) float32 or None) before compositing.
        sequence: the skeletons are the consecutive frames of one sequence, steadied in time
        (`steadied`) and then generated by `sequence_layers`."""
        if sequence:
            return self.sequence_layers(steadied(skeletons), batch_size)
        return self.generate_planned(skeletons, self.plan(skeletons, sequence=False), batch_size)

    def sequence_layers(self, skeletons, batch_size=32):
        """generate_layers of a sequence whose poses are already steadied (a subclass may carry a state)."""
        return self.generate_planned(skeletons, self.plan(skeletons, sequence=True), batch_size)

    def generate_planned(self, skeletons, plan, batch_size=32):
        """generate_layers for skeletons whose plan is already made (or None), batch by batch."""
        return self.run_network(
            self.network_inputs(skeletons[start:start + batch_size], None if plan is None else plan[start:start + batch_size])
            for start in range(0, len(skeletons), batch_size))

    def budget(self):
        """What training cost: epochs, steps, wall time, batch and device, from the checkpoint."""
        return {"kind": "trained", "checkpoint": str(self.checkpoint_path), "epochs": self.trained["epoch"],
                "steps": self.trained["step"], "seconds": round(self.trained["seconds"], 1),
                "minutes_limit": self.config.get("minutes"), "epochs_limit": self.config.get("epochs"),
                "batch_size": self.config.get("batch_size"), "augment": self.config.get("augment"),
                "device": self.config.get("device"), "torch": self.versions.get("torch")}


# --- the training loop ------------------------------------------------------------------------------
def reconstruction(output, batch):
    """What every network generator's losses start from: (the composite (B, 3, S, S), its L1
    against the real crops, the L1 of alpha against the person masks: 0 without a scene)."""
    image, alpha = composite(output.float(), batch.background)
    mask_l1 = F.l1_loss(alpha, batch.mask) if batch.background is not None else image.new_zeros(())
    return image, F.l1_loss(image, batch.real), mask_l1


def add_training_arguments(parser, default_size, sizes, mask_weight):
    """The options every network generator's command line shares; default_size: its words for --size's
    default (e.g. "128", or "256 on a GPU, 128 on a CPU")."""
    parser.add_argument("target", help="target video, or its cache folder")
    parser.add_argument("legacy", nargs="*", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, choices=sizes, default=None,
                        help=f"output resolution (default {default_size}; a resumed run keeps its own)")
    parser.add_argument("--epochs", type=int, default=200, help="stop after this many epochs (default 200)")
    parser.add_argument("--minutes", type=float, default=None, help="stop cleanly after this many minutes of training")
    parser.add_argument("--batch-size", type=int, default=8, help="pairs per step, per process (default 8)")
    parser.add_argument("--lr", type=float, default=2e-4, help="learning rate (default 2e-4)")
    parser.add_argument("--mask-weight", type=float, default=mask_weight,
                        help=f"weight of alpha's L1 against the cached person masks (default {mask_weight:g})")
    parser.add_argument("--lr-decay", type=float, default=0.0, metavar="FRACTION",
                        help="let the learning rate fall linearly to zero over this last fraction of the budget "
                             "(epochs or minutes, whichever ends first; pix2pix uses 0.5). A resumed run extends "
                             "the budget and decays to zero at its new end. Default 0: constant")
    parser.add_argument("--augment", action="store_true",
                        help="shift and scale each training pair by up to 5%%, so that the network generalises "
                             "to a pose moved a little")
    parser.add_argument("--seed", type=int, default=0, help="random seed: the same seed repeats a run")
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    parser.add_argument("--checkpoint", default=None, help="checkpoint path (default data/models/<target>/<generator>.pt)")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument("--save-minutes", type=float, default=2.0, help="also save every this many minutes (default 2)")
    parser.add_argument("--every", type=int, default=1, help="VideoSkeleton: keep one frame in N (default 1)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: all cores)")
    parser.add_argument("--dry-run", action="store_true", help="run one batch end to end and exit (smoke test)")
    return parser


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def log(rank, *message):
    if rank == 0:
        print(*message, flush=True)


def save_progress_images(method, dataset, fixed_positions, history, out_stem):
    """The fixed validation grid (skeleton | generated | its alpha | real, one row per pose) and the loss curve."""
    generator = unwrap(generating_network(method.networks))
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        batch = dataset.batch(fixed_positions).to(method.device)
        image, alpha = composite(generator(batch.inputs).float(), batch.background)
        generated = tensor_to_images(image)
        alphas = alpha[:, 0].mul(255).round().byte().cpu().numpy()  # (B, S, S)
    generator.train(was_training)
    rows = [[dataset.skeletons[position].to_image(dataset.size), fake, cv2.cvtColor(alpha, cv2.COLOR_GRAY2BGR), real]
            for position, fake, alpha, real in zip(fixed_positions, generated, alphas, dataset.images[fixed_positions])]
    cv2.imwrite(f"{out_stem}_grid.png", image_grid(rows))
    plot_losses(history, f"{out_stem}_losses.png")


def plot_losses(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    if not history:
        return
    figure, axis = plt.subplots(figsize=(7, 4))
    steps = [entry["step"] for entry in history]
    for key in history[-1]:
        if key not in ("step", "epoch"):
            axis.plot(steps, [entry.get(key, np.nan) for entry in history], label=key)
    axis.set_xlabel("step")
    axis.set_yscale("log")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


class Budget:
    """How far training is through its budget, 0 -> 1: the larger of its share of the epochs and of
    the minutes, counting the runs it resumes. Every process of a distributed run is given the same
    figures (the slowest clock), so they stop at the same step and set the same learning rate."""

    def __init__(self, args, progress, steps_per_epoch, world_size):
        self.started = time.time()
        self.seconds_before = progress["seconds"]
        self.total_seconds = self.seconds_before + (args.minutes * 60 if args.minutes else math.inf)
        self.total_steps = args.epochs * steps_per_epoch
        self.world_size = world_size
        self.time_fraction = self.step_fraction = 0.0

    def spent_seconds(self):
        """Training time of all runs so far."""
        return self.seconds_before + time.time() - self.started

    def update(self, step):
        fractions = torch.tensor([self.spent_seconds() / self.total_seconds, step / self.total_steps],
                                 dtype=torch.float64)
        if self.world_size > 1:
            dist.all_reduce(fractions, op=dist.ReduceOp.MAX)
        self.time_fraction, self.step_fraction = fractions.tolist()

    @property
    def fraction(self):
        return max(self.time_fraction, self.step_fraction)

    @property
    def out_of_time(self):
        return self.time_fraction >= 1


def learning_rate_factor(fraction, decay_fraction):
    """pix2pix's schedule: constant, then linear to zero over the last `decay_fraction` of the budget."""
    if decay_fraction <= 0:
        return 1.0
    return float(np.clip((1 - fraction) / decay_fraction, 0.0, 1.0))


def set_learning_rates(optimizers, factor):
    """Scale every optimizer's starting learning rate (kept in its state, so a resumed run has it)."""
    for optimizer in optimizers.values():
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = group["initial_lr"] * factor


def train(method, video_skeleton, args, rank=0, world_size=1):
    """The one training loop: epochs of steps within a budget, a progress line, periodic saves,
    a validation figure and grid per epoch, and a clean stop on Ctrl-C: it saves, then raises
    KeyboardInterrupt again."""
    checkpoint_path = Path(args.checkpoint or default_checkpoint(video_skeleton, method.name))
    out_stem = str(checkpoint_path.with_suffix(""))
    train_ids, validation_ids = split_indices(len(video_skeleton))
    train_set, validation_set = method.make_datasets(video_skeleton, train_ids, validation_ids, args.augment)
    fixed = np.linspace(0, len(validation_set) - 1, min(6, len(validation_set))).astype(int)
    progress = {"epoch": 0, "step": 0, "seconds": 0.0, "history": []}
    if args.resume:
        checkpoint = load_checkpoint(checkpoint_path, method.name)
        restore(method, checkpoint, checkpoint_path)
        progress = checkpoint["progress"]
        log(rank, f"resumed {checkpoint_path} at epoch {progress['epoch']}, step {progress['step']}")
    config = {k: v for k, v in vars(args).items() if k not in ("legacy",)}
    config["device"] = str(method.device)  # the device actually used, also when chosen automatically
    log(rank, f"{method.name}: {len(train_set)} training {train_set.item_name}, {len(validation_set)} held out, "
              f"{method.size}x{method.size}, device {method.device}, {world_size} process(es), "
              f"batch {args.batch_size}, {parameter_summary(method)}")
    rng = np.random.default_rng(args.seed + 1000 * rank + progress["step"])
    items_per_step = max(1, args.batch_size // train_set.frames_per_item)  # a step sees batch_size frames
    steps_per_epoch = len(epoch_batches(len(train_set), items_per_step, 0, args.seed, rank, world_size))
    budget = Budget(args, progress, steps_per_epoch, world_size)
    budget.update(progress["step"])
    last_save = time.time()

    def save(path):
        progress["seconds"] = budget.spent_seconds()
        save_atomically(make_checkpoint(method, video_skeleton.name, config, progress), path)

    stop_reason = "epochs done"
    try:
        while progress["epoch"] < args.epochs:
            batches = epoch_batches(len(train_set), items_per_step, progress["epoch"], args.seed, rank, world_size)
            bar = tqdm(batches, desc=f"epoch {progress['epoch'] + 1}/{args.epochs}", disable=None if rank == 0 else True, leave=False)  # bars on a terminal only
            totals, n_steps = {}, 0
            for positions in bar:
                lr_factor = learning_rate_factor(budget.fraction, args.lr_decay)
                set_learning_rates(method.optimizers, lr_factor)
                losses = method.training_step(train_set.batch(positions, rng).to(method.device))
                progress["step"] += 1
                if AVERAGE in method.networks:
                    update_average(method.networks[AVERAGE], method.networks["generator"], progress["step"])
                n_steps += 1
                for key, value in losses.items():
                    totals[key] = totals.get(key, 0.0) + value
                bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()})
                budget.update(progress["step"])
                if args.dry_run or budget.out_of_time:
                    break
                if rank == 0 and time.time() - last_save > args.save_minutes * 60:
                    save(checkpoint_path)
                    last_save = time.time()
            progress["epoch"] += 1
            entry = {"epoch": progress["epoch"], "step": progress["step"],
                     **{k: v / n_steps for k, v in totals.items()},
                     "val_l1": validation_l1(method, validation_set)}
            progress["history"].append(entry)
            log(rank, "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in entry.items())
                + f"  lr x{lr_factor:.2f}  ({time.time() - budget.started:.0f} s)")
            if args.dry_run:
                stop_reason = "dry run"
                break
            if budget.out_of_time:
                stop_reason = f"budget of {args.minutes} min reached"
                break
            if rank == 0:
                save(checkpoint_path)
                save_progress_images(method, validation_set, fixed, progress["history"], out_stem)
    except KeyboardInterrupt:
        stop_reason = "interrupted"
    if world_size > 1:
        check_ranks_agree(method, rank)
    if rank == 0:
        if args.dry_run:  # exercise the save path without touching a real checkpoint
            with tempfile.TemporaryDirectory() as folder:
                save(Path(folder) / "dry.pt")
        else:
            save(checkpoint_path)
            save_progress_images(method, validation_set, fixed, progress["history"], out_stem)
            log(rank, f"{stop_reason}: saved {checkpoint_path} (epoch {progress['epoch']}, step {progress['step']}), "
                      f"grid {out_stem}_grid.png, losses {out_stem}_losses.png")
    if stop_reason == "interrupted":
        raise KeyboardInterrupt
    return checkpoint_path


def check_ranks_agree(method, rank):
    """Under DDP every process must end with the same weights; rank 0 saves for all of them."""
    for name, network in method.networks.items():
        weights = torch.cat([p.detach().flatten().float() for p in unwrap(network).parameters()]).cpu()
        highest, lowest = weights.clone(), weights.clone()
        dist.all_reduce(highest, op=dist.ReduceOp.MAX)
        dist.all_reduce(lowest, op=dist.ReduceOp.MIN)
        if not torch.equal(highest, lowest):
            raise RuntimeError(f"the {name} weights differ between processes")
    log(rank, f"weights identical on all {dist.get_world_size()} processes")


def restore(method, checkpoint, checkpoint_path):
    """Load weights and optimizer state into a freshly built method, refusing another architecture
    (loss weights and learning rates may change between runs)."""
    saved = checkpoint["model_args"]
    if checkpoint["size"] != method.size or saved != method.model_args:
        differing = [f"{key}={saved.get(key)}" for key in sorted(set(saved) | set(method.model_args))
                     if saved.get(key) != method.model_args.get(key)]
        size = checkpoint["size"]
        described = ", ".join([f"{size}x{size}"] + differing)
        raise CheckpointError(f"{checkpoint_path} holds another network ({described}): "
                              f"resume with the options it was trained with")
    for name, network in method.networks.items():
        load_weights(unwrap(network), checkpoint["networks"][name], checkpoint_path)
    for name, optimizer in method.optimizers.items():
        optimizer.load_state_dict(checkpoint["optimizers"][name])


@torch.no_grad()
def validation_l1(method, validation_set, batch_size=32):
    """Mean absolute error on held-out pairs, RGB in [0, 1] (the EVALUATION.md scale), of what generates."""
    generator = unwrap(generating_network(method.networks))
    generator.eval()
    total = 0.0
    for start in range(0, len(validation_set), batch_size):
        positions = np.arange(start, min(start + batch_size, len(validation_set)))
        batch = validation_set.batch(positions).to(method.device)
        with autocast_for(method.device):
            output = generator(batch.inputs).float()
        generated, _ = composite(output, batch.background)
        total += (generated - batch.real).abs().sum().item() / 2  # [-1,1] -> [0,1]
    generator.train()
    return total / (len(validation_set) * 3 * method.size ** 2)


def parameter_summary(method):
    return ", ".join(f"{name} {sum(p.numel() for p in net.parameters()) / 1e6:.2f} M parameters"
                     for name, net in method.networks.items() if name != AVERAGE)


def run_training(method_factory, args, default_size, cpu_default_size=None):
    """Everything between the command line and `train`: resolve the target, size, device and
    processes, build the method, train, and turn user errors into one clear line; Ctrl-C exits
    with status INTERRUPTED once training has saved."""
    from VideoSkeleton import VideoSkeleton, VideoSkeletonError
    try:
        device, rank, world_size = setup_distributed(args.device)
        if args.threads:
            torch.set_num_threads(args.threads)
        video_skeleton = VideoSkeleton(args.target, every=args.every, verbose=rank == 0)
        checkpoint_path = Path(args.checkpoint or default_checkpoint(video_skeleton, method_factory.name))
        size = args.size
        if args.resume:
            checkpoint = load_checkpoint(checkpoint_path, method_factory.name)
            if size is not None and size != checkpoint["size"]:
                raise CheckpointError(f"{checkpoint_path} was trained at {checkpoint['size']}x{checkpoint['size']}, "
                                      f"not {size}; drop --size to resume it")
            size = checkpoint["size"]
        elif size is None:
            size = default_size if device.type != "cpu" else (cpu_default_size or default_size)
        seed_everything(args.seed)  # identical initial weights on every rank
        method = method_factory(size, device, args, video_skeleton)
        if rank == 0 and not method.model_args["composite"]:
            print(f"{video_skeleton.name}: the scene is not registrable, so the generator paints the whole crop "
                  f"(background included)")
        train(method, video_skeleton, args, rank, world_size)
    except (CheckpointError, VideoSkeletonError) as error:
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:  # after train saved what it had
        sys.exit(INTERRUPTED)
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
