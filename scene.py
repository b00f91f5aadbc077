"""The target's scene: person masks, camera registration, the background mosaic, and rendering it.

VideoSkeleton.py builds these with its cache; the generators draw the person over `Scene.render`.

1. Per frame (in the detection workers, beside MediaPipe): `observe` keeps the person mask at a
   working resolution, a small grey thumbnail, and ORB features of what is not the person.
2. `register`: overlays burned into the picture (title bars, logos, letterbox bars) are the pixels
   that never change while the video plays; their features are dropped so they cannot pin the
   estimate. Every kept frame is matched against the last few keyframes of its shot and the
   older ones nearest its view (a similarity: pan, zoom, roll, by RANSAC), which drifts far less
   than chaining consecutive frames, and not further when the camera comes back. A frame that
   matches nothing starts a new shot; afterwards each shot is registered to the longest one
   through all of its keyframes, or its frames are marked unregistered (NaN). A video whose
   views (the runs of frames between cuts) each hold still within 1 % of the width is a still
   camera, with one camera per view.
3. `MosaicBuilder`: the background in the reference view, the per-pixel median over training
   frames (never the held-out ones) of the pixels that are not person, each frame's exposure
   matched to a first estimate; pixels never uncovered are inpainted and marked.
4. `Scene.render(camera, box, size)`: the background as any camera sees it, as a whole frame or a
   crop, with the overlays put back where the video has them. A `View` (a camera and a crop box)
   is what a generator is asked for beside a pose; `composite` puts its person over the background.

Cameras are 3x3 matrices that map a frame's pixel coordinates (x right, y down) to pixel
coordinates of background.png; NaN where a frame could not be registered.
"""
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

WORK_SIDE = 480  # masks and features are computed on frames scaled so their longer side is this
THUMB_SIDE = 160  # thumbnails (overlay detection, still-camera check) have this longer side
N_FEATURES = 2000  # ORB features per frame (overlay text may take many of them) ...
MATCHED_FEATURES = 300  # ... of which at most this many, the strongest outside overlays, are matched
ORB_LEVELS = 4  # pyramid levels: frames are matched to keyframes a few percent of zoom away
FAST_THRESHOLD = 5  # low: walls and floors have faint corners
PERSON_MARGIN = 0.02  # the person mask is widened by this fraction of the working side
PERSON_THRESHOLD = 0.25  # mask values above this (0..1) count as person when excluding pixels
RATIO_TEST = 0.8  # Lowe's ratio test for descriptor matches
RANSAC_PX = 2.0  # inlier distance at working resolution
MIN_INLIERS = 20  # fewer consistent matches than this: the frame is not registered
RECENT_KEYFRAMES = 2  # a frame is matched against this many of its shot's latest keyframes ...
NEAR_KEYFRAMES = 2  # ... and this many older ones whose views are nearest the previous frame's, so a
#                     camera that comes back meets the keyframes it left and the chain's drift stops growing
KEYFRAME_MOTION = 0.04  # a new keyframe when the view moved this fraction of the width
STATIC_RANGE = 10  # grey levels: a pixel whose value spans less than this over the video is overlay
STILL_TOLERANCE = 0.01  # a view whose corners stay within this fraction of the width is still
STILL_GREY = 3  # grey levels: two thumbnails closer than this, the person aside, show one view
VIEW_JUMP = 0.03  # a move this large (of the width) from one kept frame to the next is a cut
MOSAIC_FRAMES = 48  # training frames that vote in the background median
MOSAIC_OVERSAMPLE = 1.25  # the mosaic has this many pixels per crop pixel (at most the frame's)
MIN_VOTES = 2  # a background pixel needs this many frames that see it without the person ...
MIN_VOTE_SHARE = 0.1  # ... and this share of the frames that have it in view
MIN_REGISTERED = 0.5  # under this fraction of registered frames the scene counts as not registrable

STILL, MOVING, NOT_REGISTRABLE = "still camera", "moving camera", "not registrable"


def work_scale(frame_size, side=WORK_SIDE):
    """The factor that brings a frame of (width, height) to the working resolution (never above 1)."""
    return min(1.0, side / max(frame_size))


def scaled_size(frame_size, scale):
    return max(1, int(round(frame_size[0] * scale))), max(1, int(round(frame_size[1] * scale)))


