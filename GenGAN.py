"""Conditional GAN generator (course GEN_TYPE 4): pix2pix on the drawn skeleton image, with an exemplar.

Generator: besides the drawn pose, it gets an exemplar, the target's training frame with the
nearest pose, placement in the crop and facing (found as GenNearest finds it), that frame's person
mask, and a sampling grid that carries that frame's limbs onto the asked pose (`pose_guided_grid`,
per-limb similarities). A U-Net (networks.ExemplarWarper: skip connections, a full-resolution stage,
bilinear resize-convolutions, self-attention at 8x8) corrects that warp, decides per pixel whether to trust
it, paints what the exemplar does not show, and outputs an alpha that starts as the exemplar's mask
moved by the warp. When generating, by default, the person is fetched by the guided warp alone,
neither painted (a painted person is a blur MediaPipe misreads) nor bent by the correction, which is
learned together with the painting, and the exemplars are searched among the training frames and their
mirror images (`--no-mirror` in DanceDemo and Evaluate: the frames alone). The image is that person over
the target's scene rendered for the crop's camera (networks.composite): the generator neither paints nor carries the background.
Pixels are moved rather than painted, so the person is sharp after minutes of CPU training; the
pose-only U-Net (`--no-exemplar`) is still a blur at that budget. Discriminator: a spectrally
normalised patch critic that sees the skeleton image with the real crop or the composite. Losses:
hinge adversarial + L1 + SSIM + discriminator feature matching on the composite, and L1 of alpha
against the cached person masks. What generates is a running average of the generator's weights
(training.update_average), steadier than the generator as it chases the critic.
Generating needs the target's cache (data/cache/<target>/), where the exemplars and the scene are.

`--temporal` makes it remember its previous frame: the generator also takes the frame it generated
last, moved onto the new pose by the pose-guided warp between the two skeletons, and learns per pixel
how much of it to keep (vid2vid's warped previous frame and blending mask); it trains on pairs of
consecutive frames, the second generated from the first, against a second critic that judges the
pair with its two poses (Everybody Dance Now's temporal discriminator). A sequence (DanceDemo,
Evaluate's section 3) is then generated one frame after the other; a frame on its own as before.

`--input vector` is the course's GAN from the 26-D reduced skeleton instead: a DCGAN-style generator
(networks.VectorDecoder: a linear layer to 4x4, then upsampling convolutions) without an exemplar,
against the same critic (which still sees the drawn skeleton), losses, weight average and loop.
It is saved as "gan-vector" (data/models/<target>/gan-vector.pt) and loads through GenGAN as well.

    python GenGAN.py ../shared/data/taichi2.mp4 --minutes 20          # train (128x128 on CPU)
    python GenGAN.py ../shared/data/taichi2.mp4 --input vector --minutes 20  # from the 26-D vector
    python GenGAN.py ../shared/data/taichi2.mp4 --temporal --minutes 20  # remembers its previous frame
    python GenGAN.py ../shared/data/taichi2.mp4 --resume --minutes 10  # continue the same run
    python GenGAN.py ../shared/data/taichi2.mp4 --size 256 --dry-run   # one batch end to end
    torchrun --nproc_per_node=2 GenGAN.py VIDEO --minutes 20           # data-parallel training
"""
import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F

from GenNearest import FacingRelief, GenNearest, dissolve_layers, dissolves
from networks import ExemplarWarper, PatchDiscriminator, UNet, VectorDecoder
from Skeleton import L_HIP, L_SHOULDER, LIMBS, N_JOINTS, R_HIP, R_SHOULDER, hip_centre_and_torso, mirror_joints
from training import (AVERAGE, Batch, PairDataset, TrainedGenerator, TrainingMethod, add_training_arguments,
                      augmentation, autocast_for, images_to_tensor, masks_to_tensor, reconstruction, resize_crop, run_training,
                      skeleton_inputs, split_indices, unwrap, weight_average, wrap_distributed)

