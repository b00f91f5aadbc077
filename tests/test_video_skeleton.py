"""VideoSkeleton on real videos: what it keeps, how exact its skeletons are, how its cache behaves,
and what the command line says when the input is bad or the run is interrupted."""
import itertools
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import video_io
from conftest import REPO_ROOT
from Skeleton import PoseDetector, Skeleton
from VideoSkeleton import VideoSkeleton, cache_folder, is_complete, parse_args

KARATE_TRANSITION = range(129, 152)  # the transition graphic: no full-size person


@pytest.fixture(scope="module")
def karate(karate1, cache_root):
    """karate1.mp4, every frame, 256-pixel crops: one full build shared by the module."""
    return VideoSkeleton(karate1, cache_root=cache_root, verbose=False)


@pytest.fixture(scope="module")
def karate_small(karate1, cache_root):
    """A quick cache (one frame in 4, 64-pixel crops) for the tests that copy and damage one."""
    return VideoSkeleton(karate1, every=4, crop_size=64, cache_root=cache_root, verbose=False)


def copy_cache(video_skeleton, cache_root):
    """A copy of a built cache under another root, where the same video and options will find it."""
    copy = cache_root / video_skeleton.cache_dir.name
    shutil.copytree(video_skeleton.cache_dir, copy)
    return copy


# --- what is kept ------------------------------------------------------------------------------

def test_karate_keeps_the_person_and_drops_the_transition(karate):
    kept = karate.meta["frame_indices"]
    assert karate.built and karate.meta["n_frames_read"] == 192
    assert kept == sorted(kept)
    assert all(i in kept for i in range(192) if i < 125 or i > 155)
    dropped = set(karate.meta["missing_frames"]) | set(karate.meta["small_frames"])
    assert set(KARATE_TRANSITION) <= dropped
    assert not set(KARATE_TRANSITION) & set(kept)


def test_karate_is_a_still_camera_despite_its_transition_graphic(karate):
    """The graphic is left out with its frames, not taken for camera motion; the views before and
    after it differ by a zoom (a cut), and each holds still."""
    report = karate.meta["scene"]
    assert report["camera"] == "still camera"
    assert report["registered"] >= len(karate) - 3  # the graphic's first and last kept frames may not match
    scene_model = karate.scene()
    before = [i for i, f in enumerate(karate.meta["frame_indices"]) if f < 120]
    assert np.allclose(scene_model.cameras[before], scene_model.cameras[before[0]])
    assert karate.masks.shape == (len(karate), 256, 256) and karate.mask(0).max() == 255


def test_karate_arrays_agree_with_each_other(karate):
    n = len(karate)
    assert n == len(karate.meta["frame_indices"]) == len(karate.meta["crop_boxes"])
    assert karate.images.shape == (n, 256, 256, 3) and karate.images.dtype == np.uint8
    assert karate.skeletons.shape == (n, 33, 4) and karate.skeletons.dtype == np.float32
    assert karate.reduced().shape == (n, 26)
    assert karate.image(0).mean() > 20  # a picture, not a black square
    joints = karate.reduced()
    assert ((joints >= 0) & (joints <= 1)).mean() > 0.95  # the person is inside the crop
    summary = karate.summary()
    assert "192 frames read" in summary and f"person in {n}" in summary


def test_karate_skeletons_match_their_crops(karate):
    """MediaPipe run again on stored crops finds the stored skeletons: crops and coordinates agree.

    Single images and the tracked video differ by a few pixels in fast moves, but not on average.
    """
    offsets = []  # (frames, 13, 2) in pixels of the 256-pixel crop
    with PoseDetector(video=False) as detector:
        for i in range(0, len(karate), 8):
            found = detector.detect(karate.image(i))
            if found is not None:
                offsets.append((found.joints() - karate.skeleton(i).joints()) * 256)
    offsets = np.array(offsets)
    assert len(offsets) >= 0.9 * len(range(0, len(karate), 8))
    assert np.median(np.linalg.norm(offsets, axis=2).mean(axis=1)) < 5
    assert np.all(np.abs(offsets.mean(axis=(0, 1))) < 2)  # no shift between crop and skeleton