def resizing(factor):
    """The 3x3 matrix from pixel coordinates of an image to those of the image resized by factor
    (OpenCV's convention: pixel centres at integers, so corners stay corners)."""
    shift = (factor - 1) / 2
    return np.array([[factor, 0, shift], [0, factor, shift], [0, 0, 1.0]])


def translation(dx, dy):
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1.0]])


def crop_matrix(box, size):
    """Pixels of the size x size crop of box = (x0, y0, side) -> pixels of the frame. The box is
    rounded to whole pixels as the crops are cut (VideoSkeleton.crop_square)."""
    x0, y0, side = (int(round(v)) for v in box)
    return translation(x0, y0) @ resizing(side / size)


def onto_frame(layer, box, frame_size, interpolation=cv2.INTER_LINEAR, border=cv2.BORDER_CONSTANT):
    """A crop's layer (S, S) or (S, S, C) placed at its box (x0, y0, side) in a frame of frame_size
    (W, H): (the frame region it covers as slices (rows, columns), the layer resampled onto that
    region), or (None, None) when the box lies outside the frame."""
    width, height = frame_size
    x0, y0, side = (int(round(v)) for v in box)
    left, top, right, bottom = max(x0, 0), max(y0, 0), min(x0 + side, width), min(y0 + side, height)
    if right <= left or bottom <= top:
        return None, None
    to_region = (translation(-left, -top) @ crop_matrix(box, layer.shape[0]))[:2]  # crop -> region pixels
    warped = cv2.warpAffine(layer, to_region, (right - left, bottom - top), flags=interpolation, borderMode=border)
    return (slice(top, bottom), slice(left, right)), warped


# --- 1. what each frame gives -------------------------------------------------------------------
@dataclass
class Observation:
    """What registration and the mosaic need of one frame, at working resolution."""
    mask: np.ndarray  # (h, w) uint8 0..255, the person
    thumbnail: np.ndarray  # (th, tw) uint8 grey
    points: np.ndarray  # (K, 2) float32 feature positions, working pixels, strongest first
    descriptors: np.ndarray  # (K, 32) uint8 ORB descriptors


_orb = None


