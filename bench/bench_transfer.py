"""End-to-end transfer speed: DanceDemo on the first frames of a source video onto a target, per generator.

Each run is a whole `DanceDemo.draw()`: pose detection in the source, gap filling, smoothing and
normalisation, generation, and writing the side-by-side video. Frames/s = source frames / median
run time; the stages' own rates come from the median run. Loading the generator is timed apart.
A trained generator without a checkpoint (the default data/models/<target>/<name>.pt, or one
given) is skipped with a note; the nearest-neighbour generator needs none.

Run through the runner:  python -m bench.run --only transfer [--quick]
"""
import tempfile
import time
from pathlib import Path

from bench.measure import section
from DanceDemo import DanceDemo, DanceDemoError
from generators import REGISTRY, GeneratorError
from training import default_checkpoint
from VideoSkeleton import VideoSkeleton


def run(source, target, device, quick=False, n_frames=60, checkpoints=None):
    """The section: one row per generator that can run (quick: 1 run each, else the median of 3)."""
    checkpoints = checkpoints or {}
    repeats = 1 if quick else 3
    target_vs = VideoSkeleton(target, verbose=False)
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as folder:
        for name, entry in REGISTRY.items():
            checkpoint = checkpoints.get(name)
            if entry.trained and not Path(checkpoint or default_checkpoint(target_vs, name)).is_file():
                notes.append(f"{name}: skipped, no checkpoint ({checkpoint or default_checkpoint(target_vs, name)})")
                continue
            started = time.perf_counter()
            try:
                demo = DanceDemo(source, name, target=target_vs, checkpoint=checkpoint, out=Path(folder) / f"{name}.mp4",
                                 device=device, max_frames=n_frames, verbose=False)
            except (DanceDemoError, GeneratorError) as error:
                notes.append(f"{name}: skipped, {error}")
                continue
            load_seconds = time.perf_counter() - started
            runs = []
            for _ in range(repeats):
                started = time.perf_counter()
                summary = demo.draw()
                runs.append((time.perf_counter() - started, summary))
            seconds, summary = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
            frames = summary["n_frames"]
            rows.append({"generator": name, "size": demo.generator.size, "frames": frames, "load_s": load_seconds,
                         "seconds": seconds, "fps": frames / seconds,
                         **{f"{stage}_fps": frames / max(value, 1e-9) for stage, value in summary["seconds"].items()}})
    return section(
        f"end to end: DanceDemo, the first {n_frames} frames of {source} onto {target} ({device})",
        [("generator", "generator", ""), ("size", "size", "d"), ("frames", "frames", "d"), ("load_s", "load s", ".2f"),
         ("seconds", "median s", ".2f"), ("fps", "frames/s", ".1f"), ("detect_fps", "detect f/s", ".1f"),
         ("generate_fps", "generate f/s", ".1f"), ("write_fps", "write f/s", ".1f")],
        rows,
        [f"median of {repeats} run(s) of DanceDemo.draw() per generator; generator batch 32 "
         "(the nearest-neighbour generator picks its frames for the whole sequence at once)", *notes])
