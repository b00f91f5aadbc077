"""The target's scene in the cache (scene.py, built by VideoSkeleton): person masks aligned with the
crops, cameras that follow a moving camera, a background that is the empty room, crops that keep
the person's size through a zoom, and the fallbacks for still and unregistrable videos."""
import json
import shutil
from dataclasses import replace

import cv2
import numpy as np
import pytest

import scene
import SyntheticDancer
import video_io
import VideoSkeleton as video_skeleton_module
from Evaluate import mosaic_error, registration_errors
from VideoSkeleton import VideoSkeleton, is_complete


@pytest.fixture(scope="module")
def moving(tmp_path_factory):
    """90 frames of the built-in target filmed by the pan-zoom camera, 128-pixel crops."""
    folder = tmp_path_factory.mktemp("moving")
    video = SyntheticDancer.default_target_moving(folder / "moving.mp4", n_frames=90, size=(384, 288))
    return video, VideoSkeleton(video, crop_size=128, cache_root=folder / "cache", verbose=False)


def true_cameras(video, video_skeleton):
    """(N, 3, 3) the renderer's cameras of the kept frames: frame pixels -> room pixels."""
    return SyntheticDancer.load_camera(video)[video_skeleton.meta["frame_indices"]]


def body_in_crop(video_skeleton, i, scene_config):
    """(S, S) bool: where the renderer drew the person in kept frame i's crop (frame != empty room)."""
    frame, _ = SyntheticDancer.render_frame(SyntheticDancer.PRESETS["target"][0], scene_config,
                                            video_skeleton.frame_index(i) / scene_config.fps)
    drawn = (np.abs(frame.astype(np.int16) - SyntheticDancer.background(scene_config)).max(axis=2) > 0)
    size = video_skeleton.crop_size
    crop_to_frame = scene.crop_matrix(video_skeleton.crop_box(i), size)
    return cv2.warpAffine(drawn.astype(np.uint8) * 255, crop_to_frame[:2], (size, size),
                          flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP) > 127


def test_masks_cover_the_drawn_body_in_their_crops(synthetic_target):
    scene_config = SyntheticDancer.scene_of(synthetic_target.meta["source_path"])
    n = len(synthetic_target)
    assert synthetic_target.masks.shape == (n, 64, 64) and synthetic_target.masks.dtype == np.uint8
    overlaps = []
    for i in range(0, n, 6):
        body, mask = body_in_crop(synthetic_target, i, scene_config), synthetic_target.mask(i) > 127
        overlaps.append((body & mask).sum() / (body | mask).sum())
        rows, cols = np.nonzero(body)  # the drawn body includes its shadow on the floor: leave its bottom
        mask_rows, mask_cols = np.nonzero(mask)
        assert abs(rows.min() - mask_rows.min()) <= 2  # aligned: the top of the head ...
        assert abs(cols.min() - mask_cols.min()) <= 2 and abs(cols.max() - mask_cols.max()) <= 2  # ... and the sides
    assert np.median(overlaps) > 0.8


def test_a_still_camera_has_one_camera_one_crop_side_and_the_empty_room(synthetic_target):
    scene_model = synthetic_target.scene()
    assert synthetic_target.meta["scene"]["camera"] == scene.STILL
    assert np.isfinite(scene_model.cameras).all()
    assert np.allclose(scene_model.cameras, scene_model.cameras[0])  # no motion, not even noise
    sides = {box[2] for box in synthetic_target.meta["crop_boxes"]}
    assert len(sides) == 1
    room = SyntheticDancer.background(SyntheticDancer.scene_of(synthetic_target.meta["source_path"]))
    error, share = mosaic_error(scene_model.background, scene_model.never_seen, scene_model.cameras[0], np.eye(3), room)
    assert share > 0.7 and error < 4  # the rest is where the dancer always stands
    assert not scene_model.overlay_mask.any()  # a still scene is no overlay


def test_registration_recovers_the_moving_camera(moving):
    video, video_skeleton = moving
    scene_model = video_skeleton.scene()
    assert video_skeleton.meta["scene"]["camera"] == scene.MOVING
    assert np.isfinite(scene_model.cameras).all()
    truth = true_cameras(video, video_skeleton)
    pan = np.abs(truth[:, 0, 2] - truth[0, 0, 2]).max()
    assert pan > 0.05 * 384  # the clip really pans ...
    errors = registration_errors(scene_model.cameras, truth, 0, scene_model.frame_size)
    assert errors.max() < 0.01 * 384  # ... and the cameras follow it within 1 % of the width


def test_the_background_is_the_empty_room(moving):
    video, video_skeleton = moving
    scene_model = video_skeleton.scene()
    room = SyntheticDancer.room_image(SyntheticDancer.scene_of(video))
    reference = video_skeleton.meta["frame_indices"].index(scene_model.reference)
    error, share = mosaic_error(scene_model.background, scene_model.never_seen, scene_model.cameras[reference],
                                true_cameras(video, video_skeleton)[reference], room)
    assert share > 0.8
    assert error < 3  # the scene issue's bar; the decoded video itself is about 2.5 from the room it was rendered from


