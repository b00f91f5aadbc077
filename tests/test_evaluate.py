"""Evaluate: the metric functions on pairs with known answers, and a whole evaluation of a small
synthetic target with the nearest-neighbour generator and a GAN trained for one epoch."""
import json
import math
import subprocess
import sys

import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

import Evaluate
import GenGAN
from conftest import REPO_ROOT
from Skeleton import PoseDetector

# matplotlib (metrics.png) calls pyparsing with argument names that pyparsing 3.3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pyparsing.*")


# --- the figures on pairs with known answers -------------------------------------------------------
def random_image(seed, size=64):
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def test_identical_images_give_ssim_1_infinite_psnr_and_zero_l1():
    image = random_image(0)
    assert Evaluate.ssim(image, image.copy()) == pytest.approx(1.0)
    assert Evaluate.psnr(image, image.copy()) == math.inf
    assert Evaluate.l1(image, image.copy()) == 0.0


def test_ssim_is_scikit_images_call_from_the_evaluation_definitions():
    a, b = random_image(1), random_image(2)
    blurred = cv2.GaussianBlur(a, (5, 5), 0)  # a pair with some structure in common
    for image, reference in ((a, b), (a, blurred)):
        expected = structural_similarity(image[..., ::-1] / 255, reference[..., ::-1] / 255, channel_axis=-1,
                                         gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1)
        assert Evaluate.ssim(image, reference) == pytest.approx(expected, abs=1e-12)
    assert Evaluate.ssim(a, blurred) > Evaluate.ssim(a, b)


def test_psnr_and_l1_of_a_known_difference():
    image = np.full((32, 32, 3), 100, np.uint8)
    brighter = image + np.uint8(51)  # every value differs by 51/255 = 0.2
    assert Evaluate.l1(image, brighter) == pytest.approx(0.2)
    assert Evaluate.psnr(image, brighter) == pytest.approx(10 * math.log10(1 / 0.04))


def test_a_real_crop_shows_the_pose_it_was_cached_with(synthetic_target):
    """MediaPipe on a real crop finds its cached skeleton again, within detection noise."""
    errors = []
    with PoseDetector(video=False) as detector:
        for index in (0, 30, 59):
            given = synthetic_target.skeleton(index)
            detected = Evaluate.detect_pose(detector, synthetic_target.image(index))
            assert detected is not None
            assert Evaluate.pose_error(detected, detected) == 0.0
            errors.append(Evaluate.pose_error(given, detected))
    assert np.mean(errors) < 6.0  # px of 256: the detector's own noise on one image


def test_straight_constant_speed_track_has_no_jitter_and_a_shaking_one_has():
    t = np.arange(20, dtype=np.float64)[:, None, None]  # (T, 1, 1)
    straight = np.concatenate([3 * t + 5, -2 * t + 100], axis=2).repeat(13, axis=1)  # (T, 13, 2)
    assert Evaluate.jitter(straight) == pytest.approx(0.0, abs=1e-12)
    shaking = straight.copy()
    shaking[::2, :, 0] += 1  # +1 px on every other frame: |x[t+1] - 2 x[t] + x[t-1]| = 2
    assert Evaluate.jitter(shaking) == pytest.approx(2.0)


def test_jitter_by_frame_shows_where_a_track_shakes():
    t = np.arange(12, dtype=np.float64)[:, None, None]
    track = np.concatenate([t, t], axis=2).repeat(13, axis=1)  # (12, 13, 2) constant speed
    track[6, :, 0] += 3  # one frame off by 3 px: accelerations 3, 6, 3 at frames 5, 6, 7
    track[10] = np.nan
    by_frame = Evaluate.jitter_by_frame(track)
    np.testing.assert_allclose(by_frame[[5, 6, 7]], [3, 6, 3])
    assert (by_frame[[1, 2, 3, 4, 8]] == 0).all() and np.isnan(by_frame[[0, 9, 10, 11]]).all()
    assert Evaluate.jitter(track) == pytest.approx(12 / 8)  # the mean over the 8 counted frames
    figures = [None if np.isnan(value) else float(value) for value in by_frame]
    assert Evaluate.shakiest_text(figures, 2) == ", shakiest at frames 6 (6 px), 5 (3 px)"


def test_jitter_skips_frames_next_to_a_missed_detection():
    t = np.arange(10, dtype=np.float64)[:, None, None]
    track = np.concatenate([t, t], axis=2).repeat(13, axis=1)
    track[5] = np.nan
    track[6] += 50  # a jump right after the gap would show if the gap were bridged
    track[7:] += 50
    assert Evaluate.jitter(track) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(Evaluate.jitter(track[:2]))


def test_sliding_jitter_ranges_from_the_steady_windows_to_the_shaking_ones():
    from bench.detector_limits import sliding_jitter
    t = np.arange(40, dtype=np.float64)[:, None, None]
    track = np.concatenate([t, 2 * t], axis=2).repeat(13, axis=1)  # (40, 13, 2) constant speed
    track[30::2, :, 0] += 1  # the last 10 frames shake: 2 px of acceleration per frame there
    figures = sliding_jitter(track, window=10)
    assert figures["n_windows"] == 31 and figures["frames"] == [0, 39]
    assert figures["min_px"] == pytest.approx(0.0, abs=1e-12)  # frames 0-9 ... 19-28 do not shake
    assert figures["max_px"] == pytest.approx(2.0)  # frames 30-39: every counted frame shakes
    assert 0.0 <= figures["q1_px"] <= figures["median_px"] <= figures["q3_px"] <= figures["max_px"]
    assert sliding_jitter(track, window=100)["n_windows"] == 1  # a window longer than the video: the video