SIZES = (64, 128, 256, 512)
INPUTS = ("image", "vector")  # what the generator sees: the drawn pose (and an exemplar), or the 26-D vector
NAMES = {"image": "gan", "vector": "gan-vector"}  # the generator's name, and its checkpoint's, per input
EXEMPLAR_GAP_SECONDS = 1.0  # in training, a frame's exemplar is at least this far from it in time ...
EXEMPLAR_CHOICES = 3  # ... and one of its this many nearest poses that are, drawn at random each step
EXEMPLAR_JUMP_COST = 0.5  # in a sequence, what changing exemplar costs (torso lengths; GenNearest's is 0.05):
# the warp absorbs the pose difference, so an exemplar is worth holding longer than a shown frame ...
EXEMPLAR_WINDOW_FRAMES = 5  # ... and it may be held through a pose whose own nearest frames lie
# elsewhere, if it is among the nearest of a pose up to this many frames around (GenNearest.choose_frames)
EXEMPLAR_PLACEMENT_WEIGHT = 1.0  # the exemplar search also matches where the body stands and its size
# (GenNearest.placement_features): enlarging or moving the whole body by far leaves images MediaPipe
# misreads, but so do limbs bent far by the warp, and a heavier weight trades the second for the
# first (see RESULTS). 1: a hip centre a tenth of the crop away, or a body 10 % bigger, weighs like
# a pose about 0.1 torso lengths (RMS per joint) away.
EXEMPLAR_FACING_WEIGHT = 3.0  # ... and which way the body faces (GenNearest.facing_features): the warp
# bends limbs but cannot turn a body around, and an exemplar seen from behind has no arm in front of
# its chest to move where the asked pose holds one. 3: turning from the front to a side view (both
# widths from about 0.5 torso lengths to 0) weighs like a pose 2 torso lengths (RMS per joint) away,
# far more than nearest poses differ (0.1-0.3), so the facing is matched first, the pose within it
EXEMPLAR_FACING_RELIEF = FacingRelief(clear_width=0.4, reach_near=0.5, reach_far=0.7)  # ... but where the
# asked body is near a profile (facing widths under 0.4 torso lengths: turned about 50 degrees or more) and
# the target has no pose facing that way within 0.5-0.7 torso lengths (farther than the warp carries an
# exemplar well), the pose comes first: a front or back view narrowed into a profile reads better than a
# far pose (a crouch) stood up (GenNearest.FacingRelief; RESULTS). A training frame finds itself, so
# training's choices are as they were without it.
EXEMPLAR_DISSOLVE_FRAMES = 3  # in a sequence, a jump of the exemplar path dissolves over this many frames
# (0.1 s at 30 fps), the exemplar left behind playing on: both are warped to the asked pose, so it is a
# change of appearance, not a double person
EXEMPLAR_SOURCE_SIZE = 256  # exemplars are sampled from crops this large (the cache's default crop)
BONE_SIGMA = 0.04  # how far (in crop widths) a limb carries the pixels around it when warping ...
GRID_RESOLUTION = 64  # the warp grid is computed at most at this resolution, then resized
BONE_REACH = 0.15  # ... and beyond which pixels just follow the body as a whole (background)
LIMB_SHARE_SIGMA = 0.02  # (crop widths) a pixel near several limbs follows the nearest one, their shares a
# softmax of its distances at this scale, not BONE_SIGMA's average of all: where limbs pass close (the legs
# in a side view, a step through, a crouch) the average moves a pixel to a point between the exemplar's
# limbs, and the two legs melt into one shape that MediaPipe reads somewhere else in every frame.
# Checkpoints saved before it record none and use BONE_SIGMA (the average), as they were trained.
MIN_TORSO = 1e-3  # (crop widths) guards the whole-body zoom of a skeleton whose shoulders sit on its hips


# The limbs that carry pixels when warping: the drawn ones but the shoulder and hip lines, which
# shrink to a point when the person turns sideways and would then give a meaningless rotation.
WARPED_LIMBS = [limb for limb, _ in LIMBS if set(limb) not in ({L_SHOULDER, R_SHOULDER}, {L_HIP, R_HIP})]


def bone_endpoints(joints):
    """(B, 13, 2) joints -> (B, n_limbs, 2, 2): both ends of each warped limb (the neck included)."""
    neck = (joints[:, L_SHOULDER] + joints[:, R_SHOULDER]) / 2  # (B, 2)
    extended = torch.cat([joints, neck[:, None]], dim=1)  # index -1 (NECK) is the neck
    return extended[:, torch.tensor(WARPED_LIMBS)]


def pose_guided_grid(asked, exemplar, size, sigma=BONE_SIGMA, reach=BONE_REACH, share_sigma=LIMB_SHARE_SIGMA):
    """Where each pixel of the asked pose is found in the exemplar: (B, 13, 2), (B, 13, 2) joints in
    0..1 of the crop -> (B, 2, S, S) sampling positions (x, y in [-1, 1], grid_sample's convention).

    The grid changes no faster than `share_sigma` (a pixel or more at GRID_RESOLUTION), so above
    GRID_RESOLUTION it is computed at that resolution and resized (16 times less work at 256x256).
    """
    if size <= GRID_RESOLUTION:
        return limb_grid(asked, exemplar, size, sigma, reach, share_sigma)
    coarse = limb_grid(asked, exemplar, GRID_RESOLUTION, sigma, reach, share_sigma)  # (B, 2, G, G)
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)


