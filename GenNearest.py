"""The nearest-neighbour generator (course GEN_TYPE 1): show the target frame whose pose is closest.

Poses are compared after moving the hip centre to the origin and dividing by the torso length,
so a source dancer standing elsewhere in the frame, or nearer the camera, still finds the right
pose. `generate` picks each frame on its own; `generate_sequence` picks, among the k nearest
target frames of every driving pose, the path that keeps playing the target's frames in order
unless the pose really asks for a jump (Viterbi), so a video does not flicker between distant frames.
`dissolve_frames` > 0 turns each jump into a cross-dissolve (the clip it leaves plays on while the new
one fades in); off by default, because two frames of the target rarely show the person at one place and
size, and a dissolve between them is a double person (GenGAN dissolves its exemplars, warped to one pose).

    python GenNearest.py ../shared/data/taichi2.mp4        # index the training split, check on validation
    python GenNearest.py data/cache/taichi2-3a68617516 --k 16 --out out/nearest_check.png
"""
import argparse
import sys
import time
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from scipy.spatial import KDTree

from generators import Generator
from paths import OUT_ROOT, shown_path
from Skeleton import (L_HIP, L_SHOULDER, N_JOINTS, R_HIP, R_SHOULDER, REDUCED_DIM, Skeleton, hip_centre_and_torso,
                      mirror_joints)
from VideoSkeleton import VideoSkeleton, VideoSkeletonError
from training import split_indices
from video_io import image_grid

# Pose distances are root-mean-square joint distances in torso lengths. Consecutive frames of a
# 30 fps video typically differ by 0.01-0.05, so a jump costs about as much as being a couple of
# frames' worth of motion away from the asked pose.
JUMP_COST = 0.05
MIN_TORSO = 1e-6  # guards the division for a degenerate skeleton whose shoulders sit on its hips


def pose_features(joints):
    """(N, 13, 2) joints -> (N, 26) features that ignore where the person stands and how big they are.

    The hip centre goes to the origin and lengths are divided by the torso (shoulder centre to hip
    centre), then by sqrt(13), so the Euclidean distance between two feature vectors is the
    root-mean-square joint distance in torso lengths.
    """
    joints = np.asarray(joints, dtype=np.float64)
    hip_centre, torso = hip_centre_and_torso(joints)  # (N, 2), (N,)
    normalised = (joints - hip_centre[:, None]) / np.maximum(torso, MIN_TORSO)[:, None, None]  # (N, 13, 2)
    return normalised.reshape(len(joints), REDUCED_DIM) / np.sqrt(N_JOINTS)


def placement_features(joints):
    """(N, 13, 2) joints -> (N, 3): where the body stands in the image and how big it is (hip
    centre x, y in image units, log torso length), what pose_features leaves out. Poses given in
    the target's own crop coordinates (as DanceDemo gives them) can ask for it."""
    hip_centre, torso = hip_centre_and_torso(np.asarray(joints, dtype=np.float64))  # (N, 2), (N,)
    return np.concatenate([hip_centre, np.log(np.maximum(torso, MIN_TORSO))[:, None]], axis=1)


def facing_features(joints):
    """(N, 13, 2) joints -> (N, 2): the signed widths of the shoulders and of the hips (left joint's x
    minus right joint's, in torso lengths), which way the body faces, what the 2-D joints barely show.
    Facing the camera both are positive (the person's left is on the image's right), from behind both
    negative, and in a side view near 0; a body turned 60 degrees away halves them."""
    joints = np.asarray(joints, dtype=np.float64)
    _, torso = hip_centre_and_torso(joints)  # (N,)
    torso = np.maximum(torso, MIN_TORSO)
    return np.stack([(joints[:, L_SHOULDER, 0] - joints[:, R_SHOULDER, 0]) / torso,
                     (joints[:, L_HIP, 0] - joints[:, R_HIP, 0]) / torso], axis=1)