def test_joint_error_against_ground_truth(tmp_path, cache_root):
    synthetic_dancer = pytest.importorskip("SyntheticDancer")
    video = synthetic_dancer.default_target(tmp_path / "target.mp4", n_frames=60)
    truth = synthetic_dancer.load_ground_truth(video)  # (60, 33, 4), frame coordinates
    dancer = VideoSkeleton(video, cache_root=cache_root, verbose=False)
    meta = dancer.meta
    assert meta["frame_indices"] == list(range(60))
    errors = []  # (N, 13) in pixels of the 256-pixel crop
    for i, (frame, box) in enumerate(zip(meta["frame_indices"], meta["crop_boxes"])):
        expected = Skeleton(truth[frame]).to_crop(box, meta["frame_size"]).joints()
        errors.append(np.linalg.norm(dancer.skeleton(i).joints() - expected, axis=1) * dancer.crop_size)
    assert np.mean(errors) < 6


# --- the cache ---------------------------------------------------------------------------------

def test_second_construction_reuses_the_cache(karate_small, karate1, cache_root):
    again = VideoSkeleton(karate1, every=4, crop_size=64, cache_root=cache_root, verbose=False)
    assert not again.built
    assert again.cache_dir == karate_small.cache_dir
    assert again.meta["created"] == karate_small.meta["created"]
    np.testing.assert_array_equal(again.skeletons, karate_small.skeletons)


def test_force_rebuilds(karate_small, karate1, tmp_path):
    copy = copy_cache(karate_small, tmp_path)
    (copy / "marker").touch()
    assert not VideoSkeleton(karate1, every=4, crop_size=64, cache_root=tmp_path, verbose=False).built
    rebuilt = VideoSkeleton(karate1, every=4, crop_size=64, cache_root=tmp_path, force=True, verbose=False)
    assert rebuilt.built and not (copy / "marker").exists()
    assert rebuilt.meta["frame_indices"] == karate_small.meta["frame_indices"]


def test_options_and_content_choose_the_folder(karate, karate_small, karate1, tmp_path):
    root = karate.cache_dir.parent
    folders = {cache_folder(karate1, 1, 256, root), cache_folder(karate1, 2, 256, root),
               cache_folder(karate1, 1, 128, root), karate_small.cache_dir}
    assert len(folders) == 4
    assert cache_folder(karate1, 1, 256, root) == karate.cache_dir
    renamed = shutil.copy(karate1, tmp_path / "karate1.mp4")
    assert cache_folder(renamed, 1, 256, root) == karate.cache_dir  # same bytes, same cache


def remove_meta(cache_dir):
    (cache_dir / "meta.json").unlink()


