"""Speed and memory of the network generators: training images/s, inference frames/s, parameters,
and the peak memory of training.

Each method is built as its training script builds it (same options, same sizes) and fed random
batches of the right shapes: speed does not depend on what the pixels show.
  training:  `training_step` on batches of 8, after warm-up steps; images/s = 8 / median step time;
  inference: the generator (eval mode, no gradients, the mixed precision `generate` uses), with
             the GAN's pose-guided warp grid, at batch 1 and batch 16; frames/s = batch / median call time;
  memory:    one subprocess per configuration runs a few training steps and reports its peak
             resident memory (VmHWM on Linux, else ru_maxrss) and, on CUDA, torch.cuda.max_memory_allocated.

Run through the runner:  python -m bench.run --only networks,memory [--quick]
One memory configuration on its own (what the runner starts):
    python -m bench.bench_networks gan 256 --device cpu
"""
import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import torch

import GenGAN
import GenVanillaNN
from bench.measure import median_seconds, section
from networks import ExemplarWarper, count_parameters
from paths import REPO_ROOT
from training import AVERAGE, Batch, autocast_for, pick_device, unwrap, update_average
from VideoSkeleton import VideoSkeleton

GENERATORS = ("vanilla-vector", "vanilla-image", "gan", "gan-temporal")  # gan-temporal: GenGAN.py --temporal
TRAIN_BATCH = 8
INFERENCE_BATCHES = (1, 16)
TARGETS = {  # the speed targets: (generator, size, figure) -> minimum
    ("gan", 128, "infer_fps_1"): 25.0,
    ("gan", 256, "train_ips"): 7.0,
}


def build_method(name, size, device, target):
    """The training method of a generator, with its script's default options, for `target` (a
    VideoSkeleton: whether its scene is registered decides whether the method composites)."""
    if name in ("gan", "gan-temporal"):
        options = ["x", "--temporal"] if name == "gan-temporal" else ["x"]
        return GenGAN.GANTraining(size, device, GenGAN.parse_args(options), target)
    variant = name.split("-")[1]
    return GenVanillaNN.VanillaTraining(size, device, GenVanillaNN.parse_args(["x", "--variant", variant]), target)


def uses_exemplars(method):
    return bool(method.model_args.get("exemplar"))


def is_temporal(method):
    return bool(method.model_args.get("temporal"))


