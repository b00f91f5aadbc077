"""Skeleton: the 13-joint reduction, conversions, distances, crop coordinates and drawing."""
import cv2
import numpy as np
import pytest

from Skeleton import (L_ELBOW, L_WRIST, LIMBS, R_ELBOW, R_WRIST, REDUCED_DIM,
                      REDUCED_LANDMARKS, Skeleton)

# A person facing the camera, arms out, in image coordinates (x right, y down): 13 (x, y) joints
# in the reduced order nose, shoulders, elbows, wrists, hips, knees, ankles (left, right each).
STANDING = np.array([
    (0.50, 0.15),
    (0.62, 0.30), (0.38, 0.30),
    (0.75, 0.42), (0.25, 0.42),
    (0.85, 0.30), (0.15, 0.30),
    (0.57, 0.60), (0.43, 0.60),
    (0.60, 0.75), (0.40, 0.75),
    (0.60, 0.92), (0.40, 0.92),
], dtype=np.float32)


def numbered_skeleton():
    """33 landmarks whose coordinates say which landmark they are: x = k / 100, y = 0.5 + k / 100."""
    k = np.arange(33, dtype=np.float32)
    return Skeleton(np.stack([k / 100, 0.5 + k / 100, np.zeros(33), np.ones(33)], axis=1))


def standing():
    return Skeleton.from_reduced(STANDING.reshape(-1))


def test_reduced_picks_the_13_course_joints_in_order():
    assert REDUCED_LANDMARKS == (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
    vector = numbered_skeleton().reduced()
    assert vector.shape == (REDUCED_DIM,) == (26,)
    assert vector.dtype == np.float32
    k = np.array(REDUCED_LANDMARKS, dtype=np.float32)
    np.testing.assert_allclose(vector[0::2], k / 100, atol=1e-6)  # x of each joint
    np.testing.assert_allclose(vector[1::2], 0.5 + k / 100, atol=1e-6)  # y of each joint


def test_from_reduced_round_trip():
    vector = STANDING.reshape(-1)
    skeleton = Skeleton.from_reduced(vector)
    np.testing.assert_array_equal(skeleton.reduced(), vector)
    np.testing.assert_array_equal(skeleton.joints(), STANDING)
    others = np.setdiff1d(np.arange(33), REDUCED_LANDMARKS)
    assert np.isnan(skeleton.landmarks[others, :2]).all()  # the other 20 landmarks stay unknown


def test_array_round_trip_is_a_copy():
    skeleton = numbered_skeleton()
    array = skeleton.to_array()
    assert array.shape == (33, 4) and array.dtype == np.float32
    array[0, 0] = 99
    assert skeleton.landmarks[0, 0] != 99
    np.testing.assert_array_equal(Skeleton.from_array(skeleton.to_array()).landmarks, skeleton.landmarks)
    with pytest.raises(ValueError):
        Skeleton(np.zeros((13, 2)))


def test_distance_is_mean_joint_displacement():
    skeleton = standing()
    assert skeleton.distance(skeleton) == 0
    shifted = skeleton.transformed(1.0, (0.03, 0.04))  # every joint moves by 0.05
    assert skeleton.distance(shifted) == pytest.approx(0.05, abs=1e-6)
    assert shifted.distance(skeleton) == pytest.approx(0.05, abs=1e-6)


def test_to_crop_maps_a_known_point():
    landmarks = np.zeros((33, 4), dtype=np.float32)
    landmarks[:, :2] = (0.5, 0.5)  # pixel (320, 180) of a 640x360 frame
    landmarks[0, :2] = (340 / 640, 260 / 360)  # pixel (340, 260)
    in_crop = Skeleton(landmarks).to_crop(box=(300, 100, 160), frame_size=(640, 360))
    np.testing.assert_allclose(in_crop.landmarks[1, :2], ((320 - 300) / 160, (180 - 100) / 160), atol=1e-6)
    np.testing.assert_allclose(in_crop.landmarks[0, :2], (40 / 160, 160 / 160), atol=1e-6)


def test_drawing_is_deterministic():
    first, second = standing().to_image(128), standing().to_image(128)
    assert first.shape == (128, 128, 3) and first.dtype == np.uint8
    assert first.any()
    np.testing.assert_array_equal(first, second)


def test_drawing_looks_alike_at_any_resolution():
    small = standing().to_image(64)
    large_downscaled = cv2.resize(standing().to_image(256), (64, 64), interpolation=cv2.INTER_AREA)
    drawn_small, drawn_large = small.max(axis=2) > 40, large_downscaled.max(axis=2) > 40
    overlap = (drawn_small & drawn_large).sum() / (drawn_small | drawn_large).sum()
    assert overlap > 0.5  # same strokes (a copy shifted by 5 % of the image scores ~0.13)
    assert np.abs(small.astype(int) - large_downscaled.astype(int)).mean() < 10


def limb_colour(pair):
    return np.array(next(colour for limb, colour in LIMBS if limb == pair))


def colour_at_middle(image, joint_a, joint_b):
    size = image.shape[0]
    x, y = ((STANDING[joint_a] + STANDING[joint_b]) / 2 * size).round().astype(int)
    return image[y, x].astype(int)


def test_left_and_right_limbs_have_different_colours():
    image = standing().to_image(256)
    left = colour_at_middle(image, L_ELBOW, L_WRIST)
    right = colour_at_middle(image, R_ELBOW, R_WRIST)
    assert np.abs(left - right).sum() > 200
    np.testing.assert_allclose(left, limb_colour((L_ELBOW, L_WRIST)), atol=30)
    np.testing.assert_allclose(right, limb_colour((R_ELBOW, R_WRIST)), atol=30)


def test_nothing_is_drawn_for_unknown_joints():
    assert not Skeleton.from_reduced(np.full(REDUCED_DIM, np.nan)).to_image(64).any()
    joints = STANDING.copy()
    joints[L_WRIST] = np.nan
    image = Skeleton.from_reduced(joints.reshape(-1)).to_image(256)
    assert image.any()  # the rest of the body is drawn
    assert not colour_at_middle(image, L_ELBOW, L_WRIST).any()  # but not the left forearm