def limb_grid(asked, exemplar, size, sigma, reach, share_sigma):
    """pose_guided_grid computed at every pixel of a size x size image.

    Each limb carries the pixels around it by the similarity (rotation, scale, shift) that takes
    the asked limb onto the exemplar's. How firmly the limbs hold a pixel is a Gaussian (`sigma`) of
    its distance to them, and pixels farther than `reach` from every limb (the background) follow the
    body as a whole; which limb it follows is shared among the limbs by a softmax of those distances
    at `share_sigma`, so that a pixel between two close limbs goes with the nearer, not to a point
    between them (share_sigma = sigma: the Gaussian average of all). Body parts thus move as wholes,
    as in the per-part transforms of deformable GANs (Siarohin et al., 2018).
    """
    asked, exemplar = asked.float(), exemplar.float()
    asked_bones, exemplar_bones = bone_endpoints(asked), bone_endpoints(exemplar)  # (B, L, 2, 2)
    centres = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(centres, centres, indexing="ij")
    pixels = torch.stack([x, y], dim=-1).view(1, 1, size * size, 2)  # (1, 1, P, 2)
    a1, va = asked_bones[:, :, None, 0], (asked_bones[:, :, 1] - asked_bones[:, :, 0])[:, :, None]  # (B, L, 1, 2)
    e1, ve = exemplar_bones[:, :, None, 0], (exemplar_bones[:, :, 1] - exemplar_bones[:, :, 0])[:, :, None]
    length2 = (va ** 2).sum(-1).clamp_min(1e-6)  # (B, L, 1)
    offset = pixels - a1  # (B, L, P, 2)
    along = ((offset * va).sum(-1) / length2).clamp(0, 1)  # (B, L, P): where the pixel projects on the limb
    distance2 = ((offset - along[..., None] * va) ** 2).sum(-1)  # (B, L, P)
    # the similarity as a complex ratio z = ve / va, its scale kept within 2/3..3/2 so that a limb
    # foreshortened to a point does not tear the image apart
    z_re = (ve[..., 0] * va[..., 0] + ve[..., 1] * va[..., 1]) / length2  # (B, L, 1)
    z_im = (ve[..., 1] * va[..., 0] - ve[..., 0] * va[..., 1]) / length2
    scale = torch.sqrt(z_re ** 2 + z_im ** 2).clamp_min(1e-6)
    kept = scale.clamp(2 / 3, 3 / 2) / scale
    z_re, z_im = z_re * kept, z_im * kept
    moved = e1 + torch.stack([z_re * offset[..., 0] - z_im * offset[..., 1],
                              z_im * offset[..., 0] + z_re * offset[..., 1]], dim=-1)  # (B, L, P, 2)
    # far from every limb, pixels follow the body as a whole: hip centre onto hip centre, torso
    # length onto torso length (the normalisation the exemplar was chosen under)
    asked_hips, asked_torso = hip_centre_and_torso(asked)  # (B, 2), (B,)
    exemplar_hips, exemplar_torso = hip_centre_and_torso(exemplar)
    zoom = (exemplar_torso.clamp_min(MIN_TORSO) / asked_torso.clamp_min(MIN_TORSO))[:, None, None]  # (B, 1, 1)
    whole = exemplar_hips[:, None] + (pixels[:, 0] - asked_hips[:, None]) * zoom  # (B, P, 2)
    held = torch.exp(-distance2 / (2 * sigma ** 2)).sum(1)[..., None]  # (B, P, 1) how firmly the limbs hold a pixel
    stay = math.exp(-reach ** 2 / (2 * sigma ** 2))  # the weight of the whole-body move
    shares = torch.softmax(-distance2 / (2 * share_sigma ** 2), dim=1)  # (B, L, P) which limb a pixel follows
    limbs = (shares[..., None] * moved).sum(1)  # (B, P, 2)
    found = (held * limbs + stay * whole) / (held + stay)  # (B, P, 2)
    return (2 * found - 1).view(-1, size, size, 2).permute(0, 3, 1, 2)  # (B, 2, S, S)


class ExemplarBank:
    """The target's training frames as appearance references for the generator.

    For each asked pose the generator gets the training frame whose pose is nearest (searched
    like GenNearest, but also for where the body stands and its size: asked poses come in the
    target's crop coordinates, and a whole body enlarged or moved by the warp is what MediaPipe
    misreads; and for which way it faces, which no warp changes) and a sampling grid that moves that
    frame's body parts onto the asked pose.
    That frame already holds the target's face, clothes and background at full sharpness, so the
    network learns to correct a warp rather than paint every pixel from a stick figure: within
    minutes of CPU training, that is the difference between a blur in which MediaPipe finds no
    person and an image it reads the pose from.
    In training, a frame's exemplar is one of its nearest poses at least EXEMPLAR_GAP_SECONDS away,
    so the network is taught to correct a real pose difference, like the one between an unseen pose
    and its nearest training pose, never to copy its own target.
    `mirrored` also offers each frame's mirror image (GenNearest's mirrored entries), as GenGAN does when
    generating; training's bank keeps to the frames as filmed. Exemplars are entries of that search:
    `entries` lists them in the bank's order, `position` finds one.
    """

    def __init__(self, video_skeleton, frame_ids, size, placement_weight=EXEMPLAR_PLACEMENT_WEIGHT,
                 facing_weight=EXEMPLAR_FACING_WEIGHT, scale=1, share_sigma=LIMB_SHARE_SIGMA, mirrored=False):
        self.video_skeleton = video_skeleton
        self.size, self.scale = size, scale  # crops kept at scale x size (see networks.ExemplarWarper)
        self.share_sigma = share_sigma  # pose_guided_grid's, as the checkpoint was trained with
        self.nearest = GenNearest(video_skeleton, indices=frame_ids, jump_cost=EXEMPLAR_JUMP_COST,
                                  placement_weight=placement_weight, facing_weight=facing_weight,
                                  window=EXEMPLAR_WINDOW_FRAMES, facing_relief=EXEMPLAR_FACING_RELIEF,
                                  mirrored=mirrored)
        self.entries = self.nearest.entries  # (E,) the frames, then with `mirrored` their mirror images
        self.position = {int(entry): position for position, entry in enumerate(self.entries)}
        frames, flipped = self.nearest.entry_frames(self.entries)
        filmed = self.nearest.frame_ids  # (M,) sorted: each read and resized once, its mirror image a flipped copy
        crops = np.stack([resize_crop(video_skeleton.image(f), size * scale) for f in filmed])  # (M, rS, rS, 3)
        masks = np.stack([resize_crop(video_skeleton.mask(f), size) for f in filmed])  # (M, S, S)
        of_entry = np.searchsorted(filmed, frames)  # (E,) each entry's frame among them
        self.crops, self.masks = crops[of_entry], masks[of_entry]  # (E, rS, rS, 3), (E, S, S)
        self.crops[flipped], self.masks[flipped] = self.crops[flipped, :, ::-1], self.masks[flipped, :, ::-1]
        joints = video_skeleton.reduced()[frames].reshape(-1, N_JOINTS, 2)  # (E, 13, 2)
        self.joints = np.where(flipped[:, None, None], mirror_joints(joints), joints).astype(np.float32)

    def inputs(self, exemplars, asked_skeletons):
        """(N, 3r^2 + 1 + 2, S, S): each exemplar's (an entry, see `entries`) crop in [-1, 1] (at r x S,
        folded into channels), its person mask in [0, 1], and the grid bringing it to the asked pose."""
        positions = [self.position[int(entry)] for entry in exemplars]
        asked = torch.from_numpy(np.stack([skeleton.joints() for skeleton in asked_skeletons]))  # (N, 13, 2)
        grid = pose_guided_grid(asked, torch.from_numpy(self.joints[positions]), self.size,
                                share_sigma=self.share_sigma)  # (N, 2, S, S)
        crops = images_to_tensor(self.crops[positions])  # (N, 3, rS, rS)
        if self.scale > 1:
            crops = F.pixel_unshuffle(crops, self.scale)  # (N, 3r^2, S, S)
        return torch.cat([crops, masks_to_tensor(self.masks[positions]), grid], dim=1)

    def training_choices(self, frame_ids, gap_seconds=EXEMPLAR_GAP_SECONDS, n_choices=EXEMPLAR_CHOICES):
        """(N, n_choices) exemplars (entries) for training frames: their nearest poses >= gap_seconds away
        (in a mirrored bank, a mirror image counts as filmed when its frame was)."""
        frame_ids = np.asarray(frame_ids)
        seconds = np.asarray(self.video_skeleton.meta["frame_indices"]) / self.video_skeleton.fps  # (N_target,)
        _, positions = self.nearest.index.query(self.video_skeleton.reduced()[frame_ids], k=128)  # (N, k)
        candidates = self.entries[positions]  # (N, k), nearest pose first
        choices = np.empty((len(frame_ids), n_choices), dtype=np.int64)
        for row, (frame, row_candidates) in enumerate(zip(frame_ids, candidates)):
            apart = np.abs(seconds[self.nearest.entry_frames(row_candidates)[0]] - seconds[frame])  # (k,)
            away = row_candidates[apart >= gap_seconds]
            if len(away) == 0:  # a short video: take the candidate farthest in time
                away = row_candidates[[apart.argmax()]]
            choices[row] = np.resize(away[:n_choices], n_choices)
        return choices