def as_joints(skeletons):
    """A Skeleton, a list of them, or reduced skeletons as (N, 26) or (N, 13, 2) -> (N, 13, 2)."""
    if isinstance(skeletons, Skeleton):
        skeletons = [skeletons]
    if len(skeletons) and isinstance(skeletons[0], Skeleton):
        joints = np.stack([skeleton.joints() for skeleton in skeletons])
    else:
        joints = np.asarray(skeletons, dtype=np.float64)
        if joints.shape[-1:] != (REDUCED_DIM,) and joints.shape[-2:] != (N_JOINTS, 2):
            raise ValueError(f"expected reduced skeletons (..., 26) or (..., 13, 2), got {joints.shape}")
    joints = joints.reshape(-1, N_JOINTS, 2)
    if not np.isfinite(joints).all():
        raise ValueError("a skeleton has missing joints: fill the gaps before generating")
    return joints


class FacingRelief(NamedTuple):
    """Where a pose search's facing term gives way (GenGAN's exemplars). Facing is matched first because
    a warp bends limbs but cannot turn a front view into a back one. It can, though, narrow either into a
    profile. So where the asked body is near a profile and the target has no pose facing its way within
    the warp's reach (a standing side view asked of a target whose only side views are deep crouches), a
    near pose of a front or back view, narrowed, is the better exemplar than a far one bent into it.

    The facing weight of an asked pose is scaled by 1 - beyond x (1 - clarity): clarity = min(1, |its
    facing widths| / clear_width)^2 (0 in a profile, 1 where it plainly faces front or back, which stays
    matched first), beyond rises from 0 to 1 as the nearest pose facing its way (the unrelieved search's,
    its pose and placement distance) lies from reach_near to reach_far torso lengths away.
    """
    clear_width: float  # torso lengths (norm of the two signed widths of facing_features)
    reach_near: float  # torso lengths (pose and placement distance)
    reach_far: float


