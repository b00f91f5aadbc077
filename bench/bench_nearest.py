"""Speed of the nearest-neighbour search behind GenNearest, for target databases of 1k to 100k poses.

Databases are the real tai chi skeletons, resampled and jittered (noise of about 2.5 px of a
256 crop) up to the asked size. Two figures per size, in milliseconds per driving pose, median
over several runs:
  single:   one index query for one skeleton (the `generate` path, without copying the image);
  sequence: k=8 candidates per pose and the Viterbi path, for a 100-frame driving sequence.

    python -m bench.bench_nearest            # from the repository root
    python -m bench.bench_nearest --quick    # fewer runs, for a smoke test
"""
import argparse
import os
import sys
import time

import numpy as np

from bench.measure import cpu_name
from GenNearest import JUMP_COST, PoseIndex, smoothest_path
from paths import SHARED_DATA, shown_path
from Skeleton import N_JOINTS
from VideoSkeleton import VideoSkeleton, VideoSkeletonError

DATABASE_SIZES = (1_000, 10_000, 100_000)
JITTER = 0.01  # standard deviation of the noise added to joints, in crop units
SEQUENCE_LENGTH = 100
K = 8


def jittered_database(real_joints, size, rng):
    """(size, 13, 2): real poses drawn with replacement, each with its own small noise."""
    drawn = real_joints[rng.integers(0, len(real_joints), size)]
    return drawn + rng.normal(0, JITTER, drawn.shape)


def median_ms_per_pose(run_once, n_poses, n_runs):
    """Median over runs of (wall time of one run) / (poses it handles), in milliseconds."""
    per_pose = []
    for _ in range(n_runs):
        started = time.perf_counter()
        run_once()
        per_pose.append((time.perf_counter() - started) / n_poses)
    return 1000 * float(np.median(per_pose))


def main(argv=None):
    parser = argparse.ArgumentParser(allow_abbrev=False, description="Milliseconds per query of GenNearest's pose search.")
    parser.add_argument("target", nargs="?", default=shown_path(SHARED_DATA / "taichi2.mp4"),
                        help="target video, or its cache folder: its real poses are jittered "
                             "(default ../shared/data/taichi2.mp4)")
    parser.add_argument("--quick", action="store_true", help="fewer queries and runs")
    args = parser.parse_args(argv)
    n_runs, n_single = (3, 50) if args.quick else (7, 300)
    print(f"options: {vars(args)}")
    try:
        real_joints = VideoSkeleton(args.target, verbose=False).reduced().reshape(-1, N_JOINTS, 2)  # (N, 13, 2)
    except VideoSkeletonError as error:
        sys.exit(f"error: {error}")
    print(f"device: CPU, {cpu_name()}, {os.cpu_count()} cores seen; one thread for the search")

    rng = np.random.default_rng(0)
    single_queries = jittered_database(real_joints, n_single, rng)  # (Q, 13, 2)
    start = int(rng.integers(0, len(real_joints) - SEQUENCE_LENGTH))
    sequence = real_joints[start:start + SEQUENCE_LENGTH] + rng.normal(0, JITTER, (SEQUENCE_LENGTH, N_JOINTS, 2))

    def single_run(index):
        for joints in single_queries:
            index.query(joints, k=1)

    def sequence_run(index):
        distances, positions = index.query(sequence, k=K)  # (100, k)
        smoothest_path(distances, positions, JUMP_COST)  # positions stand in for frame ids: same work

    print(f"{'database':>9} | {'build ms':>8} | {'single ms/query':>15} | {'sequence ms/frame':>17}")
    for size in DATABASE_SIZES:
        database = jittered_database(real_joints, size, rng)
        started = time.perf_counter()
        index = PoseIndex(database)
        build_ms = 1000 * (time.perf_counter() - started)
        single_ms = median_ms_per_pose(lambda: single_run(index), n_single, n_runs)
        sequence_ms = median_ms_per_pose(lambda: sequence_run(index), SEQUENCE_LENGTH, n_runs)
        print(f"{size:>9,} | {build_ms:>8.1f} | {single_ms:>15.3f} | {sequence_ms:>17.3f}")


if __name__ == "__main__":
    main()
