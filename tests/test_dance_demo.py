"""DanceDemo: the driving poses (gaps, smoothing, body normalisation) and the transfer video, on
synthetic dancers with known joints and on the karate clip; bad input on the command line."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import SyntheticDancer
import video_io
from conftest import REPO_ROOT
import scene
import generators
from DanceDemo import DanceDemo, detect_source, driving_poses, scene_size, target_frame_skeletons
from generators import Entry, Generator, GeneratorError, generator_name, load_generator
from GenNearest import GenNearest
from paths import shown_python
from Skeleton import (DETECTED, HELD, INTERPOLATED, REDUCED_LANDMARKS, PoseNormalizer, fill_gaps, floor_ankle_y,
                      smooth_sequence, steady_sequence)
from VideoSkeleton import VideoSkeleton

FRAME_SIZE = (256, 192)  # small synthetic videos: quick to render and to detect
PANEL = 256  # DanceDemo's panel height


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """A short synthetic target (60 frames) and source (40 frames: another, taller person, farther away)."""
    folder = tmp_path_factory.mktemp("synthetic")
    return {"target": SyntheticDancer.default_target(folder / "target.mp4", n_frames=60, size=FRAME_SIZE),
            "source": SyntheticDancer.default_source(folder / "source.mp4", n_frames=40, size=FRAME_SIZE)}


@pytest.fixture(scope="module")
def target(videos, cache_root):
    return VideoSkeleton(videos["target"], cache_root=cache_root, verbose=False)


@pytest.fixture(scope="module")
def gan_checkpoint(target, tmp_path_factory):
    """A GAN trained for one short epoch at 64x64 on the small target: enough to load and run."""
    checkpoint = tmp_path_factory.mktemp("models") / "gan.pt"
    subprocess.run([sys.executable, str(REPO_ROOT / "GenGAN.py"), str(target.cache_dir), "--size", "64",
                    "--epochs", "1", "--checkpoint", str(checkpoint)], check=True, capture_output=True, timeout=300)
    return checkpoint


def in_height_units(landmarks, frame_size=FRAME_SIZE):
    """Ground truth normalised to the frame -> x and y both in frame heights, as DanceDemo works."""
    landmarks = np.array(landmarks, dtype=np.float64)
    landmarks[..., 0] *= frame_size[0] / frame_size[1]
    return landmarks


# --- body normalisation -----------------------------------------------------------------------------
def ankle_lines_and_height(sequence):
    """(far ankle y, near ankle y, height): the 5th and 95th percentiles of the lower ankle's y, and
    the 90th percentile of the nose-to-ankle height (the upright poses)."""
    ankles = sequence[:, [27, 28], 1].max(axis=1)
    heights = ankles - sequence[:, 0, 1]
    return (*np.percentile(ankles, [5, 95]), np.percentile(heights, 90))


def walk_in_depth(sequence, nearness, horizon_y):
    """What a camera sees when the person walks towards it: each pose scaled by nearness[t] about
    the point of the horizon above the person (a pinhole camera, level, on a flat floor)."""
    centre = np.array([np.median(sequence[:, [23, 24], 0]), horizon_y])
    moved = sequence.copy()
    moved[..., :2] = centre + nearness[:, None, None] * (sequence[..., :2] - centre)
    return moved


def assert_same_body(normalized, target, tolerance=0.05):
    """Ankle lines and upright height of two pose sets agree within 5 % of the target's height."""
    *source_lines, source_height = ankle_lines_and_height(normalized)
    *target_lines, target_height = ankle_lines_and_height(target)
    assert abs(source_height - target_height) < tolerance * target_height
    for source_line, target_line in zip(source_lines, target_lines):
        assert abs(source_line - target_line) < tolerance * target_height


