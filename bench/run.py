"""Run the benchmarks and print one table per section, with device, resolution and batch size.

Sections (all by default; figures are medians of several runs, ../shared/EVALUATION.md "Speed"):
  preprocess  VideoSkeleton's cache build vs a plain decode + detect loop vs detection alone (frames/s)
  nearest     GenNearest's pose search, ms per query for 1k, 10k and 100k poses (bench_nearest.py's code)
  networks    training images/s and inference frames/s (batch 1, 16) of each network generator, parameters
  transfer    end-to-end DanceDemo frames/s per generator that has a checkpoint
  memory      peak memory of training at 128 and 256, one process per configuration

From the repository root:
    python -m bench.run                       # everything: under 15 minutes on a 2-core CPU
    python -m bench.run --quick               # fewer runs, sizes 64 and 128, 150 frames: under 2 minutes
    python -m bench.run --only networks,memory --device cuda --json out/bench.json
    python -m bench.run --only transfer --checkpoint gan=data/models/taichi2-3a68617516/gan-256.pt
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from bench import bench_networks, bench_preprocess, bench_transfer
from bench.measure import machine_description, print_section, section
from generators import GeneratorError, all_names, parse_checkpoints
from paths import SHARED_DATA, shown_path
from training import pick_device

SECTIONS = ("preprocess", "nearest", "networks", "transfer", "memory")


def nearest(video, quick=False):
    """GenNearest's search speed, with bench_nearest.py's databases and timing."""
    from bench import bench_nearest
    from GenNearest import JUMP_COST, PoseIndex, smoothest_path
    from Skeleton import N_JOINTS
    from VideoSkeleton import VideoSkeleton
    n_runs, n_single = (3, 50) if quick else (7, 300)
    real_joints = VideoSkeleton(video, verbose=False).reduced().reshape(-1, N_JOINTS, 2)  # (N, 13, 2)
    rng = np.random.default_rng(0)
    queries = bench_nearest.jittered_database(real_joints, n_single, rng)  # (Q, 13, 2)
    length = bench_nearest.SEQUENCE_LENGTH
    start = int(rng.integers(0, len(real_joints) - length))
    sequence = real_joints[start:start + length] + rng.normal(0, bench_nearest.JITTER, (length, N_JOINTS, 2))
    rows = []
    for size in bench_nearest.DATABASE_SIZES:
        started = time.perf_counter()
        index = PoseIndex(bench_nearest.jittered_database(real_joints, size, rng))
        build_ms = 1000 * (time.perf_counter() - started)

        def single():
            for joints in queries:
                index.query(joints, k=1)

        def in_sequence():
            distances, positions = index.query(sequence, k=bench_nearest.K)  # (100, k)
            smoothest_path(distances, positions, JUMP_COST)

        rows.append({"poses": size, "build_ms": build_ms,
                     "single_ms": bench_nearest.median_ms_per_pose(single, n_single, n_runs),
                     "sequence_ms": bench_nearest.median_ms_per_pose(in_sequence, length, n_runs)})
    return section(
        "GenNearest pose search (CPU, one thread)",
        [("poses", "database poses", ","), ("build_ms", "build ms", ".1f"), ("single_ms", "single ms/query", ".3f"),
         ("sequence_ms", f"sequence ms/frame (k={bench_nearest.K})", ".3f")],
        rows,
        [f"databases: real {Path(video).stem} poses resampled with ~2.5 px noise; median of {n_runs} runs of "
         f"{n_single} single queries / a {length}-frame sequence (Viterbi path included)"])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(allow_abbrev=False,
                                     description="Benchmarks of every stage: preprocessing, search, networks, "
                                                 "end to end, memory. Prints a table per section.")
    parser.add_argument("--quick", action="store_true", help="fewer runs, sizes 64 and 128, short clips (< 2 min on CPU)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"sections to run, comma-separated: {', '.join(SECTIONS)}")
    parser.add_argument("--device", help="cuda, mps or cpu for the networks (default: the best available)")
    parser.add_argument("--target", default=shown_path(SHARED_DATA / "taichi2.mp4"),
                        help="target video, or its cache folder (default ../shared/data/taichi2.mp4)")
    parser.add_argument("--source", default=shown_path(SHARED_DATA / "karate1.mp4"),
                        help="source video for the transfer section (default ../shared/data/karate1.mp4)")
    parser.add_argument("--checkpoint", action="append", metavar="GEN=PATH",
                        help="a trained generator for the transfer section instead of the target's default "
                             "data/models/<target>/<gen>.pt; repeat it for several")
    parser.add_argument("--json", metavar="PATH", help="also save every figure as JSON")
    args = parser.parse_args(argv)
    args.sections = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section {', '.join(sorted(unknown))}: choose from {', '.join(SECTIONS)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    for video in (args.target, args.source if "transfer" in args.sections else None):
        if video and not Path(video).exists():
            sys.exit(f"error: no such video: {video}")
    try:
        checkpoints = parse_checkpoints(args.checkpoint, all_names())
    except GeneratorError as error:
        sys.exit(f"error: {error}")
    device = pick_device(args.device)
    print(f"bench {'--quick ' if args.quick else ''}{time.strftime('%Y-%m-%d %H:%M')}: {machine_description(device)}")
    runs = {
        "preprocess": lambda: bench_preprocess.run(args.target, args.quick),
        "nearest": lambda: nearest(args.target, args.quick),
        "networks": lambda: bench_networks.run(args.target, device, args.quick),
        "transfer": lambda: bench_transfer.run(args.source, args.target, device, args.quick, checkpoints=checkpoints),
        "memory": lambda: bench_networks.memory(args.target, device, args.quick),
    }
    results, started = [], time.perf_counter()
    for name in args.sections:
        section_started, load = time.perf_counter(), os.getloadavg()[0]
        result = runs[name]()
        result["seconds"] = round(time.perf_counter() - section_started, 1)
        result["load_average"] = [round(load, 2), round(os.getloadavg()[0], 2)]
        result["notes"].append(f"section took {result['seconds']:.0f} s; load average {load:.1f} at its start, "
                               f"{os.getloadavg()[0]:.1f} at its end ({os.cpu_count()} cores: other jobs slow it down)")
        print_section(result)
        results.append(result)
    print(f"\nall sections: {time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"machine": machine_description(device), "quick": args.quick,
                                               "date": time.strftime("%Y-%m-%d %H:%M:%S"), "sections": results}, indent=1))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