def observe(frame, person_mask):
    """The Observation of a BGR frame and MediaPipe's person mask (float 0..1 of the frame's size)."""
    global _orb
    if _orb is None:
        _orb = cv2.ORB_create(N_FEATURES, fastThreshold=FAST_THRESHOLD, nlevels=ORB_LEVELS)
    height, width = frame.shape[:2]
    size = scaled_size((width, height), work_scale((width, height)))
    grey = cv2.cvtColor(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    mask = cv2.resize(person_mask, size, interpolation=cv2.INTER_AREA)
    mask = np.clip(mask * 255 + 0.5, 0, 255).astype(np.uint8)
    thumbnail = cv2.resize(grey, scaled_size(size, THUMB_SIDE / max(size)), interpolation=cv2.INTER_AREA)
    keypoints, descriptors = _orb.detectAndCompute(grey, 255 - widened_person(mask))
    if descriptors is None:
        return Observation(mask, thumbnail, np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    strongest = np.argsort([-k.response for k in keypoints], kind="stable")
    points = np.float32([keypoints[i].pt for i in strongest]).reshape(-1, 2)
    return Observation(mask, thumbnail, points, descriptors[strongest])


def widened_person(mask):
    """255 where the (h, w) uint8 mask is person or near it, else 0."""
    radius = max(1, int(round(PERSON_MARGIN * max(mask.shape))))
    person = (mask > PERSON_THRESHOLD * 255).astype(np.uint8) * 255
    return cv2.dilate(person, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8))


# --- 2. registration ----------------------------------------------------------------------------
def static_overlay(observations):
    """(th, tw) bool: pixels that never change over the frames' thumbnails, person excluded.

    In a moving camera's video those are overlays burned into the picture; in a still camera's
    they are most of the scene, which `register` tells apart.
    """
    picks = np.linspace(0, len(observations) - 1, min(len(observations), 64)).round().astype(int)
    thumbs = np.stack([observations[i].thumbnail for i in picks]).astype(np.int16)  # (K, th, tw)
    size = thumbs.shape[2], thumbs.shape[1]
    person = np.stack([cv2.resize(observations[i].mask, size, interpolation=cv2.INTER_AREA) > 32 for i in picks])
    median = np.median(thumbs, axis=0)
    values = np.where(person, median[None], thumbs)  # person pixels do not count as change
    return (values.max(axis=0) - values.min(axis=0)) < STATIC_RANGE


def background_features(observation, overlay):
    """The strongest feature points and descriptors outside the overlay (widened by a few thumbnail
    pixels)."""
    if len(observation.points) == 0:
        return observation.points, observation.descriptors
    height, width = observation.mask.shape
    near_overlay = cv2.dilate(overlay.astype(np.uint8), np.ones((3, 3), np.uint8))
    th, tw = overlay.shape
    cols = np.clip((observation.points[:, 0] * tw / width).astype(int), 0, tw - 1)
    rows = np.clip((observation.points[:, 1] * th / height).astype(int), 0, th - 1)
    keep = np.flatnonzero(near_overlay[rows, cols] == 0)[:MATCHED_FEATURES]
    return observation.points[keep], observation.descriptors[keep]


_matcher = cv2.BFMatcher(cv2.NORM_HAMMING)


def correspondences(descriptors, points, key_descriptors, key_points):
    """(src (M, 2), dst (M, 2)): points matched to key points by descriptor, with the ratio test."""
    if len(descriptors) < 2 or len(key_descriptors) < 2:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    pairs = _matcher.knnMatch(descriptors, key_descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO_TEST * p[1].distance]
    return (points[[m.queryIdx for m in good]].reshape(-1, 2),
            key_points[[m.trainIdx for m in good]].reshape(-1, 2))


def fit_similarity(src, dst):
    """The 3x3 similarity mapping src onto dst by RANSAC, and its inlier count (None, n if too few)."""
    if len(src) < MIN_INLIERS:
        return None, len(src)
    matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                  ransacReprojThreshold=RANSAC_PX, maxIters=2000)
    count = 0 if inliers is None else int(inliers.sum())
    if matrix is None or count < MIN_INLIERS:
        return None, count
    # RANSAC's model comes from its best minimal sample; a least-squares fit to every match within
    # the threshold of it, twice, uses all the inliers (the synthetic camera's error fell by 3x).
    matrix = np.vstack([matrix, [0, 0, 1]])
    for _ in range(2):
        close = np.linalg.norm(apply(matrix, src) - dst, axis=1) < RANSAC_PX
        if close.sum() < MIN_INLIERS:
            break
        matrix = least_squares_similarity(src[close], dst[close])
    return matrix, count