def test_normalisation_gives_the_source_the_targets_height_and_ankle_line(videos):
    source = in_height_units(SyntheticDancer.load_ground_truth(videos["source"]))
    target = in_height_units(SyntheticDancer.load_ground_truth(videos["target"]))
    assert ankle_lines_and_height(source)[2] < 0.85 * ankle_lines_and_height(target)[2]  # farther: smaller
    normalized = PoseNormalizer.fit(source, target).apply(source)
    assert_same_body(normalized, target)
    centre_x = lambda poses: np.median((poses[:, 23, 0] + poses[:, 24, 0]) / 2)  # of the hip centre
    assert abs(centre_x(normalized) - centre_x(target)) < 0.01


def test_normalisation_follows_a_source_walking_towards_the_camera(videos):
    """A source that dances at one spot, walks towards the camera and dances on, mapped onto a target
    that does the same between two other distances: at each spot, the source must get the target's
    ankle line and height there (Everybody Dance Now's interpolation between the far and near lines)."""
    source = in_height_units(SyntheticDancer.load_ground_truth(videos["source"]))  # 40 frames
    target = in_height_units(SyntheticDancer.load_ground_truth(videos["target"]))  # 60 frames
    spots = lambda far, near: np.r_[np.full(40, far), np.linspace(far, near, 40), np.full(40, near)]
    source = walk_in_depth(np.concatenate([source] * 3), spots(0.6, 1.0), horizon_y=0.5)
    target = walk_in_depth(np.concatenate([target] * 2), spots(0.8, 1.1), horizon_y=0.55)
    normalized = PoseNormalizer.fit(source, target).apply(source)
    for spot in (slice(0, 40), slice(80, 120)):
        assert_same_body(normalized[spot], target[spot])


def test_without_normalisation_the_median_box_fills_the_crop(videos):
    source = in_height_units(SyntheticDancer.load_ground_truth(videos["source"]))
    boxed = PoseNormalizer.fit_box(source, margin=1.15).apply(source)
    low, high = np.median(boxed[:, :, :2].min(axis=1), axis=0), np.median(boxed[:, :, :2].max(axis=1), axis=0)
    assert np.allclose((low + high) / 2, 0.5, atol=1e-3)
    assert np.isclose(max(high - low), 1 / 1.15, atol=1e-3)


def test_the_source_square_frames_the_performer_as_the_crop_frames_the_mapped_pose(videos):
    """Each pose's mapping is a scale and a shift (the scale following its ankle line when the source
    walks in depth): the source square that source_squares gives must hold the source pose where the
    target square holds the mapped pose, joint for joint, with and without normalisation."""
    source = in_height_units(SyntheticDancer.load_ground_truth(videos["source"]))
    target = in_height_units(SyntheticDancer.load_ground_truth(videos["target"]))
    nearness = np.r_[np.full(40, 0.6), np.linspace(0.6, 1.0, 40), np.full(40, 1.0)]
    walking = walk_in_depth(np.concatenate([source] * 3), nearness, horizon_y=0.5)
    walking_normalizer = PoseNormalizer.fit(walking, target)
    assert np.ptp(walking_normalizer.scale(floor_ankle_y(walking))) > 0.1  # the scale follows the walk
    rng = np.random.default_rng(0)
    for normalizer, poses in ((walking_normalizer, walking), (PoseNormalizer.fit_box(source), source)):
        mapped = normalizer.apply(poses)[..., :2].astype(np.float64)  # (N, 33, 2)
        squares = np.column_stack([rng.uniform(-0.2, 0.2, (len(poses), 2)), rng.uniform(0.5, 1.5, len(poses))])
        in_crop = (mapped - squares[:, None, :2]) / squares[:, None, 2:]
        source_squares = normalizer.source_squares(poses, squares)  # (N, 3)
        in_source_square = (poses[..., :2] - source_squares[:, None, :2]) / source_squares[:, None, 2:]
        assert np.abs(in_source_square - in_crop).max() < 1e-5
        assert np.abs(source_squares[:, 2] - squares[:, 2]).max() > 0.01  # a real change of scale, not the identity