class ExemplarPairs(PairDataset):
    """PairDataset whose inputs carry an exemplar: (B, 3 + 3r^2 + 1 + 2, S, S) = drawn pose, exemplar
    crop, its mask, pose-guided grid. Training pairs draw one of their EXEMPLAR_CHOICES exemplars per step;
    held-out pairs use their nearest training pose, as generation does."""

    def __init__(self, video_skeleton, indices, size, bank, training, augment=False):
        super().__init__(video_skeleton, indices, size, "image", augment)
        self.bank = bank
        if training:
            self.exemplars = bank.training_choices(self.indices)  # (N, choices)
        else:
            self.exemplars = bank.nearest.nearest_frames(self.skeletons)[:, None]  # (N, 1)

    def batch(self, positions, rng=None):
        transforms = self.transforms(len(positions), rng)
        choice = (rng.integers(self.exemplars.shape[1], size=len(positions)) if rng is not None
                  else np.zeros(len(positions), dtype=np.int64))
        return self.frames(positions, self.exemplars[positions, choice], transforms)[0]

    def transforms(self, n_pairs, rng):
        """Each pair's `augmentation`, or None when not augmenting."""
        return [augmentation(rng, self.size) for _ in range(n_pairs)] if self.augment and rng is not None else None

    def frames(self, positions, exemplar_frames, transforms):
        """(Batch, skeletons) of some positions with the given exemplars and augmentations (or None)."""
        if transforms is not None:
            skeletons, images, masks, backgrounds = self.augmented(positions, None, transforms)
            drawings = skeleton_inputs(skeletons, "image", self.size)
        else:
            skeletons = [self.skeletons[p] for p in positions]
            images, masks, drawings = self.images[positions], self.masks[positions], self.inputs[positions]
            backgrounds = None if self.backgrounds is None else self.backgrounds[positions]
        exemplars = self.bank.inputs(exemplar_frames, skeletons)  # (B, 3r^2 + 3, S, S)
        return self.make_batch(torch.cat([drawings, exemplars], dim=1), images, masks, backgrounds, drawings), skeletons


def motion_grids(joints, previous_joints, size, share_sigma=LIMB_SHARE_SIGMA):
    """(B, 13, 2), (B, 13, 2) joints of frames and of the frames before them -> (B, 2, S, S): where
    each pixel of a frame was in the one before, by the pose-guided warp between the two skeletons."""
    return pose_guided_grid(torch.as_tensor(joints), torch.as_tensor(previous_joints), size, share_sigma=share_sigma)