def least_squares_similarity(src, dst):
    """The 3x3 similarity (scale, rotation, translation) closest to mapping src onto dst (Umeyama)."""
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - src_mean, dst - dst_mean
    u, singular, vt = np.linalg.svd(b.T @ a / len(src))
    sign = np.diag([1, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ sign @ vt
    scale = np.trace(np.diag(singular) @ sign) / (a ** 2).sum(axis=1).mean()
    matrix = np.eye(3)
    matrix[:2, :2] = scale * rotation
    matrix[:2, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def apply(matrix, points):
    """(K, 2) points through a 3x3 matrix."""
    moved = points @ matrix[:2, :2].T + matrix[:2, 2]
    if matrix[2, 0] or matrix[2, 1]:
        moved = moved / (points @ matrix[2, :2] + matrix[2, 2])[:, None]
    return moved


@dataclass
class Shot:
    """Frames registered to one another: keyframes' features and cameras in the shot's own coordinates."""
    frames: list  # positions (into the kept frames) registered in this shot
    key_points: list  # per keyframe, (K, 2) points in shot coordinates
    key_descriptors: list
    key_cameras: list  # per keyframe, its (3, 3) camera

    def keys(self, near_camera, width):
        """(points, descriptors) of the keyframes a frame is matched against: the latest ones and
        the older ones whose views are nearest near_camera (None: the latest ones only)."""
        chosen = list(range(len(self.key_points)))[-RECENT_KEYFRAMES:]
        if near_camera is not None and len(self.key_points) > RECENT_KEYFRAMES:
            distance = [view_shift(camera, near_camera, width) for camera in self.key_cameras[:-RECENT_KEYFRAMES]]
            chosen = list(np.argsort(distance, kind="stable")[:NEAR_KEYFRAMES]) + chosen
        return self.gathered(chosen)

    def all_keys(self):
        return self.gathered(range(len(self.key_points)))

    def gathered(self, chosen):
        return (np.concatenate([self.key_points[k] for k in chosen]),
                np.concatenate([self.key_descriptors[k] for k in chosen]))


def register(observations):
    """Cameras of the frames, in working pixels of the reference frame, and a report.

    Returns (cameras (N, 3, 3) float64 mapping working pixels of each frame to working pixels of
    the reference frame, NaN where unregistered; a dict with the kind of camera, the reference
    position, shots and counts; the overlay mask (th, tw) bool, empty unless the camera moves).
    """
    width = observations[0].mask.shape[1]
    overlay = static_overlay(observations)
    cameras, report = track(observations, [background_features(o, overlay) for o in observations], width)
    if report["camera"] == NOT_REGISTRABLE and overlay.any():
        # Little of the picture changes: a still camera, whose scene is all "overlay". Its
        # features, overlay and all, must then show that it does not move.
        all_features = [(o.points[:MATCHED_FEATURES], o.descriptors[:MATCHED_FEATURES]) for o in observations]
        still_cameras, still_report = track(observations, all_features, width)
        if still_report["camera"] == STILL:
            cameras, report = still_cameras, still_report
    if report["camera"] != MOVING:
        overlay = np.zeros_like(overlay)
    return cameras, report, overlay


def track(observations, features, width):
    """Register every frame's (points, descriptors) against the keyframes of its shot, then join
    the shots (`join_shots`). A frame too bare to match whose picture, the person aside, is the
    previous frame's keeps its camera. Returns (cameras, report) as `register` does."""
    shots, shot_of = [], []
    cameras = np.full((len(features), 3, 3), np.nan)
    for t, (points, descriptors) in enumerate(features):
        matched, best = None, 0
        # The previous frame's shot and the longest others (a return after a cut): the best fit wins.
        candidates = set(sorted(range(len(shots)), key=lambda s: len(shots[s].frames))[-3:] + shot_of[-1:])
        for s in candidates:
            previous = cameras[t - 1] if s == shot_of[-1] and np.isfinite(cameras[t - 1, 0, 0]) else None
            key_points, key_descriptors = shots[s].keys(previous, width)
            camera, inliers = fit_similarity(*correspondences(descriptors, points, key_descriptors, key_points))
            if camera is not None and inliers > best:
                matched, best = (s, camera), inliers
        if matched is None and t > 0 and same_picture(observations[t - 1], observations[t]):
            matched = shot_of[-1], cameras[t - 1]
        if matched is None:  # a new shot, with this frame as its reference
            shots.append(Shot([], [points], [descriptors], [np.eye(3)]))
            matched = len(shots) - 1, np.eye(3)
        s, camera = matched
        shot_of.append(s)
        cameras[t] = camera
        shots[s].frames.append(t)
        corners = np.float32([[0, 0], [width, 0], [0, width]])
        moved = np.abs(apply(np.linalg.inv(shots[s].key_cameras[-1]) @ camera, corners) - corners).max()
        if moved > KEYFRAME_MOTION * width:
            shots[s].key_points.append(apply(camera, points))
            shots[s].key_descriptors.append(descriptors)
            shots[s].key_cameras.append(camera)
    return join_shots(shots, cameras, width)


def same_picture(before, after):
    """True when two frames' thumbnails agree, where neither shows the person, within STILL_GREY."""
    size = before.thumbnail.shape[::-1]
    person = [cv2.resize(widened_person(o.mask), size, interpolation=cv2.INTER_AREA) > 0 for o in (before, after)]
    both = ~(person[0] | person[1])
    if both.mean() < 0.3:
        return False
    return np.abs(before.thumbnail.astype(np.int16) - after.thumbnail)[both].mean() < STILL_GREY


def join_shots(shots, cameras, width):
    """Bring every shot into the longest one's coordinates through all their keyframes, or mark
    its frames unregistered; then say what kind of camera the video has."""
    main = max(range(len(shots)), key=lambda s: len(shots[s].frames))
    joined = [main]
    main_points, main_descriptors = shots[main].all_keys()
    for s, shot in enumerate(shots):
        if s == main:
            continue
        points, descriptors = shot.all_keys()
        to_main, _ = fit_similarity(*correspondences(descriptors, points, main_descriptors, main_points))
        if to_main is None:
            cameras[shot.frames] = np.nan
        else:
            cameras[shot.frames] = to_main[None] @ cameras[shot.frames]
            joined.append(s)
    registered = np.isfinite(cameras[:, 0, 0])
    views = still_views(cameras, width)
    if registered.mean() < MIN_REGISTERED:
        kind = NOT_REGISTRABLE
    elif views is not None:
        kind = STILL
        for frames in views:  # one camera per view: the noise of each estimate is not motion
            cameras[frames] = np.median(cameras[frames], axis=0)
    else:
        kind = MOVING
    report = {"camera": kind, "registered": int(registered.sum()), "frames": len(cameras),
              "shots": len(joined), "views": len(views) if kind == STILL else None,
              "reference": int(shots[main].frames[0])}
    return cameras, report


def still_views(cameras, width):
    """The registered frames cut where the view jumps (a cut between two framings of the scene),
    as lists of positions, if the camera holds still between the cuts; else None."""
    registered = np.flatnonzero(np.isfinite(cameras[:, 0, 0]))
    if len(registered) == 0:
        return None
    views, first_cameras = [[registered[0]]], [cameras[registered[0]]]
    for t in registered[1:]:
        if view_shift(cameras[t], cameras[views[-1][-1]], width) > VIEW_JUMP * width:
            views.append([])
            first_cameras.append(cameras[t])
        if view_shift(cameras[t], first_cameras[-1], width) > STILL_TOLERANCE * width:
            return None
        views[-1].append(t)
    return views


def view_shift(camera, other, width):
    """How far apart two cameras place a frame: the largest move of its corners (a width x width
    square), in the cameras' target pixels."""
    corners = np.float32([[0, 0], [width, 0], [0, width], [width, width]])
    return np.abs(apply(camera, corners) - apply(other, corners)).max()


def zoom(cameras):
    """(N,) the scale of each camera (frame pixels to background pixels), NaN where unregistered."""
    return np.sqrt(np.abs(cameras[:, 0, 0] * cameras[:, 1, 1] - cameras[:, 0, 1] * cameras[:, 1, 0]))


# --- 3. the background mosaic -------------------------------------------------------------------
class MosaicBuilder:
    """The median of the frames' non-person pixels in the reference view, built frame by frame.

    `canvas_camera(camera)` turns a working-resolution camera (from `register`) into one that maps
    full-resolution frame pixels to mosaic pixels; each voting frame is then `warped` and `collect`ed.
    """

    def __init__(self, cameras, frame_size, crop_side, crop_size, overlay):
        self.frame_size = frame_size
        self.to_work = resizing(work_scale(frame_size))
        work_width, work_height = scaled_size(frame_size, work_scale(frame_size))
        # Mosaic pixels per frame pixel: enough for crops of crop_size, never more than the frame.
        self.scale = min(1.0, MOSAIC_OVERSAMPLE * crop_size / crop_side)
        self.overlay_work = cv2.resize(overlay.astype(np.uint8), (work_width, work_height),
                                       interpolation=cv2.INTER_NEAREST) > 0  # (h, w) bool
        # The canvas holds what the cameras see of the picture, burned-in bars left out.
        rows, cols = np.nonzero(~self.overlay_work)
        if len(rows) == 0:
            rows, cols = np.array([0, work_height - 1]), np.array([0, work_width - 1])
        picture = np.float32([[cols.min(), rows.min()], [cols.max() + 1, rows.min()],
                              [cols.max() + 1, rows.max() + 1], [cols.min(), rows.max() + 1]])
        registered = cameras[np.isfinite(cameras[:, 0, 0])]
        footprints = np.concatenate([apply(c, picture) for c in registered])  # reference working pixels
        # Reference working pixels -> mosaic pixels.
        to_mosaic_scale = resizing(self.scale) @ np.linalg.inv(self.to_work)
        footprints = apply(to_mosaic_scale, footprints)
        origin, extent = np.floor(footprints.min(axis=0)), np.ceil(footprints.max(axis=0))
        self.work_to_canvas = translation(*-origin) @ to_mosaic_scale
        self.size = int(extent[0] - origin[0]) + 1, int(extent[1] - origin[1]) + 1
        self.overlay = cv2.resize(overlay.astype(np.uint8), frame_size, interpolation=cv2.INTER_NEAREST) > 0
        self.samples, self.valid = [], []
        self.in_view = np.zeros(self.size[::-1], np.int32)  # (H, W): how many frames saw each pixel
        self.overlay_sum = np.zeros((frame_size[1], frame_size[0], 3), np.float32)
        self.overlay_count = 0

    def canvas_camera(self, work_camera):
        """Frame pixels -> mosaic pixels, for a camera from `register` (working pixels)."""
        return self.work_to_canvas @ work_camera @ self.to_work

    def warped(self, frame, person_mask, work_camera):
        """A training frame (full resolution BGR), its working-resolution person mask and its camera
        from `register` -> its layers in the canvas: (the frame (H, W, 3), where it shows background
        (H, W), where it shows the picture at all (H, W)). Touches nothing of the builder, so frames
        can be warped in parallel threads, then `collect`ed in time order."""
        to_canvas = self.canvas_camera(work_camera)
        if self.scale < 0.75:  # shrink first, so the warp does not alias
            frame_small = cv2.resize(frame, scaled_size(self.frame_size, self.scale), interpolation=cv2.INTER_AREA)
            to_canvas = to_canvas @ np.linalg.inv(resizing(self.scale))
        else:
            frame_small = frame
        picture = (~self.overlay_work).astype(np.uint8) * 255  # (h, w)
        usable = np.where(widened_person(person_mask) == 0, picture, 0)
        return (cv2.warpPerspective(frame_small, to_canvas, self.size, flags=cv2.INTER_LINEAR),
                cv2.warpPerspective(usable, self.work_to_canvas @ work_camera, self.size, flags=cv2.INTER_LINEAR) > 250,
                cv2.warpPerspective(picture, self.work_to_canvas @ work_camera, self.size, flags=cv2.INTER_NEAREST) > 0)

    def collect(self, warped, frame):
        """Keep a frame's `warped` layers (frames collected in time order)."""
        sample, valid, in_view = warped
        self.samples.append(sample)
        self.valid.append(valid)
        self.in_view += in_view
        if self.overlay.any() and self.overlay_count < 16:
            self.overlay_sum += frame
            self.overlay_count += 1

    def finish(self):
        """(background (H, W, 3) uint8, never_seen (H, W) bool, overlay image, overlay mask); also
        sets `residual`, the median over the voting frames of their mean absolute difference
        (0-255) from the background where they see it: how well the frames were registered."""
        samples = np.stack(self.samples)  # (K, H, W, 3) uint8
        valid = np.stack(self.valid)  # (K, H, W)
        # Where the person stands nearly all the time, the few frames that "see" the background
        # are mostly ones whose mask missed part of the person: such pixels count as never seen.
        valid &= (valid.sum(axis=0) >= np.maximum(MIN_VOTES, MIN_VOTE_SHARE * self.in_view))[None]
        # Exposure: each frame's per-channel gain against a first, coarse estimate, over what both see.
        coarse, coarse_valid = samples[:, ::4, ::4].astype(np.float32), valid[:, ::4, ::4]
        first = masked_median(coarse, coarse_valid)
        seen = np.isfinite(first[..., 0])
        for k in range(len(samples)):
            both = coarse_valid[k] & seen
            if both.sum() > 100:
                gain = np.median(first[both], axis=0) / np.maximum(np.median(coarse[k][both], axis=0), 1)
                levels = np.arange(256, dtype=np.float32)[:, None] * np.clip(gain, 0.5, 2.0).astype(np.float32)
                samples[k] = cv2.LUT(samples[k], np.clip(levels, 0, 255).astype(np.uint8)[None])  # (1, 256, 3) per channel
        background = masked_median(samples, valid)
        never_seen = ~np.isfinite(background[..., 0])
        background = np.nan_to_num(background).round().astype(np.uint8)
        coarse_background = background[::4, ::4].astype(np.float32)
        self.residual = float(np.median([np.abs(coarse[k][coarse_valid[k]] - coarse_background[coarse_valid[k]]).mean()
                                         for k in range(len(samples)) if coarse_valid[k].any()] or [np.nan]))
        background = fill(background, never_seen)
        overlay_image = np.zeros((self.frame_size[1], self.frame_size[0], 3), np.uint8)
        if self.overlay_count:
            overlay_image = (self.overlay_sum / self.overlay_count).round().astype(np.uint8)
            overlay_image[~self.overlay] = 0
        return background, never_seen, overlay_image, self.overlay


def masked_median(samples, valid):
    """Per-pixel median of (K, H, W, 3) samples (0..255) where valid (K, H, W); NaN where none is.

    Computed in bands of rows, one per core (NumPy's partition lets other threads run).
    """
    n_bands = max(1, min(os.cpu_count() or 1, samples.shape[1]))
    bounds = np.linspace(0, samples.shape[1], n_bands + 1).round().astype(int)
    bands = [slice(top, bottom) for top, bottom in zip(bounds[:-1], bounds[1:])]
    with ThreadPoolExecutor(n_bands) as pool:
        return np.concatenate(list(pool.map(lambda rows: band_median(samples[:, rows], valid[:, rows]), bands)))


def band_median(samples, valid):
    """masked_median of a band of rows. Half of each pixel's invalid samples are set below every
    value and half above, so the median of all K is the median of the valid ones: one partition
    instead of a sort."""
    odd = np.cumsum(~valid, axis=0, dtype=np.uint8) & 1  # (K, h, W): every other invalid one
    outside = (256 - 257 * odd.astype(np.int16))[..., None]  # -1 or 256
    values = np.where(valid[..., None], samples.astype(np.int16), outside)  # (K, h, W, 3)
    middle = len(samples) // 2
    median = np.partition(values, middle, axis=0)[middle].astype(np.float32)
    median[~valid.any(axis=0)] = np.nan
    return median


def fill(image, holes):
    """Inpaint the holes (H, W bool) of a uint8 image; large holes are filled at a quarter of the
    resolution, where inpainting is fast, and only their pixels are taken from it."""
    if not holes.any() or holes.all():
        return image
    small_size = max(1, image.shape[1] // 4), max(1, image.shape[0] // 4)
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    small_holes = cv2.resize(holes.astype(np.uint8), small_size, interpolation=cv2.INTER_NEAREST)
    small_holes = cv2.dilate(small_holes, np.ones((3, 3), np.uint8))
    filled = cv2.resize(cv2.inpaint(small, small_holes, 3, cv2.INPAINT_TELEA), image.shape[1::-1],
                        interpolation=cv2.INTER_LINEAR)
    filled = cv2.inpaint(np.where(holes[..., None], filled, image), (holes & ~cv2.erode(
        holes.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)).astype(np.uint8), 3, cv2.INPAINT_TELEA)
    return np.where(holes[..., None], filled, image)


# --- 4. the scene, as the generators use it -----------------------------------------------------
class Scene:
    """The background of a cached video, rendered for any camera as a crop or as a whole frame."""

    def __init__(self, cache_dir):
        cache_dir = Path(cache_dir)
        meta = json.loads((cache_dir / "meta.json").read_text())["scene"]
        self.kind = meta["camera"]
        self.frame_size = tuple(meta["frame_size"])
        self.background = cv2.imread(str(cache_dir / "background.png"))  # (H, W, 3) uint8 BGR
        self._pyramid = [self.background]  # the background and its halvings, made when first needed
        self.never_seen = cv2.imread(str(cache_dir / "background_unseen.png"), cv2.IMREAD_GRAYSCALE) > 0
        overlay = cv2.imread(str(cache_dir / "overlay.png"), cv2.IMREAD_UNCHANGED)  # (H, W, 4) BGRA
        self.overlay_image, self.overlay_mask = overlay[..., :3], overlay[..., 3] > 0
        self.cameras = np.load(cache_dir / "cameras.npy")  # (N, 3, 3), frame px -> background px
        self.reference = meta["reference_frame"]

    @property
    def registrable(self):
        return self.kind != NOT_REGISTRABLE

    def pyramid_level(self, level):
        """The background halved `level` times (cv2.pyrDown), each level made once."""
        while len(self._pyramid) <= level:
            self._pyramid.append(cv2.pyrDown(self._pyramid[-1]))
        return self._pyramid[level]

    def render(self, camera, box=None, size=None):
        """The background as `camera` (3x3, frame pixels to background pixels) sees it.

        box = (x0, y0, side) in frame pixels and size: the square crop resized to size x size;
        box None: the whole frame at its own size. Returns uint8 BGR.
        """
        width, height = self.frame_size
        if box is None:
            to_frame, out_size = np.eye(3), (width, height)
        else:
            to_frame, out_size = crop_matrix(box, size), (size, size)
        to_background = camera @ to_frame  # output pixels -> background pixels
        step = np.sqrt(abs(np.linalg.det(to_background[:2, :2])))  # background pixels per output pixel
        level = 0
        while step > 1.5 and min(self.pyramid_level(level).shape[:2]) > 16:  # coarser, so sampling does not alias
            level += 1
            to_background = resizing(0.5) @ to_background
            step /= 2
        source = self.pyramid_level(level)
        image = cv2.warpPerspective(source, to_background, out_size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                    borderMode=cv2.BORDER_REPLICATE)
        if self.overlay_mask.any():
            # The overlay is black where its mask is 0 (premultiplied), so colour and alpha can be
            # averaged alike: shrunk first where the crop is smaller than the frame's square.
            overlay, alpha = self.overlay_image.astype(np.float32), self.overlay_mask.astype(np.float32)
            shrink = size / box[2] if box is not None else 1.0
            if shrink < 1:
                overlay, alpha = (cv2.resize(layer, scaled_size(self.frame_size, shrink), interpolation=cv2.INTER_AREA)
                                  for layer in (overlay, alpha))
                to_frame = resizing(shrink) @ to_frame
            overlay, alpha = (cv2.warpAffine(layer, to_frame[:2], out_size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
                              for layer in (overlay, alpha))
            image = np.clip(overlay + (1 - alpha[..., None]) * image, 0, 255).round().astype(np.uint8)
        return image

    def render_frame(self, i, box=None, size=None):
        """The background of kept frame i (its own camera); None where it was not registered."""
        camera = self.cameras[i]
        return None if not np.isfinite(camera).all() else self.render(camera, box, size)

    def render_view(self, view, size):
        """The background of a View's crop, size x size uint8 BGR."""
        return self.render(view.camera, view.box, size)

    def camera_near(self, i):
        """The camera of kept frame i, or of the registered frame nearest to it in time (a few
        frames of a registrable video are not registered); None if no frame is."""
        registered = np.flatnonzero(np.isfinite(self.cameras).all(axis=(1, 2)))
        if len(registered) == 0:
            return None
        return self.cameras[registered[np.abs(registered - i).argmin()]]

    def typical_frame(self, frame_ids):
        """Of the given kept frames, the registered one whose camera is nearest the median view
        (zoom and position of the frame's centre): the fixed view a transfer is shown in. None if
        none of them is registered."""
        frame_ids = np.asarray(frame_ids)
        cameras = self.cameras[frame_ids]
        registered = np.isfinite(cameras).all(axis=(1, 2))
        if not registered.any():
            return None
        frame_ids, cameras = frame_ids[registered], cameras[registered]
        width, height = self.frame_size
        centres = apply_each(cameras, np.array([width / 2, height / 2]))  # (M, 2) background pixels
        features = np.column_stack([centres / width, np.log(zoom(cameras))])  # (M, 3)
        return int(frame_ids[np.linalg.norm(features - np.median(features, axis=0), axis=1).argmin()])


def apply_each(cameras, point):
    """(M, 3, 3) cameras, one (2,) point -> (M, 2): where each camera maps it."""
    mapped = cameras @ np.array([point[0], point[1], 1.0])  # (M, 3)
    return mapped[:, :2] / mapped[:, 2:]


@dataclass(frozen=True)
class View:
    """What a generated crop shows of the scene: the camera (3x3, frame pixels -> background
    pixels; None when the scene is not registrable) and the crop box (x0, y0, side) in that
    camera's frame pixels, where the crop's skeleton coordinates 0..1 are measured."""
    camera: object
    box: tuple


def composite(person, alpha, background):
    """alpha x person + (1 - alpha) x background: (N, S, S, 3) uint8, (N, S, S) float in [0, 1],
    (N, S, S, 3) uint8 -> (N, S, S, 3) uint8."""
    alpha = np.asarray(alpha, dtype=np.float32)[..., None]
    mixed = alpha * person.astype(np.float32) + (1 - alpha) * background.astype(np.float32)
    return np.clip(mixed, 0, 255).round().astype(np.uint8)
