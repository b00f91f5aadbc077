"""Evaluate: the temporal figures of a held-out sequence (EVALUATION.md section 3) on sequences with
known answers, the background steadiness of a transfer (section 4) on scene videos written here
against a real clip, and both in a whole evaluation of a small synthetic target."""
import json
import math

import cv2
import numpy as np
import pytest

import Evaluate
import video_io
from Skeleton import PoseDetector

# matplotlib (metrics.png) calls pyparsing with argument names that pyparsing 3.3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pyparsing.*")


def texture(height, width, seed=0):
    """A smooth random colour texture: a background the optical flow and the codec can both follow."""
    noise = np.random.default_rng(seed).integers(0, 256, (height // 4, width // 4, 3), dtype=np.uint8)
    return cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)


def moving_blob_sequence(n_frames=8, size=64):
    """(T, S, S, 3) uint8: a still textured background with a disc moving across it."""
    room = texture(size, size)
    frames = []
    for t in range(n_frames):
        frame = room.copy()
        cv2.circle(frame, (16 + 4 * t, 32), 8, (40, 200, 240), -1)
        frames.append(frame)
    return np.stack(frames)


def shifted(frame, dx, dy):
    return cv2.warpAffine(frame, np.float32([[1, 0, dx], [0, 1, dy]]), frame.shape[1::-1], borderMode=cv2.BORDER_REFLECT)


# --- section 3 on sequences with known answers -------------------------------------------------------
def test_a_perfect_copy_has_no_flow_error_and_flickers_like_the_real_sequence():
    real = moving_blob_sequence()
    assert Evaluate.tof(real.copy(), real) == 0.0
    assert Evaluate.flicker_ratio(real.copy(), real) == pytest.approx(1.0)


def test_a_frozen_copy_has_flow_error_and_a_flicker_ratio_near_zero():
    real = moving_blob_sequence()
    frozen = np.stack([real[0]] * len(real))
    assert Evaluate.tof(frozen, real) > 0.2  # px of 256: the disc's motion is missing
    assert Evaluate.flicker_ratio(frozen, real) < 0.1


def test_a_jittered_copy_has_flow_error_and_flickers_more():
    real = moving_blob_sequence()
    rng = np.random.default_rng(1)
    jittered = np.stack([shifted(frame, *(rng.uniform(2, 4, 2) * rng.choice([-1, 1], 2))) for frame in real])
    assert Evaluate.tof(jittered, real) > 2.0
    assert Evaluate.flicker_ratio(jittered, real) > 2.0


def test_tof_needs_two_sequences_of_one_length():
    real = moving_blob_sequence()
    assert math.isnan(Evaluate.tof(real[:1], real[:1]))
    with pytest.raises(ValueError):
        Evaluate.tof(real[:3], real)


def test_pose_jitter_ratio_is_one_for_the_same_track_and_grows_with_shaking():
    t = np.arange(12, dtype=np.float64)[:, None, None]
    rng = np.random.default_rng(2)
    real = np.concatenate([2 * t, t], axis=2).repeat(13, axis=1) + rng.normal(0, 1, (12, 13, 2))  # detector noise
    shaking = real + rng.normal(0, 3, real.shape)
    assert Evaluate.pose_jitter_ratio(real.copy(), real) == pytest.approx(1.0)
    assert Evaluate.pose_jitter_ratio(shaking, real) > 2.0
    assert math.isnan(Evaluate.pose_jitter_ratio(real, np.full_like(real, np.nan)))  # nothing read in the real frames


def test_a_sequence_read_in_fewer_frames_says_so_beside_its_jitter():
    """Jitter counts runs of detected frames only: a sequence whose person is lost in some frames
    reports the share it was read in, so a steadier figure over fewer frames shows as such."""
    t = np.arange(12, dtype=np.float64)[:, None, None]
    real_track = np.concatenate([2 * t, t], axis=2).repeat(13, axis=1)  # (12, 13, 2)
    lost = real_track.copy()
    lost[[3, 7, 8]] = np.nan
    frames = moving_blob_sequence(12)
    figures = Evaluate.temporal_figures(frames, frames, lost, real_track)
    assert figures["sequence_detection_rate"] == pytest.approx(9 / 12)
    assert Evaluate.temporal_figures(frames, frames, real_track, real_track)["sequence_detection_rate"] == 1.0


# --- section 4: the background of a scene video ------------------------------------------------------
def test_a_pasted_mask_is_clipped_at_the_frame_and_dilated_by_a_32nd_of_the_side():
    alpha = np.full((32, 32), 255, np.uint8)
    person = Evaluate.pasted_person(alpha, (-16.0, 10.0, 64.0), (100, 50))  # half off the left edge, cut at the bottom
    assert person.shape == (50, 100)
    assert person[10:, :48].all() and not person[:8].any()  # the box, grown by 2 px (64 / 32)
    assert person[20, 49] and not person[20, 51]
    assert not Evaluate.pasted_person(np.zeros((32, 32), np.uint8), (0, 0, 40), (100, 50)).any()


def write_scene_transfer(folder, background_moves, n_frames=6, size=(160, 96), side=48, view_frame=60):
    """A transfer as DanceDemo.py leaves it for section 4: X.scene.mp4, a still textured room (or one
    panning 5 px a frame) with a disc as the generated person moving through it, X.layers.npz (the
    disc's alpha in each box, and the boxes) and X.frames.json pointing at a real target clip."""
    room = texture(size[1] + 64, size[0] + 64)
    frames, alphas, boxes = [], [], []
    alpha = np.zeros((side, side), np.uint8)
    cv2.circle(alpha, (side // 2, side // 2), side // 3, 255, -1)
    for t in range(n_frames):
        pan = 5 * t if background_moves else 0
        frame = room[16:16 + size[1], 16 + pan:16 + pan + size[0]].copy()
        x0, y0 = 20 + 12 * t, 30
        frame[y0:y0 + side, x0:x0 + side][alpha > 0] = (40, 200, 240)
        frames.append(frame)
        alphas.append(alpha)
        boxes.append((x0, y0, side))
    video = folder / "transfer.mp4"
    scene_video = video_io.write_video(video.with_name("transfer.scene.mp4"), frames, fps=25)
    np.savez(video.with_name("transfer.layers.npz"), alpha=np.stack(alphas), boxes=np.array(boxes, np.float64))
    return video, {"scene": {"video": scene_video.name, "size": list(size), "view_frame": view_frame}}


@pytest.fixture(scope="module")
def segmenter():
    with PoseDetector(video=False, segmentation=True) as detector:
        yield detector


@pytest.mark.parametrize("background_moves", [False, True], ids=["still room", "panning room"])
def test_background_steadiness_of_a_scene_video_against_the_real_target(background_moves, tmp_path, karate1, segmenter):
    video, flags = write_scene_transfer(tmp_path, background_moves)
    flags["scene"]["target_video"] = str(karate1)
    figures = Evaluate.background_steadiness(video, flags, segmenter)
    assert figures["background_mask"] == "compositing alpha" and figures["n_scene_frames"] == 6
    assert 0 < figures["background_change_real"] < 5  # a still camera: codec noise and a moving person's halo
    if background_moves:
        assert figures["background_change_generated"] > 20
        assert figures["background_steadiness"] > 10
    else:
        assert figures["background_change_generated"] < 1  # the disc is outside the counted pixels
    assert figures["background_steadiness"] == pytest.approx(
        figures["background_change_generated"] / figures["background_change_real"])


def test_the_real_reference_is_moved_back_from_the_end_of_the_target(tmp_path, karate1, segmenter):
    video, flags = write_scene_transfer(tmp_path, False, view_frame=190)
    flags["scene"]["target_video"] = str(karate1)
    n_karate_frames = video_io.video_info(karate1).n_frames
    assert Evaluate.background_steadiness(video, flags, segmenter)["reference_first_frame"] == n_karate_frames - 6


def test_a_transfer_without_a_scene_video_reports_why_and_keeps_flicker(tmp_path, segmenter):
    """An unregistrable target: no scene video, so no steadiness; the generated panel's flicker stays."""
    panels = moving_blob_sequence(6)
    video = video_io.write_video(tmp_path / "transfer.mp4", [np.concatenate([panel] * 3, axis=1) for panel in panels], 25)
    skeletons_path, flags_path = Evaluate.output_paths(video)
    np.save(skeletons_path, np.random.default_rng(3).uniform(0.3, 0.7, (6, 33, 4)).astype(np.float32))
    flags_path.write_text(json.dumps({"generator": "nearest", "generator_size": 64}))
    figures = Evaluate.transfer_figures(video, segmenter)
    assert figures["background_steadiness"] is None
    assert "no scene video" in figures["background_steadiness_reason"]
    assert figures["flicker"] > 0 and figures["n_frames"] == 6 and len(figures["jitter_by_frame_px"]) == 6
    assert "background steadiness not measured" in Evaluate.transfer_text(figures)
    assert figures["jitter_performer_px"] is None and "without source_boxes" in Evaluate.transfer_text(figures)


# --- sections 1 and 3 in a whole evaluation ------------------------------------------------------------
def test_a_short_evaluation_uses_consecutive_frames_and_reports_every_figure(synthetic_target, tmp_path):
    Evaluate.main([str(synthetic_target.cache_dir), "--gen", "nearest", "--max-frames", "4", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["validation_indices"] == [54, 55, 56, 57]  # the first 4 held-out frames: a sequence
    rows = {row["name"]: row for row in results["rows"]}
    real, nearest = rows["real"], rows["nearest"]
    assert (real["ssim_person"], real["ssim_background"], real["tof"], real["flicker_ratio"]) == (1.0, 1.0, 0.0, 1.0)
    assert 0 < nearest["ssim_person"] < 1 and 0 < nearest["ssim_background"] <= 1
    assert nearest["tof"] > 0 and nearest["flicker_ratio"] > 0
    per_frame_person = [frame["ssim_person"] for frame in nearest["per_frame"]]
    assert nearest["ssim_person"] == pytest.approx(np.nanmean(per_frame_person))
    table = (tmp_path / "results.md").read_text()
    assert "| person SSIM | background SSIM |" in table and "| tOF px |" in table
