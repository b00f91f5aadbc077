"""What MediaPipe, the judge of pose fidelity and smoothness, can and cannot see on a target video.

Three reference measurements, made on the real target itself, that bound what any generator can score
under ../shared/EVALUATION.md:

1. Jitter floor. A perfect generator would reproduce the real video. The jitter of the pose that
   MediaPipe (static image mode, as the smoothness figure runs it) finds in the real crops, beside the
   jitter of the target's own cached poses (video mode, raw and 1-euro smoothed as DanceDemo smooths
   driving poses), is the jitter ratio that the real video scores: the detector's frame-to-frame noise.
2. Jitter of the real target over every window as long as a transfer. A transfer has no ground truth,
   but a perfect one would show the target herself; the static-detection jitter of every run of
   `--sliding-window` consecutive real frames (at 256) is the range her own video reads, to set beside
   a transfer's pose jitter (section 4) and nearest neighbour's.
3. Detection on a knife edge. For each held-out frame, the nearest training frame (what GenNearest
   shows) is scored as it is, then warped a small fraction of the way towards the asked pose by the
   GAN's pose-guided grid: a change too small to see, which tells how stable the detection and the
   joint error of such frames are. As a control, the same frames with Gaussian pixel noise of the
   same mean absolute change, without moving anything.

    python -m bench.detector_limits                       # taichi2, results in out/eval/detector_limits/
    python -m bench.detector_limits VIDEO --out DIR --fraction 0.1 --window 300 --sliding-window 192
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from Evaluate import POSE_SIZE, detect_pose, detected_track, jitter, pose_error
from GenGAN import pose_guided_grid
from GenNearest import GenNearest
from paths import OUT_ROOT, SHARED_DATA, shown_path
from Skeleton import (N_JOINTS, ONE_EURO_BETA, ONE_EURO_MIN_CUTOFF, REDUCED_LANDMARKS, BodyRange, PoseDetector,
                      smooth_sequence)
from training import images_to_tensor, resize_crop, split_indices, tensor_to_images
from VideoSkeleton import VideoSkeleton, VideoSkeletonError


def jitter_floor(video_skeleton, detector, frames, track_256):
    """Jitter of static detection on the real crops of consecutive frames (at 128, and at 256 from
    the whole video's track_256 (N, 13, 2)), and of the cached poses."""
    cached = np.stack([video_skeleton.skeleton(i).landmarks for i in frames])  # (T, 33, 4) crop coordinates
    smoothed = smooth_sequence(cached, video_skeleton.fps, ONE_EURO_MIN_CUTOFF, ONE_EURO_BETA,
                               unit=BodyRange.of(cached).height)
    joints = lambda landmarks: landmarks[:, list(REDUCED_LANDMARKS), :2] * POSE_SIZE  # (T, 13, 2) px of 256
    row = {"frames": [int(frames[0]), int(frames[-1])], "jitter_cached_raw_px": jitter(joints(cached)),
           "jitter_cached_smoothed_px": jitter(joints(smoothed))}
    tracks = {128: detected_track(detector, (resize_crop(video_skeleton.image(i), 128) for i in frames)),
              256: track_256[list(frames)]}
    for size, track in tracks.items():
        row[f"jitter_static_{size}_px"] = jitter(track)
        row[f"detection_rate_static_{size}"] = float(np.isfinite(track).all(axis=(1, 2)).mean())
    return row


def sliding_jitter(track, window):
    """Quartiles of the jitter (`Evaluate.jitter`) of every run of `window` consecutive frames of a
    (N, 13, 2) track: min, lower quartile, median, upper quartile, max, and how many windows."""
    window = min(window, len(track))
    values = np.array([jitter(track[start:start + window]) for start in range(len(track) - window + 1)])
    values = values[np.isfinite(values)]
    quartiles = np.percentile(values, [0, 25, 50, 75, 100]) if len(values) else [np.nan] * 5
    return {"window": window, "size": POSE_SIZE, "frames": [0, len(track) - 1], "n_windows": len(values),
            **dict(zip(["min_px", "q1_px", "median_px", "q3_px", "max_px"], map(float, quartiles)))}


def pose_scores(detector, images, skeletons):
    """Detection rate and mean / median joint error (px of 256) over the frames where a person is found."""
    errors = []
    for image, skeleton in zip(images, skeletons):
        found = detect_pose(detector, image)
        if found is not None:
            errors.append(pose_error(skeleton, found))
    return {"detection_rate": len(errors) / len(images),
            "joint_error_px": float(np.mean(errors)) if errors else None,
            "median_joint_error_px": float(np.median(errors)) if errors else None}


def knife_edge(video_skeleton, detector, fraction, size):
    """The held-out frames' nearest training frames, as they are and warped `fraction` of the way
    towards the asked pose; with the mean absolute pixel change the warp makes (0-255)."""
    train, validation = split_indices(len(video_skeleton))
    nearest = GenNearest(video_skeleton, indices=train)
    asked = [video_skeleton.skeleton(i) for i in validation]
    exemplar_frames = nearest.nearest_frames(asked)  # (N,)
    exemplars = np.stack([resize_crop(video_skeleton.image(int(f)), size) for f in exemplar_frames])  # (N, S, S, 3)
    exemplar_joints = torch.from_numpy(video_skeleton.reduced()[exemplar_frames].reshape(-1, N_JOINTS, 2))  # (N, 13, 2)
    asked_joints = torch.from_numpy(np.stack([s.joints() for s in asked]))
    towards = exemplar_joints + fraction * (asked_joints - exemplar_joints)  # joints a fraction of the way
    grid = pose_guided_grid(towards, exemplar_joints, size)  # (N, 2, S, S)
    warped = tensor_to_images(F.grid_sample(images_to_tensor(exemplars), grid.permute(0, 2, 3, 1),
                                            padding_mode="border", align_corners=False))
    change = float(np.abs(warped.astype(np.int16) - exemplars.astype(np.int16)).mean())
    sigma = change * np.sqrt(np.pi / 2)  # the mean absolute value of N(0, sigma) is sigma * sqrt(2 / pi)
    noise = np.random.default_rng(0).normal(0, sigma, exemplars.shape)
    noised = np.clip(exemplars + noise, 0, 255).round().astype(np.uint8)
    return {"n_frames": len(validation), "size": size, "fraction": fraction, "pixel_change": change,
            "nearest": pose_scores(detector, exemplars, asked),
            "nearest_warped": pose_scores(detector, warped, asked),
            "nearest_noised": pose_scores(detector, noised, asked),
            "exemplar_frames": sorted({int(f) for f in exemplar_frames})}


def limits_markdown(results):
    """RESULTS.md's three tables of these results (a test checks that RESULTS.md holds them verbatim)."""
    lines = ["| frames of the real target | static-detection jitter px, 128 / 256 | cached-pose jitter px, raw / smoothed "
             "| jitter ratio of the real video at 128, raw / smoothed |", "|---|---|---|---|"]
    for row in results["jitter_floor"]:
        static, raw, smoothed = row["jitter_static_128_px"], row["jitter_cached_raw_px"], row["jitter_cached_smoothed_px"]
        lines.append(f"| {row['frames'][0]}-{row['frames'][1]} | {static:.2f} / {row['jitter_static_256_px']:.2f} "
                     f"| {raw:.2f} / {smoothed:.2f} | {static / raw:.2f} / {static / smoothed:.2f} |")
    sliding = results["sliding_jitter"]
    lines += ["", f"| frames of the real target, every {sliding['window']} consecutive ({sliding['n_windows']} windows) "
                  f"| static-detection jitter px at {sliding['size']}: min / lower quartile / median / upper quartile / max |",
              "|---|---|",
              f"| {sliding['frames'][0]}-{sliding['frames'][1]} | " + " / ".join(
                  f"{sliding[key]:.2f}" for key in ["min_px", "q1_px", "median_px", "q3_px", "max_px"]) + " |"]
    edge = results["knife_edge"]
    lines += ["", f"| held-out frames ({edge['n_frames']}) shown as ({edge['size']}x{edge['size']}) | detection rate "
                  "| joint error px, mean / median |", "|---|---|---|"]
    shown_as = {"nearest": "the nearest training frame (GenNearest)",
                "nearest_warped": f"the same, warped {edge['fraction']:.0%} of the way to the asked pose "
                                  f"(mean change {edge['pixel_change']:.1f} / 255)",
                "nearest_noised": "the same, not warped but with Gaussian noise of that mean change"}
    for key, label in shown_as.items():
        scores = edge[key]
        lines.append(f"| {label} | {scores['detection_rate']:.2f} | {scores['joint_error_px']:.1f} / "
                     f"{scores['median_joint_error_px']:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default=shown_path(SHARED_DATA / "taichi2.mp4"),
                        help="target video, or its cache folder (default ../shared/data/taichi2.mp4)")
    parser.add_argument("--window", type=int, default=300, help="consecutive frames per jitter window (default 300)")
    parser.add_argument("--sliding-window", type=int, default=192,
                        help="consecutive frames per window of the whole-video jitter range (default 192, as long "
                             "as the karate1 -> taichi2 transfer)")
    parser.add_argument("--fraction", type=float, default=0.1, help="how far the nearest frame is warped (default 0.1)")
    parser.add_argument("--size", type=int, default=256, help="generator resolution for the warp (default 256)")
    parser.add_argument("--out", default=shown_path(OUT_ROOT / "eval" / "detector_limits"),
                        help="folder for limits.json (default out/eval/detector_limits)")
    args = parser.parse_args(argv)

    try:
        video_skeleton = VideoSkeleton(args.target, verbose=False)
    except VideoSkeletonError as error:
        sys.exit(f"error: {error}")
    n_frames = len(video_skeleton)
    windows = [range(0, min(args.window, n_frames)), range(max(0, n_frames - args.window), n_frames)]
    with PoseDetector(video=False) as detector:
        whole_video = tqdm(range(n_frames), desc="reading poses (real target)", unit="frame", leave=False, disable=None)
        track_256 = detected_track(detector, (resize_crop(video_skeleton.image(i), 256) for i in whole_video))  # (N, 13, 2)
        floors = [jitter_floor(video_skeleton, detector, list(w), track_256) for w in windows]
        edge = knife_edge(video_skeleton, detector, args.fraction, args.size)
    results = {"target": video_skeleton.name, "jitter_floor": floors,
               "sliding_jitter": sliding_jitter(track_256, args.sliding_window), "knife_edge": edge}

    print(limits_markdown(results))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "limits.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out / 'limits.json'}")


if __name__ == "__main__":
    main()