def random_batch(method, batch_size, training=False):
    """A training Batch of random values on the method's device: inputs (B, 26), (B, 3, S, S) or, with
    exemplars, (B, 3 + 3r^2 + 3, S, S); real crops, backgrounds and drawn skeletons (B, 3, S, S) in [-1, 1]
    (the drawings where the method asks for them); masks in [0, 1]. A temporal GAN trains on B / 2 runs
    of consecutive frames (training=True): the Batch of their last frames, with the ones before and the
    motion between them (GenGAN.ConsecutiveExemplarRuns)."""
    if training and is_temporal(method):
        run = None
        for _ in range(method.run_length):
            frames = random_batch(method, batch_size // 2)
            if run is not None:
                frames.previous = run
                frames.motion = torch.rand(batch_size // 2, 2, method.size, method.size, device=method.device) * 2 - 1
            run = frames
        return run
    size, device = method.size, method.device
    channels = ExemplarWarper.input_channels(method.model_args["exemplar_scale"]) if uses_exemplars(method) else 3
    shape = (batch_size, 26) if method.input_kind == "vector" else (batch_size, channels, size, size)
    image = lambda: torch.rand(batch_size, 3, size, size, device=device) * 2 - 1
    return Batch(torch.rand(shape, device=device) * 2 - 1, image(), torch.rand(batch_size, 1, size, size, device=device),
                 image() if method.model_args["composite"] else None, image() if method.needs_drawings else None)


def synchronizer(device):
    return torch.cuda.synchronize if device.type == "cuda" else None


def training_repeats(size, quick):
    """Timed training steps: fewer where one step takes seconds on a CPU."""
    return 3 if quick or size >= 256 else 5


def speed(name, size, device, quick, target):
    """One row: parameters, training images/s and inference frames/s at each batch size."""
    torch.manual_seed(0)
    method = build_method(name, size, device, target)
    sync = synchronizer(device)
    batch = random_batch(method, TRAIN_BATCH, training=True)
    # the warp grids each batch computes as it is made: one per frame's exemplar, and for a temporal GAN's
    # runs of consecutive frames (TRAIN_BATCH / 2 runs of run_length frames), one per motion between frames
    runs = TRAIN_BATCH // 2
    n_grids = runs * (2 * method.run_length - 1) if is_temporal(method) else TRAIN_BATCH if uses_exemplars(method) else 0
    asked, exemplar = torch.rand(2, n_grids, 13, 2)

    def train_step():
        if n_grids:
            GenGAN.pose_guided_grid(asked, exemplar, size)
        method.training_step(batch)
        if AVERAGE in method.networks:  # the GAN's weight average is updated after each step
            update_average(method.networks[AVERAGE], method.networks["generator"], step=1000)

    step_seconds = median_seconds(train_step, repeats=training_repeats(size, quick),
                                  warmup=1 if quick or size >= 256 else 2, synchronize=sync)
    row = {"generator": name, "size": size, "device": str(device),
           "params_g": count_parameters(unwrap(method.networks["generator"])) / 1e6,
           "params_d": (count_parameters(unwrap(method.networks["discriminator"])) / 1e6
                        if "discriminator" in method.networks else None),
           "train_ips": TRAIN_BATCH / step_seconds}
    generator = unwrap(method.networks["generator"]).eval()
    if uses_exemplars(method):
        generator.paint_person = False  # as GenGAN generates by default: the person region is found too
    for batch_size in INFERENCE_BATCHES:
        inputs = random_batch(method, batch_size).inputs
        asked, exemplar = torch.rand(2, batch_size, 13, 2)
        # a temporal GAN's frame in a sequence also takes the previous frame and the motion to it
        state = (torch.rand(batch_size, 6, size, size, device=device) * 2 - 1,) if is_temporal(method) else ()

        def infer():
            if uses_exemplars(method):  # the exemplar's warp grid is computed per frame too
                GenGAN.pose_guided_grid(asked, exemplar, size)
            if is_temporal(method):  # and the motion from the previous frame
                GenGAN.pose_guided_grid(asked, exemplar, size)
            with torch.no_grad(), autocast_for(device):
                generator(inputs, *state)

        repeats = (5 if quick else 20) if batch_size == 1 else (2 if quick else 5)
        row[f"infer_fps_{batch_size}"] = batch_size / median_seconds(infer, repeats, warmup=1, synchronize=sync)
    return row


def target_notes(rows, sizes):
    """The issue's targets beside the figures measured for them."""
    notes = []
    for (name, size, key), minimum in TARGETS.items():
        what = "inference frames/s at batch 1" if key.startswith("infer") else f"training images/s (batch {TRAIN_BATCH})"
        measured = next((row[key] for row in rows if row["generator"] == name and row["size"] == size), None)
        if measured is None:
            verdict = f"nothing (sizes {', '.join(map(str, sizes))} only)"
        else:
            verdict = f"{measured:.1f}: {'meets' if measured >= minimum else 'MISSES'} it"
        notes.append(f"target: {name} {what} at {size} >= {minimum:g}; measured {verdict}")
    return notes


def run(target, device, quick=False, sizes=None):
    """The speed section: every generator at each size (quick: 64 and 128; full: 64, 128 and 256),
    built for `target` (a video or its cache folder)."""
    sizes = sizes or ((64, 128) if quick else (64, 128, 256))
    target = VideoSkeleton(target, verbose=False)
    rows = [speed(name, size, device, quick, target) for name in GENERATORS for size in sizes]
    return section(
        f"network generators: training and inference speed ({device})",
        [("generator", "generator", ""), ("size", "size", "d"), ("params_g", "G M params", ".2f"),
         ("params_d", "D M params", ".2f"), ("train_ips", f"train images/s (batch {TRAIN_BATCH})", ".1f"),
         ("infer_fps_1", "infer frames/s (batch 1)", ".1f"), ("infer_fps_16", "infer frames/s (batch 16)", ".1f")],
        rows,
        [f"random batches; medians of {'3' if quick else '5 (3 at 256)'} training steps and "
         f"{5 if quick else 20} (batch 1) / {2 if quick else 5} (batch 16) inference calls after warm-up; "
         "mixed precision (bfloat16) on CUDA only",
         *target_notes(rows, sizes)])


# --- peak memory, one configuration per process ------------------------------------------------------
def peak_resident_mb():
    """This process's peak resident memory in MB.

    On Linux, VmHWM from /proc/self/status: ru_maxrss would do, but Linux carries it over from
    the parent through fork and exec, so a child of a big process would report the parent's peak.
    Elsewhere ru_maxrss (kB on Linux, bytes on macOS).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def training_memory(name, size, device_name, steps, target):
    """Peak memory of `steps` training steps of one configuration, measured in this process."""
    device = pick_device(device_name)
    torch.manual_seed(0)
    method = build_method(name, size, device, VideoSkeleton(target, verbose=False))
    batch = random_batch(method, TRAIN_BATCH, training=True)
    before = peak_resident_mb()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for _ in range(steps):
        method.training_step(batch)
    result = {"generator": name, "size": size, "device": str(device), "peak_rss_mb": peak_resident_mb(),
              "rss_before_mb": before}
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        result["cuda_peak_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return result


def memory(target, device, quick=False):
    """The memory section: a fresh process per configuration (quick: the GAN only, one step: the
    first step already allocates the optimizer's state, so it nearly always holds the peak)."""
    names = ("gan",) if quick else GENERATORS
    steps = 1 if quick else 2
    rows, failures = [], []
    for name in names:
        for size in (128, 256):
            completed = subprocess.run(
                [sys.executable, "-m", "bench.bench_networks", name, str(size), "--target", str(Path(target).resolve()),
                 "--device", str(device), "--steps", str(steps)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
            if completed.returncode != 0:
                failures.append(f"{name} {size} failed: {(completed.stderr.strip().splitlines() or ['?'])[-1]}")
                continue
            row = json.loads(completed.stdout.strip().splitlines()[-1])
            row["training_adds_mb"] = row["peak_rss_mb"] - row["rss_before_mb"]
            rows.append(row)
    return section(
        f"training memory, batch {TRAIN_BATCH} ({device})",
        [("generator", "generator", ""), ("size", "size", "d"), ("peak_rss_mb", "peak RSS MB", ".0f"),
         ("training_adds_mb", "added by training MB", ".0f"), ("cuda_peak_mb", "CUDA peak MB", ".0f")],
        rows,
        [f"one process per row: build the method, then {steps} training step(s); peak RSS includes Python, "
         "torch and the model (before the steps: peak RSS - added)", *failures])


def main(argv=None):
    parser = argparse.ArgumentParser(allow_abbrev=False,
                                     description="Peak memory of a few training steps of one generator at one size "
                                                 "(prints one JSON line); bench.run starts one per configuration.")
    parser.add_argument("generator", choices=GENERATORS)
    parser.add_argument("size", type=int)
    parser.add_argument("--target", required=True, help="target video, or its cache folder")
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    parser.add_argument("--steps", type=int, default=3, help="training steps (default 3)")
    args = parser.parse_args(argv)
    print(json.dumps(training_memory(args.generator, args.size, args.device, args.steps, args.target)))


if __name__ == "__main__":
    main()