class PoseIndex:
    """A k-d tree over the pose features of M skeletons: the search half of the generator.

    Real poses lie near a low-dimensional set, where a k-d tree answers a query in tens of
    microseconds even for 100k poses (a brute-force scan grows with M). Asked poses whose facing
    term is relieved (`facing_relief`, a FacingRelief) are compared with every indexed pose instead:
    each has its own weight, which one tree cannot hold; they are few (poses near a profile that the
    target never showed from that side).
    """

    def __init__(self, joints, placement_weight=0.0, facing_weight=0.0, facing_relief=None):
        joints = as_joints(joints)  # (M, 13, 2)
        if len(joints) == 0:
            raise ValueError("cannot index an empty set of skeletons")
        self.placement_weight, self.facing_weight = placement_weight, facing_weight
        self.facing_relief = facing_relief if facing_weight else None
        self.tree = KDTree(self.features(joints))

    def features(self, joints):
        """(N, 26) pose features, with placement_weight x placement_features (3) and facing_weight x
        facing_features (2) appended where those weights are not 0."""
        features = [pose_features(joints)]
        if self.placement_weight:
            features.append(self.placement_weight * placement_features(joints))
        if self.facing_weight:
            features.append(self.facing_weight * facing_features(joints))
        return np.concatenate(features, axis=1)

    def __len__(self):
        return self.tree.n

    def facing_weights(self, joints, features=None):
        """(N,) the facing weight each of N poses is searched with: facing_weight, relieved by
        facing_relief where the pose is near a profile and no indexed pose facing its way is near.
        `features`: the poses' own (self.features), where the caller has them already."""
        joints = as_joints(joints)
        weights = np.full(len(joints), float(self.facing_weight))
        if self.facing_relief is None or len(joints) == 0:
            return weights
        relief = self.facing_relief
        features = self.features(joints) if features is None else features  # (N, D), the facing last
        _, strict = self.tree.query(features, k=1)  # (N,) the nearest pose facing the asked way
        reach = np.linalg.norm(features[:, :-2] - self.tree.data[strict, :-2], axis=1)  # (N,) torso lengths
        beyond = np.clip((reach - relief.reach_near) / (relief.reach_far - relief.reach_near), 0, 1)
        clarity = np.minimum(1.0, np.linalg.norm(facing_features(joints), axis=1) / relief.clear_width) ** 2
        return weights * (1 - beyond * (1 - clarity))

    def weighted_distances(self, features, weights, positions):
        """(N, C) distances from N poses' features to the indexed poses at positions ((N, C), or (1, C)
        for the same C for all), each row's facing part weighed by its own weight (N,)."""
        difference = features[:, None] - self.tree.data[positions]  # (N, C, D)
        if not self.facing_weight:
            return np.linalg.norm(difference, axis=-1)
        scale = (np.asarray(weights, dtype=np.float64) / self.facing_weight)[:, None]  # (N, 1)
        return np.sqrt((difference[..., :-2] ** 2).sum(-1) + scale ** 2 * (difference[..., -2:] ** 2).sum(-1))

    def query(self, joints, k):
        """The k nearest indexed poses of each of N poses, nearest first.

        Returns (distances (N, k) in torso lengths, positions (N, k) into the indexed skeletons).
        """
        joints = as_joints(joints)
        k = min(k, len(self))
        features = self.features(joints)
        distances, positions = self.tree.query(features, k=k)
        distances, positions = distances.reshape(len(joints), k), positions.reshape(len(joints), k)
        weights = self.facing_weights(joints, features)  # (N,)
        relieved = np.flatnonzero(weights < self.facing_weight)  # searched by brute force, their own weight
        rows_at_once = max(1, 2_000_000 // (len(self) * features.shape[1]))  # about 16 MB of differences
        for start in range(0, len(relieved), rows_at_once):
            rows = relieved[start:start + rows_at_once]
            to_all = self.weighted_distances(features[rows], weights[rows], np.arange(len(self))[None])  # (n, M)
            nearest = np.argsort(to_all, axis=1, kind="stable")[:, :k]
            distances[rows], positions[rows] = np.take_along_axis(to_all, nearest, axis=1), nearest
        return distances, positions

    def distances(self, joints, positions):
        """(N, C) distances (torso lengths) from each of N poses to the indexed skeletons at its
        row of positions (N, C), the facing weighed as `query` weighs it."""
        joints = as_joints(joints)
        features = self.features(joints)
        return self.weighted_distances(features, self.facing_weights(joints, features), positions)


def pooled_candidates(positions, window):
    """(N, k) candidates of N consecutive poses -> (N, C): each pose's own and those of the poses up to
    `window` before and after it, without repeats (rows padded by repeating their first candidate)."""
    pooled = [np.unique(positions[max(0, t - window):t + window + 1]) for t in range(len(positions))]
    width = max(len(row) for row in pooled)
    return np.stack([np.concatenate([row, np.full(width - len(row), row[0])]) for row in pooled])


def smoothest_path(distances, frame_ids, jump_cost):
    """Viterbi over N driving poses x k candidate target frames.

    Minimises the sum of pose distances + jump_cost x the number of jumps, where going from target
    frame f to f or f + 1 is free (the target video plays on, or holds) and anything else is a jump.
    distances, frame_ids: (N, k). Returns (N,) the chosen column of each row.
    """
    n_poses, k = distances.shape
    if n_poses == 0:
        return np.zeros(0, dtype=np.int64)
    best_cost = distances[0].copy()  # (k,) cheapest path ending at each candidate of pose t
    came_from = np.zeros((n_poses, k), dtype=np.int64)  # best previous candidate, for the backtrack
    for t in range(1, n_poses):
        step = frame_ids[t][None, :] - frame_ids[t - 1][:, None]  # (k previous, k next)
        path_costs = best_cost[:, None] + np.where((step == 0) | (step == 1), 0.0, jump_cost)
        came_from[t] = path_costs.argmin(axis=0)
        best_cost = path_costs[came_from[t], np.arange(k)] + distances[t]
    path = np.empty(n_poses, dtype=np.int64)
    path[-1] = best_cost.argmin()
    for t in range(n_poses - 1, 0, -1):
        path[t - 1] = came_from[t, path[t]]
    return path


def dissolves(frame_ids, indexed, n_frames):
    """Where a path through the target's frames jumps (anything but holding or stepping one frame on),
    the n_frames frames from the jump become a cross-dissolve: [(position t, the frame the path left
    playing on there, the new frame's weight)], the left clip playing on (the frame left + 1, + 2, ...)
    while its frames are `indexed`, the weight rising 1/(n+1), 2/(n+1), ... n/(n+1)."""
    frame_ids = np.asarray(frame_ids)
    indexed = set(np.asarray(indexed).tolist())
    plan, left, jumped_at = [], None, None
    for t in range(1, len(frame_ids)):
        if frame_ids[t] - frame_ids[t - 1] not in (0, 1):
            left, jumped_at = int(frame_ids[t - 1]), t
        if jumped_at is None or t - jumped_at >= n_frames:
            continue
        since = t - jumped_at
        if left + since + 1 in indexed:
            plan.append((t, left + since + 1, (since + 1) / (n_frames + 1)))
    return plan


def dissolve_layers(person, alpha, fades, old_person, old_alpha):
    """A sequence's layers (person (N, S, S, 3) uint8, alpha (N, S, S) float32 or None) with the
    `dissolves` fades applied: old_person (F, S, S, 3), old_alpha (F, S, S) or None are the layers of
    the clip left behind at each fade. Blended premultiplied by the alphas (without alphas, the crops
    themselves); returns new arrays (person, alpha)."""
    person, alpha = person.copy(), None if alpha is None else alpha.copy()
    for (t, _, weight), left_person, left_alpha in zip(fades, old_person, old_alpha if alpha is not None else [None] * len(fades)):
        if alpha is None:
            person[t] = np.round(weight * person[t] + (1 - weight) * left_person.astype(np.float32)).astype(np.uint8)
            continue
        blended_alpha = weight * alpha[t] + (1 - weight) * left_alpha  # (S, S)
        premultiplied = weight * alpha[t][..., None] * person[t] + (1 - weight) * left_alpha[..., None] * left_person
        person[t] = np.clip(np.round(premultiplied / np.maximum(blended_alpha, 1e-3)[..., None]), 0, 255).astype(np.uint8)
        alpha[t] = blended_alpha
    return person, alpha


class GenNearest(Generator):
    """Generate the target's image for a pose by showing its frame with the nearest pose.

    `indices` limits the searchable frames (the training split, so validation frames stay unseen);
    `k` nearest frames per pose are the candidates of the sequence mode, and `jump_cost` (torso
    lengths) is what a jump between non-consecutive target frames must save in pose distance.
    `placement_weight` > 0 also matches where the body stands and its size (GenGAN's exemplars);
    0, the default, finds a pose wherever the source stands. `facing_weight` > 0 also matches which
    way the body faces (`facing_features`; GenGAN's exemplars), relieved near a profile as
    `facing_relief` (a FacingRelief) says, if given. `window` > 0 widens each pose's candidates in the
    sequence mode to those of the poses up to that many frames around it (`choose_frames`; GenGAN's
    exemplars). `mirrored` also searches the mirror image of every indexed frame (the crop flipped left to
    right, left and right joints swapped; GenGAN's exemplars): a stance the target took on one side only
    is then found on the other too. What the search returns are entries: a frame's own index, or for its
    mirror image the index + `mirror_offset` (`entry_frames` tells them apart), so that a mirrored clip
    still plays on one entry after the other.
    """

    name = "nearest"

    def __init__(self, video_skeleton, k=8, jump_cost=JUMP_COST, indices=None, placement_weight=0.0,
                 facing_weight=0.0, window=0, dissolve_frames=0, facing_relief=None, mirrored=False):
        self.target = video_skeleton
        self.k, self.window = k, window
        self.jump_cost = jump_cost
        self.dissolve_frames = dissolve_frames
        n_frames = len(video_skeleton)
        self.frame_ids = np.arange(n_frames) if indices is None else np.unique(np.asarray(indices, dtype=np.int64))  # (M,)
        if len(self.frame_ids) and (self.frame_ids[0] < 0 or self.frame_ids[-1] >= n_frames):
            raise ValueError(f"indices must lie in 0..{n_frames - 1}")
        self.mirror_offset = n_frames + 1  # frame f's mirror image is entry f + this: the first mirror entry is
        # then two past the last frame, so the path counts going from one to the other as a jump
        self.entries = (np.concatenate([self.frame_ids, self.frame_ids + self.mirror_offset]) if mirrored
                        else self.frame_ids)  # (M,) or (2M,) what the index holds, in its order
        joints = video_skeleton.reduced().reshape(-1, N_JOINTS, 2)[self.frame_ids]  # (M, 13, 2)
        if mirrored:
            joints = np.concatenate([joints, mirror_joints(joints)])
        self.index = PoseIndex(joints, placement_weight, facing_weight, facing_relief)

    def entry_frames(self, entries):
        """(N,) entries of the search -> ((N,) the target frames they show, (N,) bool: mirrored)."""
        entries = np.asarray(entries, dtype=np.int64)
        mirrored = entries >= self.mirror_offset
        return np.where(mirrored, entries - self.mirror_offset, entries), mirrored

    @property
    def size(self):
        """Side of the square images generated: the target's crop size."""
        return self.target.crop_size

    def nearest_frames(self, skeletons):
        """(N,) the entry (target frame, see `entry_frames`) of the nearest pose of each skeleton, each
        chosen on its own."""
        _, positions = self.index.query(skeletons, k=1)  # (N, 1)
        return self.entries[positions[:, 0]]

    def choose_frames(self, skeletons):
        """(N,) target frames (entries, see `entry_frames`) for a driving sequence: among each pose's
        candidates, the path that best trades pose distance against jumps in the target's time. The candidates are the pose's
        k nearest frames and, with a window, those of its neighbours in time: a frame that suits the
        poses around one can then be held through it, where that pose's own k nearest, all elsewhere
        in the target, would force a jump away and one back."""
        distances, positions = self.index.query(skeletons, k=self.k)  # (N, k)
        if self.window:
            positions = pooled_candidates(positions, self.window)  # (N, C)
            distances = self.index.distances(skeletons, positions)
        candidates = self.entries[positions]  # (N, k or C)
        chosen = smoothest_path(distances, candidates, self.jump_cost)  # (N,)
        return candidates[np.arange(len(candidates)), chosen]

    def generate_layers(self, skeletons, sequence=False):
        """(person (N, S, S, 3) uint8 BGR, alpha (N, S, S) float32 in [0, 1]) before compositing:
        the chosen frames' crops and their person masks; alpha None if the scene is unknown. With
        dissolve_frames, a sequence dissolves across the jumps of its path (`dissolved`)."""
        if not sequence:
            return self.layers(self.nearest_frames(skeletons))
        frame_ids = self.choose_frames(skeletons)
        return self.dissolved(frame_ids, *self.layers(frame_ids))

    def dissolved(self, frame_ids, person, alpha):
        """The layers of a sequence path (person (N, S, S, 3) uint8, alpha (N, S, S) or None) with each
        jump turned into a cross-dissolve (`dissolves`): the frames the path left keep playing and fade
        out as the new ones fade in."""
        fades = dissolves(frame_ids, self.entries, self.dissolve_frames)
        return dissolve_layers(person, alpha, fades, *self.layers([old for _, old, _ in fades]))

    def layers(self, entries):
        frame_ids, mirrored = self.entry_frames(entries)
        crops = np.asarray(self.target.images[frame_ids])  # (N, S, S, 3)
        crops[mirrored] = crops[mirrored, :, ::-1]
        if not self.composites:
            return crops, None
        masks = np.asarray(self.target.masks[frame_ids], dtype=np.float32) / 255  # (N, S, S)
        masks[mirrored] = masks[mirrored, :, ::-1]
        return crops, masks

    @property
    def composites(self):
        """Whether the person is drawn over the scene (the target's scene is registrable)."""
        return self.target.scene().registrable

    def budget(self):
        return {"kind": "index", "n_frames_indexed": len(self.frame_ids), "n_poses_indexed": len(self.entries)}


def count_jumps(frame_ids):
    """How many times a chosen frame sequence does not hold or step one frame forward."""
    steps = np.diff(np.asarray(frame_ids))
    return int(np.count_nonzero((steps != 0) & (steps != 1)))


def check_grid(video_skeleton, asked, generated):
    """One row per example: asked skeleton drawn | generated | real crop, the columns labelled."""
    rows = [[video_skeleton.skeleton(frame).to_image(video_skeleton.crop_size), image, video_skeleton.image(frame)]
            for frame, image in zip(asked, generated)]
    return image_grid(rows, ["asked pose", "nearest (train)", "real (validation)"])


def main(argv=None):
    parser = argparse.ArgumentParser(allow_abbrev=False, description="Index the training frames of a target and check "
                                     "the nearest-neighbour generator on its validation frames.")
    parser.add_argument("target", help="target video, or its cache folder")
    parser.add_argument("--k", type=int, default=8, help="candidates per pose in sequence mode (default 8)")
    parser.add_argument("--jump-cost", type=float, default=JUMP_COST,
                        help=f"cost of a jump in the target's time, in torso lengths (default {JUMP_COST})")
    parser.add_argument("--examples", type=int, default=4, help="validation frames shown in the grid (default 4)")
    parser.add_argument("--out", default=shown_path(OUT_ROOT / "nearest_check.png"),
                        help="where to write the grid (default out/nearest_check.png)")
    args = parser.parse_args(argv)
    try:
        video_skeleton = VideoSkeleton(args.target)
    except VideoSkeletonError as error:
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        print("interrupted: no cache was written", file=sys.stderr)
        sys.exit(130)  # 128 + SIGINT, as shells report Ctrl-C
    train, validation = split_indices(len(video_skeleton))
    if not train or not validation:
        sys.exit(f"error: {args.target} has too few frames with a person ({len(video_skeleton)}) to split")
    generator = GenNearest(video_skeleton, k=args.k, jump_cost=args.jump_cost, indices=train)
    asked = video_skeleton.reduced()[validation].reshape(-1, N_JOINTS, 2)  # (V, 13, 2)

    query_seconds = []
    for joints in asked:
        started = time.perf_counter()
        generator.nearest_frames(joints)
        query_seconds.append(time.perf_counter() - started)
    pixels = video_skeleton.crop_size
    print(f"indexed {len(train)} training frames of {generator.target_name}; "
          f"{1000 * np.median(query_seconds):.3f} ms per query (median of {len(asked)})")
    for mode, frames in (("per frame", generator.nearest_frames(asked)), ("sequence", generator.choose_frames(asked))):
        target_joints = video_skeleton.reduced()[frames].reshape(-1, N_JOINTS, 2)
        joint_distance = np.linalg.norm(target_joints - asked, axis=-1).mean() * pixels
        print(f"{mode:>9}: mean joint distance {joint_distance:.1f} px of a {pixels}x{pixels} crop, "
              f"{count_jumps(frames)} jumps over {len(frames)} validation frames")

    shown = np.asarray(validation)[np.linspace(0, len(validation) - 1, args.examples).round().astype(int)]
    views = [video_skeleton.view(i) for i in shown]  # each over its own frame's scene
    grid = check_grid(video_skeleton, shown, generator.generate_batch(video_skeleton.reduced()[shown], views))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, grid)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
