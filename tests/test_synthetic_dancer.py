"""SyntheticDancer: MediaPipe finds the mannequin where its ground truth says, renders repeat exactly,
and the default target and source are two different people."""
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import SyntheticDancer as dancer  # noqa: E402
import video_io  # noqa: E402
from Skeleton import LANDMARK_NAMES, PoseDetector, Skeleton  # noqa: E402

NOSE, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP, LEFT_ANKLE, RIGHT_ANKLE = (
    LANDMARK_NAMES.index(name) for name in
    ("nose", "left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_ankle", "right_ankle"))


def short_clip(preset, n_frames, size=None):
    appearance, scene = dancer.PRESETS[preset]
    scene = replace(scene, n_frames=n_frames)
    if size is not None:
        scene = replace(scene, width=size[0], height=size[1])
    return appearance, scene


@pytest.mark.parametrize("preset", ["target", "source"])
def test_mediapipe_finds_the_dancer_at_its_ground_truth(preset, tmp_path):
    # Measured on the full default videos: 100 % found, mean error 1.8 px (target, 279 px tall)
    # and 1.9 px (source, 215 px tall) at 512x384.
    appearance, scene = short_clip(preset, n_frames=90)
    path, ground_truth = dancer.make_video(tmp_path / f"{preset}.mp4", appearance, scene, progress=False)
    _, frames = video_io.read_frames(path)
    errors = []
    with PoseDetector(video=True) as detector:
        for frame, truth in zip(frames, ground_truth):
            found = detector.detect(frame)
            if found is not None:
                pixel_offsets = (found.joints() - Skeleton(truth).joints()) * (scene.width, scene.height)
                errors.append(np.linalg.norm(pixel_offsets, axis=1).mean())
    assert len(errors) / len(frames) >= 0.98
    assert np.mean(errors) < 4.5, f"mean joint error {np.mean(errors):.2f} px"
    assert np.max(errors) < 8.0, f"worst frame {np.max(errors):.2f} px"


def test_make_video_writes_the_video_and_its_ground_truth(tmp_path):
    appearance, scene = short_clip("target", n_frames=12, size=(256, 192))
    path, ground_truth = dancer.make_video(tmp_path / "clip.mp4", appearance, scene, progress=False)
    assert (tmp_path / "clip.joints.npy").is_file() and (tmp_path / "clip.params.json").is_file()
    loaded = dancer.load_ground_truth(path)
    _, frames = video_io.read_frames(path)
    assert loaded.shape == (len(frames), 33, 4) and loaded.dtype == np.float32
    assert frames[0].shape == (192, 256, 3)
    np.testing.assert_array_equal(loaded, ground_truth)
    assert (loaded[..., :2] > 0).all() and (loaded[..., :2] < 1).all()  # the dancer stays in the frame


def test_same_seed_gives_the_same_frames():
    appearance, scene = dancer.PRESETS["source"]
    for time in (0.0, 1.3, 3.7):
        frame_a, joints_a = dancer.render_frame(appearance, scene, time)
        frame_b, joints_b = dancer.render_frame(dancer.Appearance(**vars(appearance)), replace(scene), time)
        np.testing.assert_array_equal(frame_a, frame_b)
        np.testing.assert_array_equal(joints_a, joints_b)
    assert dancer.Appearance.random(7) == dancer.Appearance.random(7)
    assert dancer.choreograph(scene, 0.2) == dancer.choreograph(replace(scene), 0.2)
    other_seed = replace(scene, motion_seed=scene.motion_seed + 1)
    assert dancer.choreograph(scene, 0.2) != dancer.choreograph(other_seed, 0.2)


def test_target_and_source_are_different_people():
    looks = {}
    for preset in ("target", "source"):
        appearance, scene = dancer.PRESETS[preset]
        frame, joints = dancer.render_frame(appearance, scene, dancer.REST)
        pixels = joints[:, :2] * (scene.width, scene.height)
        shoulders, hips = pixels[[LEFT_SHOULDER, RIGHT_SHOULDER]].mean(0), pixels[[LEFT_HIP, RIGHT_HIP]].mean(0)
        chest = 0.6 * shoulders + 0.4 * hips
        x, y = chest.astype(int)
        shirt_colour = frame[y - 3:y + 4, x - 3:x + 4].reshape(-1, 3).mean(0)
        body_height = pixels[[LEFT_ANKLE, RIGHT_ANKLE], 1].mean() - pixels[NOSE, 1]
        looks[preset] = shirt_colour, body_height
    (target_shirt, target_height), (source_shirt, source_height) = looks["target"], looks["source"]
    assert np.linalg.norm(target_shirt - source_shirt) > 60
    assert target_height > 1.1 * source_height  # nearer the camera, though the shorter person


def test_feet_stay_on_the_floor():
    appearance, scene = dancer.PRESETS["target"]
    ankle_height = dancer.ANKLE_HEIGHT * dancer.stature_pixels(appearance, scene) / scene.height
    ankle_on_floor = scene.feet_y - ankle_height  # normalised, like the joints
    for index in range(0, scene.n_frames, 2):
        _, joints = dancer.render_frame(appearance, scene, index / scene.fps)
        lower_ankle = joints[[LEFT_ANKLE, RIGHT_ANKLE], 1].max()
        assert abs(lower_ankle - ankle_on_floor) * scene.height < 0.5


def test_default_video_is_rendered_once(tmp_path, capsys):
    path = dancer.default_target(tmp_path / "target.mp4", n_frames=8, size=(256, 192))
    modified = path.stat().st_mtime_ns
    assert dancer.default_target(tmp_path / "target.mp4", n_frames=8, size=(256, 192)) == path
    assert path.stat().st_mtime_ns == modified
    assert f"found {path}" in capsys.readouterr().out
    dancer.default_target(tmp_path / "target.mp4", n_frames=9, size=(256, 192))  # other parameters
    assert len(dancer.load_ground_truth(path)) == 9