def truncate_crops(cache_dir):
    crops = cache_dir / "crops.npy"
    with open(crops, "r+b") as handle:
        handle.truncate(crops.stat().st_size // 2)


def hide_as_partial(cache_dir):
    """What a run killed just before its final rename leaves: a full copy under the partial name."""
    cache_dir.rename(cache_dir.with_name(f".{cache_dir.name}.partial-123"))


@pytest.mark.parametrize("damage", [remove_meta, truncate_crops, hide_as_partial])
def test_half_written_cache_is_rebuilt(damage, karate_small, karate1, tmp_path):
    copy = copy_cache(karate_small, tmp_path)
    damage(copy)
    assert not is_complete(copy)
    rebuilt = VideoSkeleton(karate1, every=4, crop_size=64, cache_root=tmp_path, verbose=False)
    assert rebuilt.built and rebuilt.cache_dir == copy and is_complete(copy)
    assert len(rebuilt) == len(karate_small)
    assert rebuilt.image(len(rebuilt) - 1).shape == (64, 64, 3)


# --- the command line --------------------------------------------------------------------------

def cli(*args):
    return [sys.executable, str(REPO_ROOT / "VideoSkeleton.py"), *map(str, args)]


def last_line(text):
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def assert_clean_failure(process, stderr, cache_root, first_words):
    """Exit code != 0, one message line (MediaPipe's own log lines aside), no traceback, no cache."""
    assert process.returncode != 0
    assert "Traceback" not in stderr
    assert last_line(stderr).startswith(first_words)
    assert sum(line.startswith(("error:", "interrupted:")) for line in stderr.splitlines()) == 1
    assert not cache_root.exists() or not any(cache_root.iterdir())  # not even a partial folder


def write_text_as_mp4(path):
    path.write_text("this is not a video\n" * 100)
    return path


def write_empty_mp4(path):
    path.touch()
    return path


@pytest.mark.parametrize("make_input", [
    lambda tmp: tmp / "missing.mp4",
    lambda tmp: write_text_as_mp4(tmp / "text.mp4"),
    lambda tmp: write_empty_mp4(tmp / "empty.mp4"),
], ids=["missing", "text-renamed-mp4", "zero-bytes"])
def test_cli_rejects_bad_files(make_input, tmp_path):
    cache_root = tmp_path / "cache"
    result = subprocess.run(cli(make_input(tmp_path), "--cache-root", cache_root),
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert_clean_failure(result, result.stderr, cache_root, "error:")


def test_cli_rejects_a_video_with_nobody_in_it(no_person_video, tmp_path):
    cache_root = tmp_path / "cache"
    result = subprocess.run(cli(no_person_video, "--cache-root", cache_root),
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert_clean_failure(result, result.stderr, cache_root, "error: no person detected")


def test_cli_says_what_it_built_without_mediapipes_start_up_lines(karate1, tmp_path):
    result = subprocess.run(cli(karate1, "--every", "6", "--crop-size", "64", "--cache-root", tmp_path / "cache"),
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith(("W0000", "I0000", "INFO:", "WARNING:"))]
    scene_line = [line for line in result.stdout.splitlines() if line.startswith("scene:")]
    assert len(scene_line) == 1 and scene_line[0].startswith("scene: still camera")


def test_course_command_line_form():
    args = parse_args(["video.mp4", "false", "2"])
    assert args.every == 2 and not args.force
    assert parse_args(["video.mp4", "true"]).force


def start_cli(tmp_path, *args):
    """Start the CLI with its output (a line per stage, as it is not a terminal) in a file we can watch."""
    log = tmp_path / "output.txt"
    with log.open("w") as output:
        process = subprocess.Popen(cli(*args), cwd=tmp_path, stdout=output, stderr=output)
    return process, log


def wait_for_text(process, log, text, timeout=120):
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert process.poll() is None, f"ended before printing {text!r}: {log.read_text()}"
        assert time.monotonic() < deadline, f"no {text!r} after {timeout} s"
        time.sleep(0.05)


def partial_folders(cache_root):
    return [p for p in cache_root.glob(".*.partial-*") if p.is_dir()] if cache_root.exists() else []


def test_ctrl_c_while_detecting_leaves_nothing(taichi2, tmp_path):
    cache_root = tmp_path / "cache"
    process, log = start_cli(tmp_path, taichi2, "--cache-root", cache_root)
    wait_for_text(process, log, "detecting poses")
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    assert_clean_failure(process, log.read_text(), cache_root, "interrupted: no cache was written")
    assert process.returncode == 130


def test_ctrl_c_while_writing_removes_the_partial_cache(taichi2, tmp_path):
    cache_root = tmp_path / "cache"
    process, log = start_cli(tmp_path, taichi2, "--every", "30", "--cache-root", cache_root)
    wait_for_text(process, log, "cropping")
    assert partial_folders(cache_root)  # being written now
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    assert_clean_failure(process, log.read_text(), cache_root, "interrupted: no cache was written")
    assert process.returncode == 130


def test_a_reader_stopped_early_stops_its_decoder(taichi2):
    frames = video_io.iter_frames(taichi2, prefetch=2)
    first = [index for index, _ in itertools.islice(frames, 3)]
    decoder = frames.gi_frame.f_locals["thread"]
    time.sleep(0.3)  # the decoder fills the queue and waits for room
    frames.close()
    assert first == [0, 1, 2] and not decoder.is_alive()


def test_stopping_a_reader_does_not_wait_on_the_queue_lock(taichi2):
    """Ctrl-C can land just after the consumer took the frame queue's lock, which then stays held
    (bpo-29988); stopping the reader at exit must not wait on it, or the process hangs."""
    frames = video_io.iter_frames(taichi2, prefetch=2)
    next(frames)
    decoder, queue = frames.gi_frame.f_locals["thread"], frames.gi_frame.f_locals["frames"]
    time.sleep(0.3)
    queue.mutex.acquire()  # as an interrupted `get` leaves it
    closer = threading.Thread(target=frames.close, daemon=True)
    closer.start()
    closer.join(3 * video_io.STOP_TIMEOUT_S)
    queue.mutex.release()
    assert not closer.is_alive()
    decoder.join(10)
    assert not decoder.is_alive()  # and once the lock is free, the decoder ends too


def test_a_crash_while_writing_leaves_only_a_partial_folder(taichi2, tmp_path):
    cache_root = tmp_path / "cache"
    process, log = start_cli(tmp_path, taichi2, "--every", "30", "--cache-root", cache_root)
    wait_for_text(process, log, "cropping")
    process.kill()  # no chance to clean up
    process.wait(timeout=60)
    assert partial_folders(cache_root)
    complete = [p for p in cache_root.iterdir() if not p.name.startswith(".")]
    assert complete == []
    after = VideoSkeleton(taichi2, every=30, cache_root=cache_root, verbose=False)  # starts afresh
    assert after.built and is_complete(after.cache_dir)
    assert not partial_folders(cache_root)  # the killed run's leftovers are cleared away


def test_parallel_detection_agrees_with_one_process(taichi2):
    """Two detector processes, each tracking its own half of the video, find the same poses as one."""
    from VideoSkeleton import detect_skeletons
    _, one = detect_skeletons(taichi2, every=3, verbose=False, workers=1)
    _, two = detect_skeletons(taichi2, every=3, verbose=False, workers=2)
    assert list(one) == list(two) == list(range(0, 901, 3))
    joints = lambda found: np.stack([found[i][0].joints() for i in found]) * (960, 720)  # (N, 13, 2) px
    error = np.linalg.norm(joints(one) - joints(two), axis=-1).mean(axis=1)  # (N,)
    assert np.median(error) < 0.5  # identical away from where the second process starts tracking
    assert error.max() < 30


def test_the_threaded_second_pass_writes_what_one_thread_writes(synthetic_target, tmp_path, monkeypatch):
    """Crops, mask crops and the background's frames are made in threads, and the background's
    median in bands of rows: the cache is the one a single thread writes, to the byte."""
    import cv2
    import os
    caches = []
    for cores in (1, 4):
        monkeypatch.setattr(os, "cpu_count", lambda: cores)
        caches.append(VideoSkeleton(synthetic_target.video_path, crop_size=64, cache_root=tmp_path / str(cores),
                                    verbose=False).cache_dir)
    for name in ("crops.npy", "masks.npy", "cameras.npy"):
        first, second = (np.load(cache / name) for cache in caches)
        assert np.array_equal(first, second, equal_nan=True), name
    for name in ("background.png", "background_unseen.png"):
        assert np.array_equal(*(cv2.imread(str(cache / name)) for cache in caches)), name
