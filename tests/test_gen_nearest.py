"""GenNearest on the real tai chi target (and karate as a foreign source), through the default cache."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import GenGAN
from GenNearest import GenNearest, PoseIndex, count_jumps, facing_features, pose_features
from Skeleton import N_JOINTS, PoseDetector, mirror_joints
from training import split_indices
from VideoSkeleton import VideoSkeleton

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def target(taichi2):
    return VideoSkeleton(taichi2, verbose=False)


@pytest.fixture(scope="module")
def generator(target):
    train, _ = split_indices(len(target))
    return GenNearest(target, indices=train)


def mean_pose_distance(driving_joints, target, frames):
    """Mean normalised pose distance between each driving pose and the target frame chosen for it."""
    chosen_joints = target.reduced()[frames].reshape(-1, N_JOINTS, 2)
    return np.linalg.norm(pose_features(driving_joints) - pose_features(chosen_joints), axis=1).mean()


def test_a_training_skeleton_gives_back_its_own_person_over_the_scene(target, generator):
    for frame in (0, 123, 400, 810):
        view = target.view(frame)
        image = generator.generate(target.skeleton(frame), view)
        assert image.dtype == np.uint8 and image.shape == (generator.size, generator.size, 3)
        mask = target.mask(frame)
        person, background = mask == 255, mask == 0
        assert person.mean() > 0.05 and background.mean() > 0.3
        assert np.array_equal(image[person], target.image(frame)[person])  # the person is the frame's own
        assert np.array_equal(image[background], target.scene().render_view(view, generator.size)[background])
    assert np.array_equal(generator.nearest_frames(target.reduced()[generator.frame_ids]), generator.frame_ids)


def test_a_shifted_and_scaled_pose_finds_the_same_frame(target, generator):
    for frame, scale, shift in ((50, 0.5, (0.3, 0.2)), (300, 1.7, (-0.4, -0.1)), (700, 0.8, (0.05, -0.3))):
        moved = target.skeleton(frame).transformed(scale, shift)
        assert int(generator.nearest_frames(moved)[0]) == frame


def test_batch_and_sequence_give_one_crop_per_pose(target, generator):
    poses = [target.skeleton(frame) for frame in (10, 11, 12)]
    for images in (generator.generate_batch(poses), generator.generate_sequence(poses)):
        assert images.shape == (3, target.crop_size, target.crop_size, 3) and images.dtype == np.uint8
    person, alpha = generator.generate_layers(poses)
    assert np.array_equal(person[1], target.image(11)) and np.allclose(alpha[1], target.mask(11) / 255)


@pytest.mark.parametrize("source", ["noisy tai chi", "karate"])
def test_sequence_mode_jumps_less_for_about_the_same_pose_distance(target, generator, karate1, source):
    if source == "karate":
        driving = VideoSkeleton(karate1, verbose=False).reduced().reshape(-1, N_JOINTS, 2)
    else:  # a stretch of training poses with detector-like noise (about 2.5 px of a 256 crop)
        clean = target.reduced()[200:500].reshape(-1, N_JOINTS, 2)
        driving = clean + np.random.default_rng(0).normal(0, 0.01, clean.shape)
    per_frame = generator.nearest_frames(driving)
    sequence = generator.choose_frames(driving)
    assert count_jumps(sequence) < count_jumps(per_frame)
    assert (mean_pose_distance(driving, target, sequence)
            <= 1.5 * mean_pose_distance(driving, target, per_frame))


def test_held_out_frames_are_never_chosen(target, generator):
    every_pose = target.reduced()
    kept = np.arange(0, len(target), 3)  # every third frame: held-out frames sit between kept ones
    every_third = GenNearest(target, indices=kept)
    assert np.isin(every_third.nearest_frames(every_pose), kept).all()
    assert np.isin(every_third.choose_frames(every_pose), kept).all()
    _, validation = split_indices(len(target))  # `generator` indexes the training split only
    assert generator.choose_frames(every_pose[validation]).max() < validation[0]


def test_cli_reports_a_missing_video_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "GenNearest.py", str(tmp_path / "absent.mp4")],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "absent.mp4" in result.stderr


def test_placement_weight_prefers_the_body_standing_where_asked(target):
    """Pose features ignore where the body stands and how big it is: the same pose enlarged and moved
    is as near as the pose itself. With a placement weight (GenGAN's exemplar search) the one at the
    asked place and size wins, whichever of the two is asked."""
    pose = target.reduced()[200].reshape(1, N_JOINTS, 2)
    moved = (pose - 0.5) * 1.3 + np.array([0.6, 0.45])  # 30 % bigger, elsewhere in the crop
    indexed = np.concatenate([pose, moved])  # (2, 13, 2)
    assert np.allclose(pose_features(pose), pose_features(moved))
    index = PoseIndex(indexed, placement_weight=GenGAN.EXEMPLAR_PLACEMENT_WEIGHT)
    for asked, expected in ((pose, 0), (moved, 1)):
        distances, positions = index.query(asked + 0.01, k=2)  # slightly off, as an asked pose is
        assert positions[0, 0] == expected and distances[0, 0] < 0.05 < distances[0, 1]


def test_facing_weight_prefers_the_body_turned_the_way_asked(target):
    """A pose with its shoulders and hips swapped side for side (the body seen from behind, limbs
    where they were) is nearer than the pose with a wrist moved, in pose features alone. With the
    facing weight (GenGAN's exemplar search) the one facing the way asked wins."""
    pose = target.reduced()[200].reshape(1, N_JOINTS, 2)
    assert (facing_features(pose) > 0.2).all()  # she faces the camera: her left on the image's right
    from_behind = pose.copy()
    from_behind[:, [1, 2, 7, 8]] = pose[:, [2, 1, 8, 7]]
    assert (facing_features(from_behind) < -0.2).all()
    arm_moved = pose.copy()
    arm_moved[:, 6] += 1.5 * np.linalg.norm(pose[0, 1] - pose[0, 2])  # the right wrist, 1.5 shoulder widths away
    indexed = np.concatenate([from_behind, arm_moved])  # (2, 13, 2)
    plain = PoseIndex(indexed)
    assert plain.query(pose, k=1)[1][0, 0] == 0
    facing = PoseIndex(indexed, facing_weight=GenGAN.EXEMPLAR_FACING_WEIGHT)
    assert facing.query(pose, k=1)[1][0, 0] == 1


def test_held_out_frames_get_exemplars_that_face_their_way(target):
    """taichi2's held-out frames turn from the camera to a side view and past it. Searched as GenGAN
    searches its exemplars, every one gets a training frame whose shoulders are turned within 0.15
    torso lengths of its own; without the facing term a quarter of them face the other way."""
    train, held_out = split_indices(len(target))
    joints = target.reduced().reshape(-1, N_JOINTS, 2)
    turned = facing_features(joints)[:, 0]  # (N,) shoulder widths
    mismatched = {}
    for weight in (0.0, GenGAN.EXEMPLAR_FACING_WEIGHT):
        index = PoseIndex(joints[train], GenGAN.EXEMPLAR_PLACEMENT_WEIGHT, weight)
        chosen = np.asarray(train)[index.query(joints[held_out], k=1)[1][:, 0]]
        difference = np.abs(turned[chosen] - turned[held_out])
        mismatched[weight] = (np.sign(turned[chosen]) != np.sign(turned[held_out])).mean()
        if weight:
            assert difference.max() < 0.15
    assert mismatched[0.0] > 0.2 > 0.1 > mismatched[GenGAN.EXEMPLAR_FACING_WEIGHT]


def test_the_facing_gives_way_near_a_profile_only_where_no_pose_facing_that_way_is_near(target):
    """Asked for a profile, the strict search takes a profile whose legs are 1.5 torso lengths away (a
    crouch) over the same body seen from the front; relieved, the front view, which a warp can narrow.
    A near profile in the index is taken either way, and a body plainly seen from behind keeps its
    facing however far the pose facing its way lies."""
    relief = GenGAN.EXEMPLAR_FACING_RELIEF
    front = target.reduced()[200].reshape(1, N_JOINTS, 2)
    assert (facing_features(front) > 0.2).all()
    profile = front.copy()
    for left, right in ((1, 2), (7, 8)):  # shoulders, hips: both on their centre, the left a hair nearer
        centre = profile[:, [left, right], 0].mean()
        profile[:, left, 0], profile[:, right, 0] = centre + 1e-3, centre - 1e-3
    torso = np.linalg.norm(front[0, [1, 2]].mean(0) - front[0, [7, 8]].mean(0))
    crouched = profile.copy()
    crouched[:, 9:13, 1] -= 1.5 * torso  # knees and ankles up
    assert np.linalg.norm(facing_features(profile)) < 0.02 < 0.2 < np.abs(facing_features(front)).min()
    assert np.linalg.norm(pose_features(crouched) - pose_features(profile)) > relief.reach_far
    strict = PoseIndex(np.concatenate([front, crouched]), GenGAN.EXEMPLAR_PLACEMENT_WEIGHT, GenGAN.EXEMPLAR_FACING_WEIGHT)
    relieved = PoseIndex(np.concatenate([front, crouched]), GenGAN.EXEMPLAR_PLACEMENT_WEIGHT,
                         GenGAN.EXEMPLAR_FACING_WEIGHT, relief)
    assert strict.query(profile, k=1)[1][0, 0] == 1 and relieved.query(profile, k=1)[1][0, 0] == 0
    assert relieved.facing_weights(profile)[0] < 0.01 * GenGAN.EXEMPLAR_FACING_WEIGHT
    # the sequence search weighs its candidates as the query does
    assert np.allclose(relieved.distances(profile, np.array([[0, 1]])), relieved.query(profile, k=2)[0])
    near_profile = PoseIndex(np.concatenate([front, crouched, profile + 0.01]), GenGAN.EXEMPLAR_PLACEMENT_WEIGHT,
                             GenGAN.EXEMPLAR_FACING_WEIGHT, relief)
    assert near_profile.query(profile, k=1)[1][0, 0] == 2
    assert near_profile.facing_weights(profile)[0] == GenGAN.EXEMPLAR_FACING_WEIGHT
    from_behind = front.copy()
    from_behind[:, [1, 2, 7, 8]] = front[:, [2, 1, 8, 7]]
    behind_crouched = from_behind.copy()
    behind_crouched[:, 9:13, 1] -= 1.5 * torso
    plainly = PoseIndex(np.concatenate([front, behind_crouched]), GenGAN.EXEMPLAR_PLACEMENT_WEIGHT,
                        GenGAN.EXEMPLAR_FACING_WEIGHT, relief)
    assert plainly.query(from_behind, k=1)[1][0, 0] == 1


def test_the_facing_relief_leaves_training_and_held_out_exemplars_and_narrows_karate1_profiles(target, karate1):
    """GenGAN's exemplar search with and without the relief: every training frame's candidates and every
    taichi2 held-out frame's exemplar (on its own and along the sequence path) are the same; of the karate
    poses, only relieved ones (near a profile, no pose of the target facing their way within reach) change
    exemplar, to poses nearer theirs (the target's side views are deep crouches)."""
    train, held_out = split_indices(len(target))
    joints = target.reduced().reshape(-1, N_JOINTS, 2)
    karate = VideoSkeleton(karate1, verbose=False).reduced().reshape(-1, N_JOINTS, 2)
    searches = [GenNearest(target, indices=train, jump_cost=GenGAN.EXEMPLAR_JUMP_COST,
                           placement_weight=GenGAN.EXEMPLAR_PLACEMENT_WEIGHT, facing_weight=GenGAN.EXEMPLAR_FACING_WEIGHT,
                           window=GenGAN.EXEMPLAR_WINDOW_FRAMES, facing_relief=relief)
                for relief in (None, GenGAN.EXEMPLAR_FACING_RELIEF)]
    strict, relieved = searches
    assert (strict.index.query(joints[train], k=128)[1] == relieved.index.query(joints[train], k=128)[1]).all()
    assert (strict.nearest_frames(joints[held_out]) == relieved.nearest_frames(joints[held_out])).all()
    assert (strict.choose_frames(joints[held_out]) == relieved.choose_frames(joints[held_out])).all()
    weights = relieved.index.facing_weights(karate)  # (N,)
    eased = weights < GenGAN.EXEMPLAR_FACING_WEIGHT
    assert eased.sum() >= 10  # the karateka's two turns
    assert (np.linalg.norm(facing_features(karate[eased]), axis=1) < GenGAN.EXEMPLAR_FACING_RELIEF.clear_width).all()
    before, after = strict.nearest_frames(karate), relieved.nearest_frames(karate)
    changed = before != after
    assert changed.any() and not (changed & ~eased).any()
    distance = lambda frames: np.linalg.norm(pose_features(karate[changed]) - pose_features(joints[frames[changed]]), axis=1)
    assert distance(after).mean() < 0.8 * distance(before).mean()


def test_a_window_of_candidates_holds_frames_through_poses_whose_nearest_lie_elsewhere(target, karate1):
    """GenGAN's exemplar search on taichi2's held-out frames and on the karate poses: with each pose's
    candidates pooled over its neighbours in time, the path pays no more (its candidates include the
    windowless ones) and jumps less, for about the same pose distance."""
    train, held_out = split_indices(len(target))
    karate = VideoSkeleton(karate1, verbose=False).reduced().reshape(-1, N_JOINTS, 2)
    for driving in (target.reduced()[held_out].reshape(-1, N_JOINTS, 2), karate):
        paths = {}
        for window in (0, GenGAN.EXEMPLAR_WINDOW_FRAMES):
            search = GenNearest(target, indices=train, jump_cost=GenGAN.EXEMPLAR_JUMP_COST,
                                placement_weight=GenGAN.EXEMPLAR_PLACEMENT_WEIGHT,
                                facing_weight=GenGAN.EXEMPLAR_FACING_WEIGHT, window=window)
            frames = search.choose_frames(driving)
            positions = np.searchsorted(search.frame_ids, frames)[:, None]  # (N, 1) into the index
            distance = search.index.distances(driving, positions)[:, 0].mean()
            paths[window] = (count_jumps(frames), distance, len(driving) * distance + search.jump_cost * count_jumps(frames))
        (jumps, distance, cost), (windowed_jumps, windowed_distance, windowed_cost) = paths.values()
        assert windowed_cost <= cost + 1e-9 and windowed_jumps < jumps
        assert windowed_distance < 1.05 * distance


def test_a_jump_of_the_sequence_path_can_be_a_cross_dissolve(target, generator):
    """With dissolve_frames, for that many frames after a jump the clip left behind plays on and fades
    out while the new one fades in, premultiplied by their alphas; holds and steps forward are shown as
    they are. By default a jump is a cut."""
    dissolving = GenNearest(target, indices=generator.frame_ids, dissolve_frames=3)
    path = np.array([100, 101, 102, 400, 401, 402, 403, 404])
    person, alpha = dissolving.layers(path)
    dissolved_person, dissolved_alpha = dissolving.dissolved(path, person, alpha)
    unchanged = [0, 1, 2, 6, 7]
    assert np.array_equal(dissolved_person[unchanged], person[unchanged]) and np.array_equal(dissolved_alpha[unchanged], alpha[unchanged])
    old_person, old_alpha = generator.layers([103, 104, 105])  # the clip left behind, playing on
    for step, t in enumerate((3, 4, 5)):
        weight = (step + 1) / 4  # of the new clip
        expected_alpha = weight * alpha[t] + (1 - weight) * old_alpha[step]
        assert np.allclose(dissolved_alpha[t], expected_alpha, atol=1e-6)
        seen = expected_alpha > 0.5
        expected = (weight * alpha[t][..., None] * person[t] + (1 - weight) * old_alpha[step][..., None] * old_person[step]
                    ) / np.maximum(expected_alpha, 1e-3)[..., None]
        assert np.abs(dissolved_person[t][seen] - expected[seen]).max() <= 0.5 + 1e-6  # rounded to uint8
    # a sequence is its path's layers, dissolved
    skeletons = [target.skeleton(i) for i in split_indices(len(target))[1]]
    frames = generator.choose_frames(skeletons)
    assert count_jumps(frames) > 0
    sequence_person, sequence_alpha = dissolving.generate_layers(skeletons, sequence=True)
    expected_person, expected_alpha = dissolving.dissolved(frames, *dissolving.layers(frames))
    assert np.array_equal(sequence_person, expected_person) and np.array_equal(sequence_alpha, expected_alpha)
    assert not np.array_equal(sequence_person, generator.layers(frames)[0])
    assert np.array_equal(generator.generate_layers(skeletons, sequence=True)[0], generator.layers(frames)[0])


def test_a_mirrored_search_also_finds_the_mirror_images_of_the_target_frames(target):
    """GenNearest with `mirrored` (GenGAN's exemplars): a training pose finds its own frame as before; its
    mirror image (x flipped, left and right swapped) finds that frame's mirror entry, shown as its crop and
    mask flipped left to right, in which MediaPipe reads the mirrored joints; a mirrored clip plays on
    without a jump."""
    train, _ = split_indices(len(target))
    train = np.asarray(train)
    plain, search = GenNearest(target, indices=train), GenNearest(target, indices=train, mirrored=True)
    joints = target.reduced()[train].reshape(-1, N_JOINTS, 2)
    assert len(search.entries) == 2 * len(train)
    assert np.array_equal(search.nearest_frames(joints), plain.nearest_frames(joints))
    entries = search.nearest_frames(mirror_joints(joints))
    assert np.array_equal(entries, train + search.mirror_offset)
    frames, flipped = search.entry_frames(entries[[400, 401]])
    assert np.array_equal(frames, train[[400, 401]]) and flipped.all()
    person, alpha = search.layers(entries[[400]])
    assert np.array_equal(person[0], target.image(train[400])[:, ::-1])
    assert np.allclose(alpha[0], target.mask(train[400])[:, ::-1] / 255)
    path = search.choose_frames(mirror_joints(joints[100:130]))
    assert count_jumps(path) == 0 and search.entry_frames(path)[1].all()
    moved = np.linalg.norm(mirror_joints(joints) - joints, axis=2).mean(axis=1)  # (M,) how far mirroring moves them
    with PoseDetector(video=False) as detector:
        for frame in train[np.argsort(moved)[-40::20]]:  # frames whose mirror image differs most
            read = detector.detect(np.ascontiguousarray(target.image(frame)[:, ::-1])).joints()  # (13, 2)
            cached = target.reduced()[frame].reshape(N_JOINTS, 2)
            assert 256 * np.linalg.norm(read - mirror_joints(cached), axis=1).mean() < 8  # px of 256
            assert 256 * np.linalg.norm(read - cached, axis=1).mean() > 20  # ... not the joints as filmed


def test_mirrored_exemplars_are_nearer_the_karate_poses(target, karate1):
    """GenGAN's exemplar search over the training frames and their mirror images: the karate poses find
    poses nearer theirs (a stance the target took to one side only is also found to the other), taichi2's
    held-out frames keep their exemplars (each has a frame of its own nearer than any mirror image, so the
    held-out figures stand), and the bank's mirror entries hold the flipped crops and masks with the
    mirrored joints."""
    train, held_out = split_indices(len(target))
    karate = VideoSkeleton(karate1, verbose=False).reduced().reshape(-1, N_JOINTS, 2)
    banks = [GenGAN.ExemplarBank(target, train, 64, mirrored=mirrored) for mirrored in (False, True)]
    nearest = [bank.nearest.index.query(karate, k=1)[0][:, 0] for bank in banks]  # (N,) torso lengths
    assert np.median(nearest[1]) < 0.8 * np.median(nearest[0])
    bank = banks[1]
    chosen = bank.nearest.nearest_frames(karate)
    assert 0.1 < bank.nearest.entry_frames(chosen)[1].mean() < 0.95  # both the frames and their mirrors serve
    some = np.asarray(train[::50])
    frames = bank.nearest.entry_frames(bank.training_choices(some))[0]  # (n, choices) frames of the entries
    seconds = np.asarray(target.meta["frame_indices"]) / target.fps
    assert (np.abs(seconds[frames] - seconds[some][:, None]) >= GenGAN.EXEMPLAR_GAP_SECONDS).all()
    held_out_joints = target.reduced()[held_out].reshape(-1, N_JOINTS, 2)
    assert (bank.nearest.choose_frames(held_out_joints) == banks[0].nearest.choose_frames(held_out_joints)).all()
    position = bank.position[int(train[400]) + bank.nearest.mirror_offset]
    plain = banks[0].position[int(train[400])]
    assert np.array_equal(bank.crops[position], banks[0].crops[plain][:, ::-1])
    assert np.array_equal(bank.masks[position], banks[0].masks[plain][:, ::-1])
    assert np.allclose(bank.joints[position], mirror_joints(banks[0].joints[plain]))