def test_flicker_of_identical_frames_is_zero_and_of_alternating_ones_is_their_difference():
    frame = random_image(3)
    assert Evaluate.flicker([frame] * 5) == 0.0
    dark, light = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 10, np.uint8)
    assert Evaluate.flicker([dark, light, dark]) == pytest.approx(10.0)


# --- a whole evaluation ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def evaluation(synthetic_target, tmp_path_factory):
    """Evaluate nearest and a GAN trained one epoch at 64x64, with every output asked for."""
    folder = tmp_path_factory.mktemp("evaluate")
    checkpoint = folder / "gan.pt"
    GenGAN.main([str(synthetic_target.cache_dir), "--size", "64", "--epochs", "1", "--checkpoint", str(checkpoint)])
    Evaluate.main([str(synthetic_target.cache_dir), "--gen", "nearest", "--gen", "4", "--checkpoint", f"gan={checkpoint}",
                   "--out", str(folder / "eval"), "--save-pairs", str(folder / "pairs")])
    return folder


def test_evaluation_writes_every_file(evaluation):
    for name in ("results.json", "results.md", "comparison.png", "metrics.png"):
        assert (evaluation / "eval" / name).stat().st_size > 0
    comparison = cv2.imread(str(evaluation / "eval" / "comparison.png"))
    assert comparison.shape[1] == 4 * Evaluate.TILE  # asked pose | real | nearest | gan
    table = (evaluation / "eval" / "results.md").read_text()
    for row in ("| real", "| nearest | 64", "| gan | 64", "1 epoch, ", "| person SSIM | background SSIM |",
                "## Temporal quality of the held-out sequence", "| tOF px |"):
        assert row in table


def test_figures_are_sane_and_the_budget_is_recorded(evaluation, synthetic_target):
    results = json.loads((evaluation / "eval" / "results.json").read_text())
    rows = {row["name"]: row for row in results["rows"]}
    assert set(rows) == {"real", "nearest", "gan"}
    assert results["n_validation_frames"] == 6  # the last 10 % of 60 frames
    assert results["validation_indices"] == list(range(54, 60))
    for name in ("nearest", "gan"):
        row = rows[name]
        assert 0 <= row["ssim"] <= 1 and math.isfinite(row["psnr"]) and 0 <= row["l1"] <= 1
        assert 0 <= row["detection_rate"] <= 1
        assert len(row["per_frame"]) == 6
        assert 0 <= row["ssim_person"] < 1 and 0 <= row["ssim_background"] <= 1  # section 1
        assert row["tof"] > 0 and row["flicker_ratio"] > 0 and row["flicker"] > 0  # section 3
        assert row["pose_jitter_ratio"] is None or row["pose_jitter_ratio"] > 0  # None: too few frames read
        assert 0 <= row["sequence_detection_rate"] <= 1
    real = rows["real"]
    assert (real["ssim"], real["ssim_person"], real["ssim_background"], real["l1"]) == (1.0, 1.0, 1.0, 0.0)
    assert (real["tof"], real["pose_jitter_ratio"], real["flicker_ratio"]) == (0.0, 1.0, 1.0)
    assert real["sequence_detection_rate"] == real["detection_rate"]
    assert rows["real"]["detection_rate"] == 1.0
    real_errors = [frame["joint_error_px"] for frame in rows["real"]["per_frame"]]
    assert rows["real"]["median_joint_error_px"] == pytest.approx(np.median(real_errors))
    assert rows["real"]["joint_error_px"] == pytest.approx(np.mean(real_errors))
    assert rows["gan"]["budget"]["epochs"] == 1 and rows["gan"]["budget"]["batch_size"] == 8
    assert rows["nearest"]["budget"]["n_frames_indexed"] == 54


def test_saved_pairs_let_anyone_recompute_the_figures(evaluation, synthetic_target):
    pairs = evaluation / "pairs"
    names = sorted(path.name for path in (pairs / "real").iterdir())
    assert names == [f"{i:05d}.png" for i in range(54, 60)]
    for generator in ("nearest", "gan"):
        assert sorted(path.name for path in (pairs / generator).iterdir()) == names
    skeletons = np.load(pairs / "skeletons.npy")
    assert skeletons.shape == (6, 33, 4)
    np.testing.assert_array_equal(skeletons, synthetic_target.skeletons[54:60])
    results = json.loads((evaluation / "eval" / "results.json").read_text())
    gan = next(row for row in results["rows"] if row["name"] == "gan")
    ssims = [Evaluate.ssim(cv2.imread(str(pairs / "gan" / name)), cv2.imread(str(pairs / "real" / name)))
             for name in names]
    assert np.mean(ssims) == pytest.approx(gan["ssim"], abs=1e-9)


def test_help_names_every_figure_and_says_max_frames_keeps_a_sequence():
    result = run_evaluate("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for words in ("person and background SSIM", "tOF", "flicker", "background steadiness",
                  "the first N validation frames, consecutive in time"):
        assert words in text


def run_evaluate(*argv):
    return subprocess.run([sys.executable, "Evaluate.py", *map(str, argv)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("argv, message", [
    (["no/such/video.mp4"], "no such video"),
    (["{target}", "--gen", "nearest", "--gen", "dalle"], "unknown generator"),
    (["{target}", "--gen", "gan", "--checkpoint", "{missing}"], "no generator to evaluate"),
    (["{target}", "--gen", "nearest", "--checkpoint", "{missing}"], "has no checkpoint"),
])
def test_bad_input_gives_one_error_line(argv, message, synthetic_target, tmp_path):
    argv = [a.format(target=synthetic_target.cache_dir, missing=tmp_path / "none.pt") for a in argv]
    result = run_evaluate(*argv, "--out", tmp_path / "eval")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error:")
    assert message in result.stderr