# --- gaps and smoothing -----------------------------------------------------------------------------
def test_short_gaps_are_interpolated_long_ones_held():
    poses = np.zeros((40, 33, 4), dtype=np.float32)
    poses[:, :, 0] = np.linspace(0, 1, 40)[:, None]  # moving right at a constant speed
    poses[[0, 1, 10, 11, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]] = np.nan
    filled, status = fill_gaps(poses, fps=10, max_gap_seconds=0.3)  # up to 3 frames are bridged
    assert np.isfinite(filled).all()
    assert list(status[[0, 1]]) == [HELD] * 2 and np.all(filled[:2] == filled[2])  # the start: first pose
    assert list(status[[10, 11]]) == [INTERPOLATED] * 2 and np.allclose(filled[10:12, 0, 0], [10 / 39, 11 / 39])
    assert np.all(status[20:31] == HELD) and np.all(filled[20:31] == filled[19])  # too long: the last pose held
    assert np.all(status[[2, 9, 12, 19, 31, 39]] == DETECTED)
    with pytest.raises(ValueError):
        fill_gaps(np.full((5, 33, 4), np.nan), fps=10)


def jitter(sequence):
    """Mean |x[t+1] - 2 x[t] + x[t-1]| over the 13 joints (EVALUATION.md's jitter)."""
    joints = sequence[:, list(REDUCED_LANDMARKS), :2]
    return np.abs(joints[2:] - 2 * joints[1:-1] + joints[:-2]).mean()


def test_one_euro_filter_removes_jitter_and_stays_close(videos):
    clean = in_height_units(SyntheticDancer.load_ground_truth(videos["target"]))  # 60 frames at 30 fps
    height = ankle_lines_and_height(clean)[2]
    noisy = clean.copy()
    noisy[..., :2] += np.random.default_rng(0).normal(0, 0.01 * height, noisy[..., :2].shape)
    smoothed = smooth_sequence(noisy, fps=30, unit=height)
    error = lambda poses: np.linalg.norm(poses[:, :, :2] - clean[:, :, :2], axis=-1).mean()
    assert jitter(smoothed) < 0.4 * jitter(noisy)
    assert error(smoothed) < 0.8 * error(noisy)
    assert np.array_equal(smoothed[:, :, 2:], noisy[:, :, 2:].astype(np.float32))  # z and visibility pass
    still = np.repeat(clean[:1], 30, axis=0)
    assert np.allclose(smooth_sequence(still, fps=30, unit=height), still, atol=1e-6)


def test_steadying_a_whole_sequence_removes_jitter_without_lag(videos):
    clean = in_height_units(SyntheticDancer.load_ground_truth(videos["target"]))  # 60 frames at 30 fps
    height = ankle_lines_and_height(clean)[2]
    noisy = clean.copy()
    noisy[..., :2] += np.random.default_rng(0).normal(0, 0.01 * height, noisy[..., :2].shape)
    steadied = steady_sequence(noisy, sigma_frames=1.5)
    error = lambda poses: np.linalg.norm(poses[:, :, :2] - clean[:, :, :2], axis=-1).mean()
    assert jitter(steadied) < 0.2 * jitter(noisy)
    assert error(steadied) < 0.7 * error(noisy)
    assert np.array_equal(steadied[:, :, 2:], noisy[:, :, 2:].astype(np.float32))  # z and visibility pass
    # a steady walk stays where it is (a centred window has no lag; the 1-euro filter trails it)
    walk = np.repeat(clean[:1], 30, axis=0)
    walk[:, :, 0] += np.linspace(0, 0.3 * height, 30, dtype=np.float32)[:, None]
    assert np.allclose(steady_sequence(walk, 1.5)[5:-5], walk[5:-5], atol=1e-5)
    trailing = smooth_sequence(walk, fps=30, unit=height)[5:-5, :, 0] - walk[5:-5, :, 0]
    assert (trailing < -1e-3 * height).all()
    # a landmark missing in a frame is left as it is, the others still steadied; sigma 0 changes nothing
    noisy = noisy.astype(np.float32)
    noisy[7, 0, :2] = np.nan
    gapped = steady_sequence(noisy, 1.5)
    assert np.isnan(gapped[7, 0, :2]).all() and np.array_equal(gapped[:, 0, :2][[6, 8]], noisy[:, 0, :2][[6, 8]])
    assert np.array_equal(gapped[:, 1:], steadied[:, 1:])
    assert np.array_equal(steady_sequence(noisy, 0), noisy, equal_nan=True)


