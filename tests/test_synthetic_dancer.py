"""SyntheticDancer: MediaPipe finds the mannequin where its ground truth says, renders repeat exactly,
the default target and source are two different people, and the moving camera's truth is exact."""
import json
import sys
from dataclasses import replace
from pathlib import Path

import cv2
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


def test_default_video_gets_its_camera_file_without_rendering_again(tmp_path):
    path = dancer.default_target(tmp_path / "target.mp4", n_frames=8, size=(256, 192))
    dancer.camera_path(path).unlink()  # as videos rendered before the cameras were saved
    modified = path.stat().st_mtime_ns
    dancer.default_target(tmp_path / "target.mp4", n_frames=8, size=(256, 192))
    assert path.stat().st_mtime_ns == modified
    np.testing.assert_array_equal(dancer.load_camera(path), np.tile(np.eye(3), (8, 1, 1)))


# --- the camera -----------------------------------------------------------------------------------

def test_still_camera_is_the_identity_and_leaves_the_frames_as_they_were(tmp_path):
    appearance, scene = short_clip("target", n_frames=6, size=(256, 192))
    path, _ = dancer.make_video(tmp_path / "still.mp4", appearance, scene, progress=False)
    cameras = dancer.load_camera(path)
    assert cameras.shape == (6, 3, 3) and cameras.dtype == np.float64
    np.testing.assert_array_equal(cameras, np.tile(np.eye(3), (6, 1, 1)))
    assert dancer.room_image(scene) is dancer.background(scene)
    # Pixels and joints as the still renderer has always made them: the person over the background.
    segments = dancer.choreograph(scene, dancer.max_travel(appearance, scene))
    for time in (0.0, 1.7):
        points = dancer.body_points(appearance, scene, dancer.pose_at(segments, time))
        expected = dancer.background(scene).copy()
        dancer.draw_person(expected, appearance, points)
        frame, joints = dancer.render_frame(appearance, scene, time)
        np.testing.assert_array_equal(frame, expected)
        expected_joints = dancer.landmarks_from_pixels(dancer.landmark_pixels(points), scene)
        np.testing.assert_array_equal(joints, expected_joints)
    # Parameters written as before cameras could move, so that earlier renders stay valid.
    assert "camera" not in json.loads(dancer.params_path(path).read_text())["scene"]


def test_pan_zoom_camera_pans_and_zooms_smoothly_inside_the_room():
    appearance, scene = dancer.PRESETS["target-moving"]
    scene = replace(scene, width=256, height=192, n_frames=240)  # 8 s: the camera's whole path
    cameras = dancer.camera_matrices(scene)  # (240, 3, 3), frame pixels -> room pixels
    scale, shift = cameras[:, 0, 0], cameras[:, :2, 2]
    np.testing.assert_array_equal(cameras[:, 1, 1], scale)  # a similarity: pan and zoom, no rotation
    np.testing.assert_array_equal(cameras[:, [0, 1, 2, 2], [1, 0, 0, 1]], 0)
    assert scale.max() / scale.min() > 1.2
    middle = np.array([scene.width - 1, scene.height - 1]) / 2  # the frame's centre, in frame pixels
    centres = shift + scale[:, None] * middle  # where the camera looks, in room pixels
    assert np.ptp(centres[:, 0]) > 0.35 * scene.width and np.ptp(centres[:, 1]) > 0.1 * scene.height
    assert np.abs(np.diff(centres, axis=0)).max() < 0.01 * scene.width  # per frame, at 30 fps
    assert np.abs(np.diff(np.log(scale))).max() < 0.01
    room_height, room_width = dancer.room_image(scene).shape[:2]
    corners = np.array([[-0.5, -0.5, 1], [scene.width - 0.5, scene.height - 0.5, 1]])  # outer corners
    corners = corners @ cameras.transpose(0, 2, 1)  # (240, 2, 3), in the room
    assert (corners[:, 0, :2] >= -0.5).all()
    assert (corners[:, 1, :2] <= (room_width - 0.5, room_height - 0.5)).all()


@pytest.fixture(scope="module")
def moving_clip(tmp_path_factory):
    """The moving target over the camera's whole path (8 s at 3 fps), small."""
    appearance, scene = dancer.PRESETS["target-moving"]
    scene = replace(scene, width=256, height=192, n_frames=24, fps=3.0)
    path, _ = dancer.make_video(tmp_path_factory.mktemp("moving") / "moving.mp4", appearance, scene,
                                progress=False)
    return appearance, scene, path