class ConsecutiveExemplarRuns(ExemplarPairs):
    """Training frames in runs of `run_length` consecutive frames, for the temporal GAN. The last two
    of a run are the pair the losses judge; the frames before them are generated first, without
    gradients, so that the pair's first frame is made from a carried frame as in a real sequence
    (trained only from frames generated on their own, the network never sees its own carried output,
    and in a long sequence that output drifts). An item is a run: the Batch of its last frames, whose
    `previous` is the Batch of the frames before, and so on; each Batch's `motion` is the pose-guided
    motion from the frames before it. All frames of a run get the same augmentation; each frame shares
    the last frame's exemplar half of the time and draws its own otherwise, so the network also learns
    to carry a sequence across a change of exemplar."""

    frames_per_item = 2  # frames with losses per item (a step sees batch_size of them)

    def __init__(self, video_skeleton, indices, size, bank, run_length=2, augment=False):
        super().__init__(video_skeleton, indices, size, bank, training=True, augment=augment)
        if run_length < 2:
            raise ValueError(f"a run needs at least 2 frames, not {run_length}")
        self.run_length = run_length
        self.item_name = f"runs of {run_length} consecutive frames"
        frame_numbers = np.asarray(video_skeleton.meta["frame_indices"])[self.indices]  # (N,) in the video
        steps = np.diff(frame_numbers)
        next_is_next = steps == (np.median(steps) if len(steps) else 1)  # (N - 1,) position p + 1 is frame p's next
        windows = np.lib.stride_tricks.sliding_window_view(next_is_next, run_length - 1) if len(steps) >= run_length - 1 \
            else np.zeros((0, run_length - 1), bool)
        self.starts = np.flatnonzero(windows.all(axis=1))  # positions that begin a run of consecutive frames

    def __len__(self):
        return len(self.starts)

    def batch(self, items, rng=None):
        n_runs = len(items)
        transforms = self.transforms(n_runs, rng)  # one per run, all its frames alike
        positions = [self.starts[items] + k for k in range(self.run_length)]  # earliest first
        choices = (rng.integers(self.exemplars.shape[1], size=(self.run_length, n_runs)) if rng is not None
                   else np.zeros((self.run_length, n_runs), dtype=np.int64))
        last = self.exemplars[positions[-1], choices[-1]]
        shared = (rng.random((self.run_length, n_runs)) < 0.5 if rng is not None
                  else np.ones((self.run_length, n_runs), bool))
        batch, joints_before = None, None
        for k, frame_positions in enumerate(positions):
            exemplars = last if k == self.run_length - 1 else np.where(shared[k], last, self.exemplars[frame_positions, choices[k]])
            frames, skeletons = self.frames(frame_positions, exemplars, transforms)
            joints = np.stack([skeleton.joints() for skeleton in skeletons])  # (B, 13, 2)
            if batch is not None:
                frames.previous, frames.motion = batch, motion_grids(joints, joints_before, self.size, self.bank.share_sigma)
            batch, joints_before = frames, joints
        return batch


def gaussian_window(size=11, sigma=1.5):
    coordinates = torch.arange(size, dtype=torch.float32) - size // 2
    window = torch.exp(-coordinates**2 / (2 * sigma**2))
    return window / window.sum()


def ssim(a, b, window=gaussian_window()):
    """Mean SSIM of two image batches (B, 3, H, W) in [-1, 1], with the evaluation's settings
    (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, data range 1): differentiable, so
    structure and contrast can be trained for directly, not only through per-pixel L1."""
    a, b = (a.float() + 1) / 2, (b.float() + 1) / 2
    channels = a.shape[1]
    horizontal = window.to(a.device).view(1, 1, 1, -1).repeat(channels, 1, 1, 1)  # separable blur
    vertical = horizontal.transpose(2, 3)
    blur = lambda x: F.conv2d(F.conv2d(x, horizontal, groups=channels), vertical, groups=channels)
    mean_a, mean_b = blur(a), blur(b)
    variance_a = blur(a * a) - mean_a**2
    variance_b = blur(b * b) - mean_b**2
    covariance = blur(a * b) - mean_a * mean_b
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mean_a * mean_b + c1) * (2 * covariance + c2)) / (
        (mean_a**2 + mean_b**2 + c1) * (variance_a + variance_b + c2))
    return ssim_map.mean()


def generator_channels(size):
    """Base width of the U-Net: wider at small sizes, where a convolution is cheap."""
    return 32 if size <= 128 else 16


def full_resolution_channels(size):
    """Width of the U-Net's full-resolution stage: up to 128x128 it is what keeps a face sharp; at
    256 the last doubling is a bilinear resize instead, which a CPU trains faster."""
    return generator_channels(size) // 2 if size <= 128 else 0


def max_channels(size):
    """The U-Net's widest layers: capped lower at 256x256 and above, where the deep levels (16x16,
    8x8) cost a CPU more than they give a generator that mostly moves exemplar pixels."""
    return 256 if size <= 128 else 128