def test_no_smooth_leaves_the_detections_untouched(videos, target):
    info, detections = detect_source(videos["source"], verbose=False)
    raw = driving_poses(detections, info.fps, target, target.typical_view(), smooth=False)
    smoothed = driving_poses(detections, info.fps, target, target.typical_view(), smooth=True)
    assert np.all(raw.status == DETECTED)
    assert np.array_equal(raw.source, detections)
    assert not np.array_equal(smoothed.source, detections)
    assert jitter(smoothed.source) < jitter(raw.source)
    for driving in (raw, smoothed):  # the driving skeletons sit inside the target's crop
        joints = driving.skeletons[:, list(REDUCED_LANDMARKS), :2]
        assert joints.min() > 0 and joints.max() < 1


# --- the transfer -----------------------------------------------------------------------------------
def test_generator_names_and_missing_models(target):
    assert [generator_name(g) for g in (1, "2", "vanilla-image", "GAN")] == ["nearest", "vanilla-vector", "vanilla-image", "gan"]
    with pytest.raises(GeneratorError, match="unknown generator"):
        generator_name(7)
    assert isinstance(load_generator(1, target), GenNearest)
    python = shown_python()
    with pytest.raises(GeneratorError, match=f"no trained gan .* train one with: {python} GenGAN.py"):
        load_generator(4, target)  # nothing in data/models for this private target
    with pytest.raises(GeneratorError, match="--paint-person is an option of gan only, not of nearest"):
        load_generator(1, target, paint_person=True)
    with pytest.raises(GeneratorError, match="--no-mirror is an option of gan only, not of nearest"):
        load_generator(1, target, no_mirror=True)


class FirstCrop(Generator):
    """A toy generator: whatever the pose, the target's first crop, all of it person."""

    name = "first-crop"

    def __init__(self, target):
        self.target, self.size, self.composites = target, target.crop_size, True

    def generate_layers(self, skeletons, sequence=False):
        person = np.repeat(self.target.image(0)[None], len(skeletons), axis=0)  # (N, S, S, 3)
        return person, np.ones(person.shape[:3], np.float32)


@pytest.fixture
def first_crop_registered():
    generators.register(Entry("first-crop", None, lambda target, **_: FirstCrop(target)))
    yield
    generators.unregister("first-crop")


def test_a_generator_added_to_the_registry_drives_the_transfer(videos, target, tmp_path, first_crop_registered):
    summary = DanceDemo(videos["source"], "first-crop", target=target, out=tmp_path / "toy.mp4", max_frames=6,
                        verbose=False).draw()
    assert summary["generator"] == "first-crop" and summary["n_frames"] == 6
    assert np.array_equal(FirstCrop(target).generate(target.skeleton(5)), target.image(0))  # alpha 1: the crop itself
    _, frames = video_io.read_frames(summary["files"]["scene"])
    assert len(frames) == 6
    assert "first-crop" in generators.described()


def cli(*args):
    return [sys.executable, str(REPO_ROOT / "DanceDemo.py"), *map(str, args)]