def test_the_background_rendered_for_a_crop_matches_the_crop_outside_the_person(moving):
    _, video_skeleton = moving
    scene_model = video_skeleton.scene()
    for i in (0, len(video_skeleton) // 2, len(video_skeleton) - 1):
        rendered = scene_model.render_frame(i, video_skeleton.crop_box(i), video_skeleton.crop_size)
        outside = cv2.dilate(video_skeleton.mask(i), np.ones((9, 9), np.uint8)) < 20
        error = np.abs(rendered.astype(np.int16) - video_skeleton.image(i))[outside].mean()
        assert error < 8  # the codec's own error (about 3) and the person's shadow, which moves with them
    whole = scene_model.render(scene_model.cameras[0])
    assert whole.shape == (288, 384, 3)


def test_crops_keep_the_persons_size_through_the_zoom(moving):
    video, video_skeleton = moving
    zoom = scene.zoom(true_cameras(video, video_skeleton))  # room pixels per frame pixel
    assert zoom.max() / zoom.min() > 1.1  # the camera zooms ...
    sides = np.array([box[2] for box in video_skeleton.meta["crop_boxes"]])
    in_room = sides * zoom  # ... and the crops cover the same stretch of the room
    assert in_room.max() / in_room.min() < 1.03


def test_a_frame_is_matched_against_the_latest_keyframes_and_the_older_ones_nearest_its_view(monkeypatch):
    """A camera that pans away and comes back meets the keyframes it left (no growing drift)."""
    monkeypatch.setattr(scene, "RECENT_KEYFRAMES", 2)
    monkeypatch.setattr(scene, "NEAR_KEYFRAMES", 2)
    pans = [0, 10, 20, 30, 40, 50, 60]  # keyframes' views along a pan (pixels); the camera is back at 12
    shot = scene.Shot(frames=[], key_points=[np.full((1, 2), x, np.float32) for x in pans],
                      key_descriptors=[np.full((1, 32), k, np.uint8) for k in range(len(pans))],
                      key_cameras=[scene.translation(x, 0) for x in pans])
    points, descriptors = shot.keys(scene.translation(12, 0), width=100)
    assert sorted(descriptors[:, 0]) == [1, 2, 5, 6]  # the views at 10 and 20, and the latest two
    assert sorted(points[:, 0]) == [10, 20, 50, 60]
    _, descriptors = shot.keys(None, width=100)  # no previous camera (a new shot's first frames)
    assert sorted(descriptors[:, 0]) == [5, 6]


def noise_background_video(path, n_frames=40, size=(256, 192)):
    """The synthetic dancer in front of a new random background in every frame: no scene to register."""
    appearance, scene_config = SyntheticDancer.PRESETS["target"]
    scene_config = replace(scene_config, width=size[0], height=size[1], n_frames=n_frames)
    empty = SyntheticDancer.background(scene_config)
    rng = np.random.default_rng(0)
    frames = []
    for t in range(n_frames):
        frame, _ = SyntheticDancer.render_frame(appearance, scene_config, t / scene_config.fps)
        noise = cv2.resize(rng.integers(0, 256, (size[1] // 4, size[0] // 4, 3), dtype=np.uint8), size,
                           interpolation=cv2.INTER_NEAREST)
        frames.append(np.where((frame == empty).all(axis=2, keepdims=True), noise, frame))
    return video_io.write_video(path, frames, scene_config.fps)


def test_an_unregistrable_video_falls_back_and_still_makes_a_usable_cache(tmp_path):
    video = noise_background_video(tmp_path / "noise.mp4")
    video_skeleton = VideoSkeleton(video, crop_size=64, cache_root=tmp_path / "cache", verbose=False)
    assert video_skeleton.meta["scene"]["camera"] == scene.NOT_REGISTRABLE
    assert "scene: not registrable" in video_skeleton.summary().splitlines()[-1]
    assert len({box[2] for box in video_skeleton.meta["crop_boxes"]}) == 1  # one crop side, as before
    assert len(video_skeleton) > 30 and video_skeleton.image(0).shape == (64, 64, 3)
    assert video_skeleton.mask(0).max() == 255
    scene_model = video_skeleton.scene()
    assert not scene_model.registrable and scene_model.background.shape[2] == 3
    assert np.isnan(scene_model.cameras).all() and scene_model.render_frame(0) is None  # no camera is claimed


def test_a_cache_without_its_scene_is_not_complete(synthetic_target, tmp_path):
    copy = tmp_path / synthetic_target.cache_dir.name
    shutil.copytree(synthetic_target.cache_dir, copy)
    assert is_complete(copy)
    (copy / "masks.npy").unlink()
    assert not is_complete(copy)


def test_an_older_cache_format_is_rebuilt_with_one_line(synthetic_target, tmp_path, monkeypatch, capsys):
    video = synthetic_target.meta["source_path"]
    monkeypatch.setattr(video_skeleton_module, "CACHE_FORMAT", 1)  # where version 1 kept this cache
    old = video_skeleton_module.cache_folder(video, 1, 64, tmp_path)
    monkeypatch.undo()
    shutil.copytree(synthetic_target.cache_dir, old)
    meta = json.loads((old / "meta.json").read_text())
    (old / "meta.json").write_text(json.dumps(dict(meta, format=1)))
    rebuilt = VideoSkeleton(video, crop_size=64, cache_root=tmp_path)
    said = [line for line in capsys.readouterr().out.splitlines() if "format 1" in line]
    assert len(said) == 1 and "rebuilding" in said[0]
    assert rebuilt.built and not old.exists()
