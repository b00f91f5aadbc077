"""Preprocessing speed: VideoSkeleton's cache build beside a plain loop and beside detection alone.

Three ways through the same frames, run in turn (A, B, C, A, B, C, ...) so they share the
machine's conditions, each a median over runs, in frames per second:
  VideoSkeleton:       the whole cache build (threaded decode + MediaPipe, then the crop pass and writing);
  plain loop:          decode one frame, detect, next frame (no thread);
  detection alone:     MediaPipe on frames decoded beforehand: the ceiling the other two approach.
Each run creates its own MediaPipe detector (video mode), as VideoSkeleton does, and counts that.

Run through the runner:  python -m bench.run --only preprocess [--quick]
"""
import tempfile
import time
from pathlib import Path

import cv2

import video_io
from bench.measure import section
from Skeleton import PoseDetector
from VideoSkeleton import VideoSkeleton


def first_frames_clip(video_path, n_frames, folder):
    """The first n_frames of a video written as a clip of their own (VideoSkeleton reads whole videos)."""
    info = video_io.video_info(video_path)
    _, frames = video_io.read_frames(video_path, max_frames=n_frames)
    return video_io.write_video(Path(folder) / f"{Path(video_path).stem}_first{n_frames}.mp4", frames, info.fps)


def video_skeleton_run(video_path, cache_root):
    VideoSkeleton(video_path, force=True, cache_root=cache_root, verbose=False)


def plain_loop_run(video_path):
    capture = cv2.VideoCapture(str(video_path))
    with PoseDetector(video=True) as detector:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            detector.detect(frame)
    capture.release()


def detection_run(frames):
    with PoseDetector(video=True) as detector:
        for frame in frames:
            detector.detect(frame)


def run(video_path, quick=False, n_frames=None):
    """The section: frames/s of each way, median over runs. Quick: the first 150 frames, 3 runs."""
    repeats = 3
    n_frames = n_frames or (150 if quick else None)
    with tempfile.TemporaryDirectory() as folder:
        clip = first_frames_clip(video_path, n_frames, folder) if n_frames else Path(video_path)
        _, frames = video_io.read_frames(clip)  # (decoded beforehand for "detection alone")
        info = video_io.video_info(clip)
        ways = {
            "VideoSkeleton (cache build)": lambda: video_skeleton_run(clip, Path(folder) / "cache"),
            "plain loop: decode + detect": lambda: plain_loop_run(clip),
            "detection alone (pre-decoded)": lambda: detection_run(frames),
        }
        times = {name: [] for name in ways}
        for _ in range(repeats):
            for name, way in ways.items():
                started = time.perf_counter()
                way()
                times[name].append(time.perf_counter() - started)
    rows = []
    for name, seconds in times.items():
        median = sorted(seconds)[len(seconds) // 2]
        rows.append({"way": name, "frames": len(frames), "seconds": median, "fps": len(frames) / median})
    ceiling = rows[-1]["fps"]
    for row in rows:
        row["of_detection"] = row["fps"] / ceiling
    clip_note = (f"the first {len(frames)} frames of {video_path}, re-encoded as a clip (H.264)" if n_frames
                 else f"all {len(frames)} frames of {video_path}")
    return section(
        "preprocessing: decode + pose detection (CPU, MediaPipe model_complexity=1, video mode)",
        [("way", "way", ""), ("frames", "frames", "d"), ("seconds", "median s", ".2f"),
         ("fps", "frames/s", ".1f"), ("of_detection", "x detection alone", ".2f")],
        rows,
        [f"{clip_note}, {info.width}x{info.height}; median of {repeats} runs each, interleaved",
         "issue's reference on this machine: plain loop ~50 frames/s, detection alone ~53; "
         "VideoSkeleton should be close to detection alone"])