def test_cli_writes_the_scene_the_side_by_side_video_and_the_driving_skeletons(videos, target, tmp_path):
    out = tmp_path / "out" / "transfer.mp4"
    result = subprocess.run(cli(videos["source"], "--target", target.cache_dir, "--gen", 1, "--out", out),
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    _, frames = video_io.read_frames(out)
    source_width = 2 * round(FRAME_SIZE[0] * PANEL / FRAME_SIZE[1] / 2)  # the scene panel has the target's aspect
    assert len(frames) == 40 and frames[0].shape == (PANEL, 2 * source_width + PANEL, 3)
    scene_info = video_io.video_info(out.with_name("transfer.scene.mp4"))  # one frame per source frame
    assert scene_info.n_frames == 40 and (scene_info.width, scene_info.height) == scene_size(FRAME_SIZE) == FRAME_SIZE
    skeletons = np.load(out.with_name("transfer.skeletons.npy"))
    flags = json.loads(out.with_name("transfer.frames.json").read_text())
    layers = np.load(out.with_name("transfer.layers.npz"))
    assert skeletons.shape == (40, 33, 4) and np.isfinite(skeletons[:, :, :2]).all()
    assert layers["alpha"].shape == (40, target.crop_size, target.crop_size) and layers["boxes"].shape == (40, 3)
    assert flags["n_frames"] == 40 and flags["status"] == [DETECTED] * 40 and flags["generator"] == "nearest"
    assert flags["scene"]["size"] == list(FRAME_SIZE) and 0 <= flags["scene"]["view_frame"] < 60
    for path in (out, out.with_name("transfer.skeletons.npy"), out.with_name("transfer.frames.json"),
                 out.with_name("transfer.scene.mp4"), out.with_name("transfer.layers.npz")):
        assert f"wrote {path}" in result.stdout  # every file written is named
    assert not list(out.parent.glob("*partial*"))
    # output to a file or a pipe: no progress bars, and none of MediaPipe's start-up lines
    for noise in ("\r", "it/s]", "frame/s]", "W0000", "I0000", "absl", "TensorFlow Lite", "XNNPACK", "INFO:"):
        assert noise not in result.stdout + result.stderr, (noise, result.stderr)


def test_the_scene_of_a_transfer_stands_still_and_shows_the_target(videos, target, tmp_path):
    summary = DanceDemo(videos["source"], 1, target=target, out=tmp_path / "still.mp4", verbose=False).draw()
    _, frames = video_io.read_frames(summary["files"]["scene"])
    boxes = np.load(summary["files"]["layers"])["boxes"]
    frames = np.stack(frames).astype(np.int16)  # (40, H, W, 3)
    touched = np.zeros(frames.shape[1:3], bool)  # every pixel any crop covered
    for x0, y0, side in boxes:
        touched[max(0, int(y0)):int(np.ceil(y0 + side)), max(0, int(x0)):int(np.ceil(x0 + side))] = True
    assert 0.05 < touched.mean() < 0.9
    room = target.scene().render(target.view(view_index(target, summary)).camera).astype(np.int16)  # (H, W, 3)
    outside = ~touched
    change = np.abs(np.diff(frames, axis=0)).mean(axis=-1)  # (39, H, W)
    assert change[:, outside].mean() < 0.5  # still, but for the codec
    assert np.abs(frames[:, outside] - room[outside]).mean() < 3  # and it is the target's room in the fixed view
    assert change[:, touched].mean() > 3 * change[:, outside].mean()  # while the person moves
    from Evaluate import transfer_figures  # EVALUATION.md section 4: as steady as the real scene, or steadier
    from Skeleton import PoseDetector
    with PoseDetector(video=False, segmentation=True) as detector:
        figures = transfer_figures(Path(summary["files"]["video"]), detector)
        assert figures["background_mask"] == "compositing alpha" and figures["background_steadiness"] <= 1.2, figures
        # the poses read in the generated person are measured against the poses that drove it: against
        # the driving poses of other frames (the sequence turned by half its length) they are farther
        assert figures["detection_rate"] > 0.5 and 0 < figures["joint_error_px"] < 40, figures
        # the real performer, cut from the source video at the squares the normalisation maps onto the
        # crops, stands where the driving poses (his own, smoothed) put the generated person
        assert figures["performer_detection_rate"] > 0.9 and figures["performer_joint_error_px"] < 8, figures
        assert 0 < figures["jitter_performer_px"] < 10 and len(figures["jitter_performer_by_frame_px"]) == 40
        skeletons_path = Path(summary["files"]["skeletons"])
        driving = np.load(skeletons_path)
        np.save(skeletons_path, np.roll(driving, len(driving) // 2, axis=0))
        shifted = transfer_figures(Path(summary["files"]["video"]), detector)
    assert shifted["joint_error_px"] > 1.5 * figures["joint_error_px"], (shifted["joint_error_px"], figures["joint_error_px"])
    assert shifted["performer_joint_error_px"] > 2 * figures["performer_joint_error_px"], shifted


def view_index(target, summary):
    return int(np.abs(np.asarray(target.meta["frame_indices"]) - summary["scene"]["view_frame"]).argmin())


def test_the_normalised_pose_stands_on_the_floor_of_the_scene(target):
    """The target dancing its own moves (its own poses, from the fixed view, as the source) must be
    placed where it stood: its ankles on its own floor line, its height its own."""
    view = target.typical_view()
    height = target.meta["frame_size"][1]
    own = target_frame_skeletons(target, view.camera)  # (M, 33, 4) frame-height units of the view
    driving = driving_poses(own, target.fps, target, view, smooth=False)
    placed = driving.skeletons[..., :2] * driving.boxes[:, None, 2:] + driving.boxes[:, None, :2]  # frame heights
    ankles = lambda poses: poses[:, [27, 28], 1].max(axis=1) * height  # (M,) px of the frame
    assert np.median(np.abs(ankles(placed) - ankles(own))) < 0.01 * height
    assert np.abs(driving.boxes[:, 2] * height - view.box[2]).max() < 1e-6  # crops of the view's side


def unregistrable_copy(target, folder):
    """The target's cache as if its camera could not be registered (what VideoSkeleton writes then)."""
    copy = folder / (target.cache_dir.name)
    shutil.copytree(target.cache_dir, copy)
    meta = json.loads((copy / "meta.json").read_text())
    meta["scene"]["camera"] = scene.NOT_REGISTRABLE
    (copy / "meta.json").write_text(json.dumps(meta))
    np.save(copy / "cameras.npy", np.full_like(np.load(copy / "cameras.npy"), np.nan))
    return VideoSkeleton(copy, verbose=False)


def test_an_unregistrable_target_falls_back_to_the_crops_and_says_so(videos, target, tmp_path, capsys):
    fallback = unregistrable_copy(target, tmp_path)
    assert not fallback.scene().registrable and fallback.view(3).camera is None
    nearest = GenNearest(fallback)
    assert np.array_equal(nearest.generate(fallback.skeleton(3)), fallback.image(3))  # the crop as it is
    demo = DanceDemo(videos["source"], 1, target=fallback, out=tmp_path / "fallback.mp4", max_frames=10)
    assert "the scene could not be registered" in capsys.readouterr().out
    summary = demo.draw()
    assert "scene" not in summary["files"] and not (tmp_path / "fallback.scene.mp4").exists()
    _, frames = video_io.read_frames(summary["files"]["video"])
    source_width = 2 * round(FRAME_SIZE[0] * PANEL / FRAME_SIZE[1] / 2)
    assert len(frames) == 10 and frames[0].shape == (PANEL, source_width + 2 * PANEL, 3)  # the square crop


def test_a_stretch_without_anybody_gives_held_frames_not_a_shorter_video(videos, target, tmp_path):
    _, frames = video_io.read_frames(videos["source"])
    for t in range(12, 32):  # 20 frames (0.67 s) of a plain wall
        frames[t] = np.full_like(frames[t], (180, 190, 200))
    gapped = video_io.write_video(tmp_path / "gapped.mp4", frames, fps=30)
    summary = DanceDemo(gapped, 1, target=target, out=tmp_path / "gapped_out.mp4", verbose=False).draw()
    status = np.array(summary["status"])
    assert len(video_io.read_frames(summary["files"]["video"])[1]) == len(frames) == 40
    assert np.all(np.isin(status[12:32], [HELD, INTERPOLATED])) and np.count_nonzero(status == HELD) >= 15
    assert np.all(status[:12] == DETECTED)
    assert summary["counts"][DETECTED] + summary["counts"][INTERPOLATED] + summary["counts"][HELD] == 40


def test_karate_transition_is_held_and_the_video_complete(karate1, target, tmp_path):
    summary = DanceDemo(karate1, 1, target=target, out=tmp_path / "karate.mp4", max_frames=160, verbose=False).draw()
    status = np.array(summary["status"])
    assert len(status) == 160 and np.all(status[133:148] == HELD) and np.all(status[:120] == DETECTED)
    skeletons = np.load(summary["files"]["skeletons"])
    assert np.isfinite(skeletons[:, :, :2]).all()
    assert np.array_equal(skeletons[135], skeletons[145])  # one pose held through the graphic


def test_a_trained_gan_drives_the_transfer(videos, target, gan_checkpoint, tmp_path):
    demo = DanceDemo(videos["source"], "gan", target=target, checkpoint=gan_checkpoint,
                     out=tmp_path / "gan.mp4", max_frames=12, verbose=False)
    assert demo.generator.size == 64
    summary = demo.draw()
    assert summary["generator"] == "gan" and summary["n_frames"] == 12
    _, frames = video_io.read_frames(summary["files"]["video"])
    assert len(frames) == 12 and frames[0].shape[0] == PANEL


# --- bad input on the command line ------------------------------------------------------------------
@pytest.fixture(scope="module")
def other_target(tmp_path_factory, cache_root):
    """A second target (another video) whose models do not fit the first."""
    folder = tmp_path_factory.mktemp("other")
    video = SyntheticDancer.default_target(folder / "other.mp4", n_frames=20, size=FRAME_SIZE)
    return VideoSkeleton(video, cache_root=cache_root, verbose=False)


def bad_inputs(tmp_path, videos, target, other_target, gan_checkpoint, no_person_video):
    text_file = tmp_path / "notes.mp4"
    text_file.write_text("not a video\n")
    source, cache = videos["source"], target.cache_dir
    return {
        "missing source": ([tmp_path / "nowhere.mp4", "--target", cache, "--gen", 1], "no such file"),
        "text file as source": ([text_file, "--target", cache, "--gen", 1], "not a readable video"),
        "no trained model": ([source, "--target", cache, "--gen", "gan", "--checkpoint", tmp_path / "none.pt"],
                             "no trained gan"),
        "model of another target": ([source, "--target", other_target.cache_dir, "--gen", 4,
                                     "--checkpoint", gan_checkpoint], "trained on another target"),
        "nobody in the source": ([no_person_video, "--target", cache, "--gen", 1], "no person detected"),
    }


@pytest.mark.parametrize("case", ["missing source", "text file as source", "no trained model",
                                  "model of another target", "nobody in the source"])
def test_cli_bad_input_is_one_clear_line(case, tmp_path, videos, target, other_target, gan_checkpoint, no_person_video):
    args, message = bad_inputs(tmp_path, videos, target, other_target, gan_checkpoint, no_person_video)[case]
    out = tmp_path / "out" / "bad.mp4"
    result = subprocess.run(cli(*args, "--out", out), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    last_line = result.stderr.strip().splitlines()[-1]
    assert result.returncode != 0
    assert last_line.startswith("error:") and message in last_line, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.parent.exists() or not list(out.parent.iterdir())


def test_the_builtin_demo_replaces_a_gan_this_version_cannot_use(target, gan_checkpoint, tmp_path, capsys):
    import torch
    from DanceDemo import usable_checkpoint
    assert usable_checkpoint(gan_checkpoint, target)
    older = torch.load(gan_checkpoint, weights_only=False)
    older["format"] = 1  # saved before the generators composited
    torch.save(older, tmp_path / "older.pt")
    assert not usable_checkpoint(tmp_path / "older.pt", target)
    assert "training a new one in its place" in capsys.readouterr().out
    assert not usable_checkpoint(tmp_path / "missing.pt", target)