def exemplar_scale(size):
    """How much larger than the output the exemplar is sampled from: 2 at 128 (from 256x256 crops)."""
    return max(1, EXEMPLAR_SOURCE_SIZE // size)


def build_generator(size, model_args):
    """The generator: person RGB and alpha (B, 4, S, S) from the drawn pose (and the exemplar), or
    from the 26-D vector (checkpoints saved before the vector input existed say no input: "image")."""
    if model_args["input"] == "vector":
        return VectorDecoder(size, out_channels=4, base_channels=model_args["base_channels"],
                             max_channels=model_args["max_channels"])
    unet_args = dict(base_channels=model_args["base_channels"], max_channels=model_args["max_channels"],
                     attention=model_args["attention"], canvas_channels=model_args["canvas_channels"],
                     full_resolution_channels=model_args["full_resolution_channels"],
                     upsampling=model_args["upsampling"])
    if model_args["exemplar"]:
        return ExemplarWarper(size, exemplar_scale=model_args["exemplar_scale"],
                              temporal=model_args.get("temporal", False), **unet_args)  # saved before it: False
    return UNet(size, out_channels=4, **unet_args)


def gan_model_args(size, args, target):
    """The architecture a GAN checkpoint records: the generator's input, widths and, for the drawn
    pose, its U-Net and exemplar settings."""
    exemplar = args.input == "image" and not args.no_exemplar
    model_args = {"input": args.input, "base_channels": generator_channels(size), "max_channels": max_channels(size),
                  "exemplar": exemplar, "disc_channels": 16, "composite": target.scene().registrable}
    if args.input == "image":
        model_args.update({"attention": not args.no_attention, "canvas_channels": 0 if exemplar else 4,
                           "full_resolution_channels": full_resolution_channels(size), "upsampling": "bilinear",
                           "exemplar_placement_weight": EXEMPLAR_PLACEMENT_WEIGHT if exemplar else 0.0,
                           "exemplar_facing_weight": EXEMPLAR_FACING_WEIGHT if exemplar else 0.0,
                           "exemplar_scale": exemplar_scale(size) if exemplar else 1,
                           "limb_share_sigma": LIMB_SHARE_SIGMA,
                           "temporal": exemplar and args.temporal})
    return model_args


class GANTraining(TrainingMethod):
    """One pix2pix optimisation step: (1) update D on real and generated pairs, (2) update G.
    The critic judges a person against the drawn pose asked (Batch.drawings), whatever the generator sees."""

    name = NAMES["image"]
    needs_drawings = True

    def __init__(self, size, device, args, target):
        self.size, self.device = size, device
        self.name, self.input_kind = NAMES[args.input], args.input
        self.model_args = gan_model_args(size, args, target)
        self.weights = {"l1": args.l1_weight, "feature": args.feature_weight, "ssim": args.ssim_weight,
                        "mask": args.mask_weight, "temporal": args.temporal_weight}
        self.temporal = self.model_args.get("temporal", False)
        self.run_length = args.temporal_run
        generator = build_generator(size, self.model_args).to(device)
        critics = {"discriminator": PatchDiscriminator(base_channels=self.model_args["disc_channels"]).to(device)}
        if self.temporal:  # Everybody Dance Now's temporal critic: two consecutive frames and their two poses
            critics["temporal_discriminator"] = PatchDiscriminator(
                in_channels=12, base_channels=self.model_args["disc_channels"]).to(device)
        self.networks = {"generator": wrap_distributed(generator, device),
                         **{name: wrap_distributed(critic, device) for name, critic in critics.items()},
                         AVERAGE: weight_average(generator)}  # what generates (training.update_average)
        # Separate learning rates (TTUR): the critics learn faster so they keep up with the generator.
        self.optimizers = {"generator": torch.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.5, 0.999)),
                           **{name: torch.optim.Adam(critic.parameters(), lr=args.lr * args.d_lr_ratio, betas=(0.5, 0.999))
                              for name, critic in critics.items()}}

    def make_datasets(self, video_skeleton, train_ids, validation_ids, augment=False):
        """Training and held-out pairs with exemplars; the plain pairs for the pose-only GAN."""
        if not self.model_args["exemplar"]:
            return super().make_datasets(video_skeleton, train_ids, validation_ids, augment)
        bank = ExemplarBank(video_skeleton, train_ids, self.size, self.model_args["exemplar_placement_weight"],
                            self.model_args["exemplar_facing_weight"], self.model_args["exemplar_scale"],
                            self.model_args["limb_share_sigma"])
        training_pairs = (ConsecutiveExemplarRuns(video_skeleton, train_ids, self.size, bank, self.run_length, augment)
                          if self.temporal else ExemplarPairs(video_skeleton, train_ids, self.size, bank, training=True, augment=augment))
        return training_pairs, ExemplarPairs(video_skeleton, validation_ids, self.size, bank, training=False)

    @staticmethod
    def generate_frames(generator, batch):
        """(the Batch of the frames the losses judge, the generator's output on them (F, 4, S, S)). For
        runs of consecutive frames (batch.previous, see ConsecutiveExemplarRuns) the frames are generated
        in order, each from the one before, as a sequence is generated; the losses judge the last two
        (F = 2B, the first of the pair first), the ones before them only give the state, without gradients."""
        if batch.previous is None:
            return batch, generator(batch.inputs)
        run = [batch]
        while run[0].previous is not None:
            run.insert(0, run[0].previous)  # earliest first
        output = None
        for k, frames in enumerate(run):
            with torch.set_grad_enabled(torch.is_grad_enabled() and k >= len(run) - 2):
                state = () if output is None else (torch.cat([output, frames.motion.to(output.dtype)], dim=1),)
                output = generator(frames.inputs, *state)  # (B, 4, S, S)
            if k == len(run) - 2:
                before = output
        pair = Batch(*(torch.cat([first, second]) if first is not None else None
                       for first, second in zip((run[-2].inputs, run[-2].real, run[-2].mask, run[-2].background, run[-2].drawings),
                                                (batch.inputs, batch.real, batch.mask, batch.background, batch.drawings))))
        return pair, torch.cat([before, output])

    @staticmethod
    def as_pairs(images):
        """(2B, C, S, S), first frames then second ones -> (B, 2C, S, S): each pair side by side in channels."""
        first, second = images.chunk(2)
        return torch.cat([first, second], dim=1)

    def training_step(self, batch):
        """batch.inputs: (B, 26) or (B, 3 or 3 + 3r^2 + 3, S, S), the drawn pose first (then the exemplar);
        batch.drawings (B, 3, S, S), images (B, 3, S, S) in [-1, 1]; for the temporal GAN, batch.previous
        and batch.motion: the frames before (see ConsecutiveExemplarRuns). Returns the step's losses."""
        generator, discriminator = self.networks["generator"], self.networks["discriminator"]
        critics = [name for name in ("discriminator", "temporal_discriminator") if name in self.networks]
        with autocast_for(self.device):
            frames, output = self.generate_frames(generator, batch)
            fake, loss_l1, loss_mask = reconstruction(output, frames)  # fake: the composite (F, 3, S, S)
            skeleton_images, real = frames.drawings, frames.real  # the critic judges against the asked pose only

            # (1) update the critics: hinge loss on real and generated frames (and pairs of frames),
            # in one pass through each critic
            scores, features = discriminator(skeleton_images.repeat(2, 1, 1, 1), torch.cat([real, fake.detach()]))
            real_scores, fake_scores = scores.float().chunk(2)  # (F, 1, h, w) each
            loss_d = F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()
            loss_d_pairs = torch.zeros(())
            if self.temporal:
                pair_drawings, real_pairs, fake_pairs = (self.as_pairs(x) for x in (skeleton_images, real, fake))
                pair_scores, _ = self.networks["temporal_discriminator"](
                    pair_drawings.repeat(2, 1, 1, 1), torch.cat([real_pairs, fake_pairs.detach()]))
                real_pair_scores, fake_pair_scores = pair_scores.float().chunk(2)  # (B, 1, h, w) each
                loss_d_pairs = F.relu(1 - real_pair_scores).mean() + F.relu(1 + fake_pair_scores).mean()
        for name in critics:
            self.optimizers[name].zero_grad(set_to_none=True)
        (loss_d + loss_d_pairs).backward()
        for name in critics:
            self.optimizers[name].step()
        real_features = [f.detach().chunk(2)[0] for f in features]

        # (2) update G: fool the critics, match the frame critic's features on real frames, and stay close
        # in L1. The plain modules are used with frozen weights, so no gradient reaches them (nor their DDP hooks).
        frozen = [unwrap(self.networks[name]) for name in critics]
        for critic in frozen:
            critic.requires_grad_(False)
        with autocast_for(self.device):
            fake_scores, fake_features = frozen[0](skeleton_images, fake)
            loss_adversarial = -fake_scores.float().mean()
            loss_features = sum(F.l1_loss(f.float(), r.float()) for f, r in zip(fake_features, real_features)) / len(fake_features)
            loss_ssim = 1 - ssim(fake, real)
            loss_temporal = -frozen[1](pair_drawings, fake_pairs)[0].float().mean() if self.temporal else torch.zeros(())
            loss_g = (loss_adversarial + self.weights["l1"] * loss_l1 + self.weights["feature"] * loss_features
                      + self.weights["ssim"] * loss_ssim + self.weights["mask"] * loss_mask
                      + self.weights["temporal"] * loss_temporal)
        self.optimizers["generator"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizers["generator"].step()
        for critic in frozen:
            critic.requires_grad_(True)
        losses = {"d": loss_d.item(), "g_adv": loss_adversarial.item(), "l1": loss_l1.item(), "fm": loss_features.item(),
                  "ssim": loss_ssim.item(), "mask": loss_mask.item()}
        if self.temporal:
            losses.update({"d_pairs": loss_d_pairs.item(), "g_pairs": loss_temporal.item()})
        return losses


class GenGAN(TrainedGenerator):
    """The trained GAN generator: `GenGAN(target, checkpoint).generate(skeleton, view)` -> BGR image.
    The checkpoint may hold either input's GAN ("gan" by default, or "gan-vector").

    paint_person: the network's output as in training: it also paints over the person where it
    distrusts the exemplar, and corrects the guided warp by its learned flow (a blurrier person that
    MediaPipe reads less well). By default the person is the exemplar's pixels, moved by the guided
    warp alone (see networks.ExemplarWarper).

    no_mirror: exemplars only from the target's training frames as filmed. By default their mirror images
    (the crop flipped left to right, left and right joints swapped) are searched too, which doubles the
    poses the target shows: a stance she took to one side is found to the other as well, so the warp bends
    an exemplar less far. A costume, hairstyle or prop that differs left from right shows flipped then.
    """

    name = NAMES["image"]

    @classmethod
    def accepted_names(cls):
        return list(NAMES.values())

    def __init__(self, target=None, checkpoint=None, device=None, paint_person=False, no_mirror=False):
        super().__init__(target, checkpoint, device)
        self.bank = None
        if self.model_args["exemplar"]:  # exemplars: the training frames of the target
            # checkpoints saved before the facing term searched without it; those saved before limb
            # shares averaged all limbs (share sigma = BONE_SIGMA)
            self.bank = ExemplarBank(self.target, split_indices(len(self.target))[0], self.size,
                                     self.model_args["exemplar_placement_weight"],
                                     self.model_args.get("exemplar_facing_weight", 0.0), self.model_args["exemplar_scale"],
                                     self.model_args.get("limb_share_sigma", BONE_SIGMA), mirrored=not no_mirror)
            self.network.paint_person = paint_person

    @staticmethod
    def build_network(size, model_args):
        return build_generator(size, model_args)

    def plan(self, skeletons, sequence):
        """(N,) each pose's exemplar frame: its nearest pose, or for a sequence the frames along the
        path GenNearest's sequence mode takes through the target's frames, so they do not flicker."""
        if self.bank is None:
            return None
        return self.bank.nearest.choose_frames(skeletons) if sequence else self.bank.nearest.nearest_frames(skeletons)

    def network_inputs(self, skeletons, exemplar_frames=None):
        """(N, 3 or 3 + 3r^2 + 3, S, S): the drawn poses, and the exemplars."""
        inputs = super().network_inputs(skeletons)
        if self.bank is None:
            return inputs
        return torch.cat([inputs, self.bank.inputs(exemplar_frames, skeletons)], dim=1)

    @property
    def temporal(self):
        """Whether the network carries its previous frame through a sequence (GenGAN.py --temporal)."""
        return self.model_args.get("temporal", False)

    def sequence_layers(self, skeletons, batch_size=32):
        """As TrainedGenerator's, but a temporal GAN generates the sequence one frame after the
        other, each frame from the previous one moved onto its pose (the first from nothing); the
        frame-by-frame GAN dissolves across each jump of its exemplar path, the exemplar it left
        playing on for a few frames (GenNearest.dissolves), so a change of exemplar is not a pop."""
        if self.bank is None:
            return super().sequence_layers(skeletons, batch_size)
        if not self.temporal:
            return self.dissolved_sequence(skeletons, batch_size)
        plan = self.plan(skeletons, sequence=True)
        joints = torch.from_numpy(np.stack([skeleton.joints() for skeleton in skeletons])) if skeletons else None

        def outputs():
            previous = None  # (1, 4, S, S): the frame just generated
            for t, skeleton in enumerate(skeletons):
                state = () if previous is None else (torch.cat(
                    [previous, motion_grids(joints[t:t + 1], joints[t - 1:t], self.size,
                                            self.bank.share_sigma).to(self.device)], dim=1),)
                previous = self.network_output(self.network_inputs([skeleton], plan[t:t + 1]), *state)
                yield previous
        return self.layers_of(outputs())

    def dissolved_sequence(self, skeletons, batch_size=32):
        """(person, alpha) of a sequence by the frame-by-frame network, dissolved across exemplar jumps."""
        exemplars = self.plan(skeletons, sequence=True)  # (N,)
        fades = dissolves(exemplars, self.bank.entries, EXEMPLAR_DISSOLVE_FRAMES)
        left_behind = self.generate_planned([skeletons[t] for t, _, _ in fades],
                                            np.array([old for _, old, _ in fades], dtype=np.int64), batch_size)
        return dissolve_layers(*self.generate_planned(skeletons, exemplars, batch_size), fades, *left_behind)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        description="Train the conditional GAN on a target video: pix2pix with an exemplar (the nearest training "
                    "frame, warped onto the pose and corrected by a U-Net) against a patch discriminator; or, "
                    "with --input vector, a DCGAN-style generator from the 26-D skeleton against the same critic.")
    add_training_arguments(parser, default_size="256 on a GPU, 128 on a CPU", sizes=SIZES, mask_weight=10.0)
    parser.add_argument("--d-lr-ratio", type=float, default=2.0, help="discriminator lr / generator lr (default 2)")
    parser.add_argument("--l1-weight", type=float, default=50.0, help="weight of the L1 loss (default 50)")
    parser.add_argument("--feature-weight", type=float, default=10.0, help="weight of feature matching (default 10)")
    parser.add_argument("--ssim-weight", type=float, default=10.0, help="weight of the SSIM loss (default 10)")
    parser.add_argument("--input", choices=INPUTS, default="image",
                        help="what the generator sees: the drawn pose and an exemplar (image, default), or the "
                             "26-D reduced skeleton (vector: the course's GAN, saved as gan-vector)")
    parser.add_argument("--no-exemplar", action="store_true",
                        help="generate from the drawn pose alone, without the nearest training frame beside it")
    parser.add_argument("--no-attention", action="store_true", help="no self-attention at 8x8 (--input image)")
    parser.add_argument("--temporal", action="store_true",
                        help="a generator that also takes its own previous frame, moved onto the new pose, and learns "
                             "how much of it to keep; trained on consecutive frames with a critic of frame pairs")
    parser.add_argument("--temporal-weight", type=float, default=1.0,
                        help="weight of the pair critic's adversarial loss (--temporal; default 1)")
    parser.add_argument("--temporal-run", type=int, default=3, metavar="N",
                        help="--temporal trains on runs of N consecutive frames: the losses judge the last two, "
                             "the first made from the frames before it as in a sequence (default 3; 2: pairs only)")
    args = parser.parse_args(argv)
    if args.temporal_run < 2:
        parser.error(f"--temporal-run must be at least 2 (a pair), not {args.temporal_run}")
    if args.temporal and (args.input == "vector" or args.no_exemplar):
        parser.error("--temporal is an option of the exemplar GAN (not of --input vector nor --no-exemplar)")
    if args.input == "vector" and args.no_attention:
        parser.error("--no-attention is an option of --input image (the vector generator has no attention)")
    return args


def main(argv=None):
    args = parse_args(argv)
    factory = lambda size, device, options, target: GANTraining(size, device, options, target)
    factory.name = NAMES[args.input]  # where run_training looks for the checkpoint before building the method
    run_training(factory, args, default_size=256, cpu_default_size=128)


if __name__ == "__main__":
    main()