def person_mask(frame, camera, room):
    """Where the frame differs from the empty room seen through the camera: the person."""
    empty = cv2.warpAffine(room, camera[:2], frame.shape[1::-1],
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return np.abs(frame.astype(int) - empty).max(axis=2) > 8


def test_moving_camera_keeps_the_whole_person_in_the_frame(moving_clip):
    appearance, scene, path = moving_clip
    room, cameras = dancer.room_image(scene), dancer.load_camera(path)
    for index, camera in enumerate(cameras):
        frame, joints = dancer.render_frame(appearance, scene, index / scene.fps)
        person = person_mask(frame, camera, room)
        assert person.sum() > 0.02 * person.size
        edges = np.concatenate([person[0], person[-1], person[:, 0], person[:, -1]])
        assert not edges.any(), f"frame {index}: the person touches the frame's edge"
        assert (joints[:, :2] > 0).all() and (joints[:, :2] < 1).all()


def test_saved_cameras_warp_the_frames_onto_the_empty_room(moving_clip):
    appearance, scene, path = moving_clip
    room, cameras = dancer.room_image(scene), dancer.load_camera(path)
    ground_truth = dancer.load_ground_truth(path)
    _, decoded = video_io.read_frames(path)
    assert len(decoded) == len(cameras) == len(ground_truth) == scene.n_frames
    # Both sides blurred a little: what stays is misregistration, not the resampling's soft edges.
    blur = lambda image: cv2.GaussianBlur(image, (0, 0), 1.0)
    for index, (camera, landmarks) in enumerate(zip(cameras, ground_truth)):
        rendered, _ = dancer.render_frame(appearance, scene, index / scene.fps)
        # Compare away from the person (a box around the landmarks) and from the frame's edges.
        background = np.zeros(rendered.shape[:2], np.uint8)
        background[3:-3, 3:-3] = 1
        pixels = landmarks[:, :2] * (scene.width, scene.height)
        (x0, y0), (x1, y1) = pixels.min(0).astype(int), pixels.max(0).astype(int)
        background[max(y0 - 25, 0):y1 + 12, max(x0 - 20, 0):x1 + 20] = 0
        compared = cv2.warpPerspective(background, camera, room.shape[1::-1], flags=cv2.INTER_NEAREST) > 0
        for frame, tolerance in ((rendered, 2.0), (decoded[index], 4.5)):  # H.264 adds its own error
            in_room = cv2.warpPerspective(frame, camera, room.shape[1::-1])  # frame -> room pixels
            error = np.abs(blur(in_room)[compared].astype(int) - blur(room)[compared]).mean()
            assert error < tolerance, f"frame {index}: mean absolute error {error:.2f}"


def test_moving_landmarks_are_the_still_dancers_joints_in_the_room(moving_clip):
    appearance, scene, path = moving_clip
    room, cameras = dancer.room_image(scene), dancer.load_camera(path)
    ground_truth = dancer.load_ground_truth(path)
    # The home view sits in the middle of the room: room pixels = home view pixels + this offset.
    offset = (np.array(room.shape[1::-1]) - (scene.width, scene.height)) / 2
    segments = dancer.choreograph(scene, dancer.max_travel(appearance, scene))
    still = replace(scene, camera="still")
    on_body = [NOSE] + [LANDMARK_NAMES.index(f"{side}_{part}") for side in ("left", "right")
                        for part in ("eye", "shoulder", "elbow", "wrist", "hip", "knee", "ankle")]
    for index in (0, 5, 13, 22):
        time = index / scene.fps
        frame_pixels = ground_truth[index, :, :2] * (scene.width, scene.height)  # continuous
        homogeneous = np.column_stack([frame_pixels - 0.5, np.ones(33)])  # pixel centres on integers
        in_room = homogeneous @ cameras[index].T
        in_room = in_room[:, :2] / in_room[:, 2:] + 0.5
        _, still_joints = dancer.render_frame(appearance, still, dancer.pose_at(segments, time))
        np.testing.assert_allclose(in_room, still_joints[:, :2] * (scene.width, scene.height) + offset,
                                   atol=0.01)
        # And the frame shows the person there: body joints, eyes and nose lie on drawn pixels.
        frame, _ = dancer.render_frame(appearance, scene, time)
        person = person_mask(frame, cameras[index], room)
        x, y = frame_pixels[on_body].astype(int).T
        assert person[y, x].all()


def test_a_dancer_too_big_for_the_moving_camera_is_refused(tmp_path):
    appearance, scene = short_clip("target", n_frames=4, size=(256, 192))
    with pytest.raises(ValueError, match="camera_scale"):
        dancer.make_video(tmp_path / "cut.mp4", appearance, replace(scene, camera="pan-zoom"), progress=False)
    with pytest.raises(ValueError, match="unknown camera"):
        replace(scene, camera="dolly")
    with pytest.raises(FileNotFoundError, match="camera"):
        dancer.load_camera(tmp_path / "cut.mp4")


def test_command_line_renders_the_moving_target(tmp_path, capsys):
    out = tmp_path / "moving.mp4"
    dancer.main([str(out), "--preset", "target-moving", "--frames", "4", "--width", "128", "--height", "96"])
    assert dancer.load_camera(out).shape == (4, 3, 3)
    assert json.loads(dancer.params_path(out).read_text())["scene"]["camera"] == "pan-zoom"
    assert "pan-zoom camera" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        dancer.main([str(out), "--preset", "target", "--camera", "pan-zoom"])
    assert "camera_scale" in capsys.readouterr().err
