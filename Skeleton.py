"""The skeleton: 33 MediaPipe Pose landmarks, their 13-joint (26-D) reduced form, and drawing.

Coordinates are normalised to the image they were found in (0..1, x right, y down); a skeleton
found in a full frame is moved into a person crop with `to_crop`. The generators see either
`reduced()` (a 26-D vector) or `draw()` on a black image (the skeleton image).

    python Skeleton.py IMAGE [--out skeleton.png]   # detect a pose in one image and draw it
"""
import argparse
import math
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

N_LANDMARKS = 33
LANDMARK_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)
# The 13 joints the generators use, in the course code's order.
REDUCED_LANDMARKS = (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
N_JOINTS = len(REDUCED_LANDMARKS)
REDUCED_DIM = 2 * N_JOINTS  # 26

# Positions inside the reduced form.
NOSE, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = range(7)
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = range(7, 13)

# Each reduced joint's counterpart in the mirror image (left and right swapped; the nose is itself).
MIRRORED_JOINTS = (NOSE, R_SHOULDER, L_SHOULDER, R_ELBOW, L_ELBOW, R_WRIST, L_WRIST,
                   R_HIP, L_HIP, R_KNEE, L_KNEE, R_ANKLE, L_ANKLE)

# Limbs drawn between reduced joints, each with its own BGR colour; the person's left side is in
# warm colours and the right side in cool ones, so a generator can tell left from right.
NECK = -1  # virtual joint: middle of the shoulders
LIMBS = (
    ((NOSE, NECK), (255, 255, 255)),
    ((L_SHOULDER, R_SHOULDER), (200, 200, 200)),
    ((L_SHOULDER, L_ELBOW), (0, 128, 255)),
    ((L_ELBOW, L_WRIST), (0, 255, 255)),
    ((R_SHOULDER, R_ELBOW), (255, 128, 0)),
    ((R_ELBOW, R_WRIST), (255, 255, 0)),
    ((L_SHOULDER, L_HIP), (0, 0, 200)),
    ((R_SHOULDER, R_HIP), (200, 0, 0)),
    ((L_HIP, R_HIP), (128, 128, 128)),
    ((L_HIP, L_KNEE), (0, 0, 255)),
    ((L_KNEE, L_ANKLE), (128, 0, 255)),
    ((R_HIP, R_KNEE), (0, 255, 0)),
    ((R_KNEE, R_ANKLE), (128, 255, 0)),
)
JOINT_COLOUR = (255, 255, 255)


class Skeleton:
    """One pose: `landmarks` is (33, 4) float32 of (x, y, z, visibility), x and y in 0..1."""

    def __init__(self, landmarks):
        landmarks = np.asarray(landmarks, dtype=np.float32)
        if landmarks.shape != (N_LANDMARKS, 4):
            raise ValueError(f"expected (33, 4) landmarks, got {landmarks.shape}")
        self.landmarks = landmarks

    # --- conversions -----------------------------------------------------------------------
    @classmethod
    def from_reduced(cls, vector):
        """A skeleton carrying only the 13 reduced joints (the others are NaN, visibility 0)."""
        joints = np.asarray(vector, dtype=np.float32).reshape(N_JOINTS, 2)
        landmarks = np.full((N_LANDMARKS, 4), np.nan, dtype=np.float32)
        landmarks[:, 3] = 0
        landmarks[list(REDUCED_LANDMARKS), :2] = joints
        landmarks[list(REDUCED_LANDMARKS), 2:] = (0, 1)
        return cls(landmarks)

    @classmethod
    def from_array(cls, array):
        return cls(array)

    def to_array(self):
        """(33, 4) float32, the form the cache stores."""
        return self.landmarks.copy()

    def reduced(self):
        """The 13 generator joints as a (26,) float32 vector: x0, y0, x1, y1, ..."""
        return self.landmarks[list(REDUCED_LANDMARKS), :2].reshape(-1).copy()

    def joints(self):
        """The 13 generator joints as (13, 2)."""
        return self.landmarks[list(REDUCED_LANDMARKS), :2].copy()

    def to_crop(self, box, frame_size):
        """Move from full-frame coordinates into the crop `box` = (x0, y0, side) in pixels.

        frame_size is (width, height) of the frame the landmarks were normalised to.
        """
        x0, y0, side = box
        width, height = frame_size
        landmarks = self.landmarks.copy()
        landmarks[:, 0] = (landmarks[:, 0] * width - x0) / side
        landmarks[:, 1] = (landmarks[:, 1] * height - y0) / side
        return Skeleton(landmarks)

    def transformed(self, scale, translation):
        """x' = scale * x + translation, for x and y (translation is (tx, ty))."""
        landmarks = self.landmarks.copy()
        landmarks[:, :2] = landmarks[:, :2] * scale + np.asarray(translation, dtype=np.float32)
        return Skeleton(landmarks)

    # --- comparing -------------------------------------------------------------------------
    def distance(self, other):
        """Mean Euclidean distance between the 13 joints of two skeletons (normalised units)."""
        return float(np.linalg.norm(self.joints() - other.joints(), axis=1).mean())

    # --- drawing ---------------------------------------------------------------------------
    def draw(self, image):
        """Draw the 13-joint skeleton onto `image` (BGR uint8, any size) in place; returns it.

        Line width and joint size follow the image size, so a drawing at 64 and at 256 pixels
        look alike; only the reduced joints are used, so every skeleton source draws the same way.
        """
        height, width = image.shape[:2]
        size = min(height, width)
        thickness = max(1, round(size / 64))
        radius = max(1, round(size / 80))
        joints = self.joints() * (width, height)
        neck = (joints[L_SHOULDER] + joints[R_SHOULDER]) / 2
        shift = 4  # sub-pixel precision for OpenCV drawing
        to_int = lambda p: (int(round(p[0] * 2**shift)), int(round(p[1] * 2**shift)))
        for (a, b), colour in LIMBS:
            pa = neck if a == NECK else joints[a]
            pb = neck if b == NECK else joints[b]
            if np.isfinite(pa).all() and np.isfinite(pb).all():
                cv2.line(image, to_int(pa), to_int(pb), colour, thickness, cv2.LINE_AA, shift)
        for joint in joints:
            if np.isfinite(joint).all():
                cv2.circle(image, to_int(joint), radius * 2**shift, JOINT_COLOUR, -1, cv2.LINE_AA, shift)
        return image

    def to_image(self, size):
        """The skeleton drawn on a black size x size image: the image generators' input."""
        return self.draw(np.zeros((size, size, 3), dtype=np.uint8))

    def __repr__(self):
        return f"Skeleton(nose={self.landmarks[0, :2].round(3).tolist()})"


@contextmanager
def native_stderr_hidden(hide=True):
    """Send what native code writes to file descriptor 2 to /dev/null while the block runs."""
    if not hide:
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class PoseDetector:
    """MediaPipe Pose (`model_complexity=1`, the model shipped in the wheel), created on first use.

    video=True tracks the person from frame to frame (for a sequence); video=False treats every
    image on its own (for unrelated images, such as generated frames). segmentation=True also
    computes MediaPipe's person mask (`detect_with_mask`).
    """

    def __init__(self, video=True, min_confidence=0.5, segmentation=False):
        self.video = video
        self.min_confidence = min_confidence
        self.segmentation = segmentation
        self._pose = None
        self._starting = True  # until MediaPipe has found a first person, all its models loaded

    def detect(self, image_bgr):
        """The skeleton found in a BGR image (coordinates normalised to it), or None."""
        return self.detect_with_mask(image_bgr)[0]

    def detect_with_mask(self, image_bgr):
        """(skeleton or None, person mask or None): the mask is float32 HxW in 0..1, computed only
        with segmentation=True and only where a person was found."""
        # MediaPipe's graph prints start-up lines that look like errors ("W0000 ...", "INFO:
        # Created TensorFlow Lite XNNPACK delegate") from C++ straight to file descriptor 2 while
        # it loads its models, the last of them with the first person found: hidden until then.
        with native_stderr_hidden(self._starting):
            if self._pose is None:
                os.environ.setdefault("GLOG_minloglevel", "2")  # the rest of MediaPipe's chatter
                import mediapipe as mp
                self._pose = mp.solutions.pose.Pose(
                    static_image_mode=not self.video, model_complexity=1, smooth_landmarks=self.video,
                    enable_segmentation=self.segmentation, smooth_segmentation=self.video,
                    min_detection_confidence=self.min_confidence,
                    min_tracking_confidence=self.min_confidence)
            result = self._pose.process(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            return None, None
        self._starting = False
        landmarks = np.array([(p.x, p.y, p.z, p.visibility) for p in result.pose_landmarks.landmark],
                             dtype=np.float32)
        return Skeleton(landmarks), result.segmentation_mask if self.segmentation else None

    def close(self):
        self._starting = True
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- sequences of skeletons: gaps, smoothing, normalisation ---------------------------------------
# A sequence is an (N, 33, 4) float32 array, one row of landmarks per video frame, NaN where no
# person was found. x and y must be in one unit (a square crop's side, or a frame's height for both)
# so that lengths, heights and scales mean the same across the frame.

DETECTED, INTERPOLATED, HELD = "detected", "interpolated", "held"  # what a filled frame's pose is
MAX_GAP_SECONDS = 0.3  # gaps up to this long are bridged by interpolation; longer ones hold a pose


def fill_gaps(sequence, fps, max_gap_seconds=MAX_GAP_SECONDS):
    """Give every frame a pose: (filled (N, 33, 4), status (N,) of DETECTED / INTERPOLATED / HELD).

    A gap of at most `max_gap_seconds` between two detections (a missed frame or two in fast
    motion) is bridged linearly. A longer one (a cut, a title card, the person out of view) holds
    the last pose, as interpolating across it would invent a motion; a gap at the start holds the
    first pose. Raises ValueError when no frame has a person.
    """
    sequence = np.array(sequence, dtype=np.float32)  # a copy: the caller's array stays as it was
    found = np.isfinite(sequence[:, list(REDUCED_LANDMARKS), :2]).all(axis=(1, 2))  # (N,)
    if not found.any():
        raise ValueError("no frame has a person")
    status = np.where(found, DETECTED, HELD).astype("<U12")
    good = np.flatnonzero(found)
    max_gap = int(round(max_gap_seconds * fps))
    sequence[:good[0]] = sequence[good[0]]
    for before, after in zip(good[:-1], good[1:]):
        gap = after - before - 1
        if 0 < gap <= max_gap:
            weights = (np.arange(1, gap + 1) / (gap + 1))[:, None, None]  # (gap, 1, 1)
            sequence[before + 1:after] = (1 - weights) * sequence[before] + weights * sequence[after]
            status[before + 1:after] = INTERPOLATED
        elif gap > max_gap:
            sequence[before + 1:after] = sequence[before]
    sequence[good[-1] + 1:] = sequence[good[-1]]
    return sequence, status


class OneEuroFilter:
    """The 1-euro filter (Casiez, Roussel and Vogel, CHI 2012) over an array of values.

    A first-order low-pass filter whose cutoff rises with the speed of each value: still joints
    are smoothed hard, so detector jitter goes, and fast ones lightly, so a punch does not lag.
    `min_cutoff` (Hz) is the cutoff at rest; `beta` (Hz per unit/s) how fast it grows with speed;
    `d_cutoff` (Hz) smooths the speed estimate itself.
    """

    def __init__(self, fps, min_cutoff=1.0, beta=1.0, d_cutoff=1.0):
        self.fps, self.min_cutoff, self.beta, self.d_cutoff = fps, min_cutoff, beta, d_cutoff
        self.reset()

    def reset(self):
        """Forget the past: the next value passes as it is."""
        self._value = self._speed = None

    def _alpha(self, cutoff):
        """Weight of the new value for a given cutoff (Hz) at this frame rate."""
        time_constant = 1 / (2 * np.pi * cutoff)
        return 1 / (1 + time_constant * self.fps)

    def __call__(self, value):
        value = np.asarray(value, dtype=np.float64)
        if self._value is None:
            self._value, self._speed = value, np.zeros_like(value)
            return value
        speed = (value - self._value) * self.fps
        self._speed = self._speed + self._alpha(self.d_cutoff) * (speed - self._speed)
        alpha = self._alpha(self.min_cutoff + self.beta * np.abs(self._speed))
        self._value = self._value + alpha * (value - self._value)
        return self._value


def centred_filter(values, kernel):
    """(N, ...) values filtered along the first axis by an odd-length, symmetric kernel centred on
    each frame (no lag), the ends padded with their own values, so a still track stays still."""
    values = np.asarray(values)
    reach = len(kernel) // 2
    padded = np.concatenate([np.repeat(values[:1], reach, axis=0), values, np.repeat(values[-1:], reach, axis=0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, len(kernel), axis=0)  # (N, ..., 2r + 1)
    return windows @ np.asarray(kernel, dtype=values.dtype)


def steady_sequence(sequence, sigma_frames):
    """A zero-lag Gaussian (standard deviation `sigma_frames`) along time over the x and y of an
    (N, 33, 4) sequence, the ends padded with their own poses; z and visibility pass, and so does a
    landmark missing (NaN) in any frame. For a whole sequence known in advance (generating a video),
    where the 1-euro filter, made for poses arriving one at a time, would lag."""
    sequence = np.array(sequence, dtype=np.float32)
    if sigma_frames <= 0 or len(sequence) < 2:
        return sequence
    reach = int(math.ceil(3 * sigma_frames))
    kernel = np.exp(-0.5 * (np.arange(-reach, reach + 1) / sigma_frames) ** 2)
    kernel /= kernel.sum()  # (2r + 1,)
    xy = sequence[:, :, :2]  # (N, 33, 2)
    steadied = centred_filter(xy, kernel)  # (N, 33, 2)
    complete = np.isfinite(xy).all(axis=0)  # (33, 2)
    sequence[:, :, :2] = np.where(complete, steadied, xy)
    return sequence


ONE_EURO_MIN_CUTOFF = 1.0  # Hz
ONE_EURO_BETA = 10.0  # Hz per (body height / s)


def smooth_sequence(sequence, fps, min_cutoff=ONE_EURO_MIN_CUTOFF, beta=ONE_EURO_BETA, unit=1.0, held=None):
    """The 1-euro filter along time over the x and y of an (N, 33, 4) sequence; z and visibility pass.

    `unit` is the length that speeds are measured in for `beta` (give the person's height, so one
    setting suits a person near the camera and one far from it). Frames marked in `held` (N,) keep
    the previous output, so a held pose stays still, and the filter starts afresh after them, so it
    does not glide from the held pose to wherever the person comes back.
    """
    sequence = np.array(sequence, dtype=np.float32)
    one_euro = OneEuroFilter(fps, min_cutoff, beta)
    for t in range(len(sequence)):
        if held is not None and held[t] and t > 0:
            sequence[t, :, :2] = sequence[t - 1, :, :2]
            one_euro.reset()
        else:
            sequence[t, :, :2] = one_euro(sequence[t, :, :2] / unit) * unit
    return sequence


def floor_ankle_y(sequence):
    """(N,) y of the lower ankle of each pose: the foot on the floor, whose height gives the distance."""
    return np.max(sequence[:, [27, 28], 1], axis=1)


def body_heights(sequence):
    """(N,) nose-to-floor-ankle height of each pose (upright poses give the largest)."""
    return floor_ankle_y(sequence) - sequence[:, 0, 1]


def hip_centre_and_torso(joints):
    """(..., 13, 2) reduced joints -> hip centres (..., 2) and torso lengths, shoulder centre to hip
    centre (...). The torso is a body scale that barely changes with the pose (a stance, a crouch,
    raised arms), unlike the height. Plain indexing and arithmetic, so numpy arrays and torch tensors
    alike go through it, and a single query of GenNearest spends less time here than in its tree."""
    hip_centre = (joints[..., L_HIP, :] + joints[..., R_HIP, :]) / 2
    shoulder_centre = (joints[..., L_SHOULDER, :] + joints[..., R_SHOULDER, :]) / 2
    return hip_centre, ((shoulder_centre - hip_centre) ** 2).sum(-1) ** 0.5


def mirror_joints(joints):
    """(..., 13, 2) reduced joints in 0..1 of a crop -> the joints of the crop flipped left to right:
    x becomes 1 - x and each joint trades places with its counterpart (a left wrist shown on the right of
    the flipped image is a right wrist there)."""
    mirrored = np.array(joints, dtype=np.float64)[..., list(MIRRORED_JOINTS), :]
    mirrored[..., 0] = 1 - mirrored[..., 0]
    return mirrored


def torso_lengths(sequence):
    """(N,) torso length (see hip_centre_and_torso) of each pose of an (N, 33, 4) landmark sequence."""
    return hip_centre_and_torso(sequence[:, list(REDUCED_LANDMARKS), :2])[1]


FAR_NEAR_PERCENTILES = (5, 95)  # robust 'farthest' (smallest ankle y) and 'nearest' ankle lines
UPRIGHT_PERCENTILE = 90  # the upright height-to-torso ratio is a high percentile of the poses' ratios
MIN_DEPTH_RANGE = 0.1  # far-to-near ankle ranges under this x the height count as one distance
MIN_DEPTH_GROWTH = 1.05  # ... and so do ranges where the torso at the near line is not this x larger


@dataclass(frozen=True)
class BodyRange:
    """Where one video's person stands (ankle lines) and how tall they look there.

    Everybody Dance Now takes the tallest pose near each ankle line as the height there, which
    assumes the person stands upright at both distances; a karate stance held at one of them breaks
    that. Here the size at each distance is the median torso length there (a stance or a crouch
    barely changes it), and the upright height is that times the video's upright height-to-torso ratio.
    """
    far_ankle: float  # y of the ankle line farthest from the camera
    near_ankle: float  # ... and nearest to it
    ankle: float  # median ankle y
    far_torso: float  # median torso length at the far line
    near_torso: float  # ... and at the near line
    torso: float  # median torso length over the video
    upright_ratio: float  # upright nose-to-ankle height in torso lengths
    centre_x: float  # median x of the hip centre
    has_depth: bool  # whether the person really moves towards or away from the camera

    @classmethod
    def of(cls, sequence):
        sequence = np.asarray(sequence, dtype=np.float64)
        ankles, heights = floor_ankle_y(sequence), body_heights(sequence)
        hip_centres, torsos = hip_centre_and_torso(sequence[:, list(REDUCED_LANDMARKS), :2])  # (N, 2), (N,)
        keep = np.isfinite(ankles) & np.isfinite(heights) & (torsos > 0)
        if not keep.any():
            raise ValueError("no pose with a nose, shoulders, hips and ankles to measure the body from")
        ankles, heights, torsos = ankles[keep], heights[keep], torsos[keep]
        far, near = np.percentile(ankles, FAR_NEAR_PERCENTILES)
        torso = float(np.median(torsos))
        upright_ratio = float(np.percentile(heights / torsos, UPRIGHT_PERCENTILE))
        # The person moves in depth if the ankle line moves and the body grows with it; an ankle
        # range without growth comes from the poses (a crouch, a kick), not from the distance.
        quarter = (near - far) / 4  # the poses in the quarter of the ankle range at each end
        far_torso = float(np.median(torsos[ankles <= far + quarter]))
        near_torso = float(np.median(torsos[ankles >= near - quarter]))
        has_depth = near - far > MIN_DEPTH_RANGE * upright_ratio * torso and near_torso > MIN_DEPTH_GROWTH * far_torso
        if not has_depth:
            far_torso = near_torso = torso
        hips_x = hip_centres[keep, 0]
        return cls(float(far), float(near), float(np.median(ankles)), far_torso, near_torso, torso,
                   upright_ratio, float(np.median(hips_x)), bool(has_depth))

    @property
    def height(self):
        """Upright height at the median distance."""
        return self.upright_ratio * self.torso

    def height_at(self, ankle_y):
        """Upright height of the person with the ankles at `ankle_y`, between the far and near lines."""
        if not self.has_depth:
            return self.height
        where = np.clip((ankle_y - self.far_ankle) / (self.near_ankle - self.far_ankle), 0, 1)
        return self.upright_ratio * (self.far_torso + where * (self.near_torso - self.far_torso))


@dataclass(frozen=True)
class PoseNormalizer:
    """Global pose normalisation (Everybody Dance Now, Chan et al. 2019): source poses -> target's frame.

    For each pose, with a = its floor ankle y (source units):
        scale(a) = the target/source height ratio at the far ankle line, moving to the ratio at the
                   near line as a goes from the source's far line to its near line (clamped),
        ankle(a) = target_far + ankle_slope * (a - source_far): the source's ankle line mapped onto
                   the target's,
        x' = scale(a) * (x - source_x) + target_x,   y' = scale(a) * (y - a) + ankle(a).
    """
    source_far: float
    source_near: float
    scale_far: float
    scale_near: float
    target_far: float
    ankle_slope: float
    source_x: float
    target_x: float

    @classmethod
    def fit(cls, source, target):
        """From a source sequence and a target one, each (N, 33, 4) in its own units.

        A source that moves in depth gets Everybody Dance Now's interpolation between its far and
        near ankle lines. A source that keeps one distance (most dance clips) is mapped with one
        scale, so that its jumps and crouches keep their size: its median ankle line goes to the
        target's, its height to the target's height there.
        """
        src, tgt = BodyRange.of(source), BodyRange.of(target)
        if src.has_depth:
            target_far, target_near = (tgt.far_ankle, tgt.near_ankle) if tgt.has_depth else (tgt.ankle, tgt.ankle)
            return cls(src.far_ankle, src.near_ankle, tgt.height_at(target_far) / src.height_at(src.far_ankle),
                       tgt.height_at(target_near) / src.height_at(src.near_ankle), target_far,
                       (target_near - target_far) / (src.near_ankle - src.far_ankle), src.centre_x, tgt.centre_x)
        scale = tgt.height_at(tgt.ankle) / src.height
        return cls(src.ankle, src.ankle, scale, scale, tgt.ankle, scale, src.centre_x, tgt.centre_x)

    @classmethod
    def fit_box(cls, source, margin=1.15):
        """No normalisation: the source person's median bounding box, fitted into the unit square
        with `margin` x its largest side around it (how VideoSkeleton crops a target)."""
        source = np.asarray(source, dtype=np.float64)
        lows, highs = np.nanmin(source[:, :, :2], axis=1), np.nanmax(source[:, :, :2], axis=1)  # (N, 2) each
        low, high = np.nanmedian(lows, axis=0), np.nanmedian(highs, axis=0)
        scale = 1 / (margin * max(high - low))
        centre = (low + high) / 2
        return cls(centre[1], centre[1], scale, scale, 0.5, scale, centre[0], 0.5)

    def scale(self, ankle_y):
        """The scale for poses whose floor ankle is at `ankle_y` (scalar or array)."""
        if self.source_near <= self.source_far:
            return np.full_like(np.asarray(ankle_y, dtype=np.float64), self.scale_far)
        where = np.clip((ankle_y - self.source_far) / (self.source_near - self.source_far), 0, 1)
        return self.scale_far + where * (self.scale_near - self.scale_far)

    def apply(self, sequence):
        """(N, 33, 4) or (33, 4) source landmarks -> the same in the target's units."""
        sequence = np.array(sequence, dtype=np.float32)
        poses = sequence.reshape(-1, N_LANDMARKS, 4)  # a view: (N, 33, 4)
        ankles = floor_ankle_y(poses)[:, None]  # (N, 1)
        scales = self.scale(ankles)  # (N, 1)
        poses[:, :, 0] = scales * (poses[:, :, 0] - self.source_x) + self.target_x
        poses[:, :, 1] = scales * (poses[:, :, 1] - ankles) + self.target_far + self.ankle_slope * (ankles - self.source_far)
        return sequence

    def source_squares(self, sequence, squares):
        """The squares of the source frames that `apply` maps onto given squares of the target's.

        sequence (N, 33, 4) source landmarks, squares (N, 3) x0, y0, side in the target's units ->
        (N, 3) x0, y0, side in the source's units. Pose t's mapping is a scale and a shift, so the
        source square t shows the source person exactly as the target square shows the mapped pose:
        where a transfer's generated crop puts the person, the same crop of the source video puts
        the real performer."""
        poses = np.asarray(sequence, dtype=np.float64).reshape(-1, N_LANDMARKS, 4)
        squares = np.asarray(squares, dtype=np.float64).reshape(-1, 3)
        ankles = floor_ankle_y(poses)  # (N,)
        scales = self.scale(ankles)  # (N,)
        x0 = (squares[:, 0] - self.target_x) / scales + self.source_x
        y0 = (squares[:, 1] - self.target_far - self.ankle_slope * (ankles - self.source_far)) / scales + ankles
        return np.column_stack([x0, y0, squares[:, 2] / scales])


def main(argv=None):
    from paths import OUT_ROOT, shown_path
    parser = argparse.ArgumentParser(allow_abbrev=False,
                                     description="Detect the pose in one image and draw its 13-joint skeleton.")
    parser.add_argument("image", help="an image file (jpg, png, ...)")
    parser.add_argument("--out", help="where to write the drawing (default out/skeleton.png)")
    args = parser.parse_args(argv)
    out = args.out or shown_path(OUT_ROOT / "skeleton.png")
    image = cv2.imread(args.image)
    if image is None:
        sys.exit(f"error: cannot read image {args.image}")
    with PoseDetector(video=False) as detector:
        skeleton = detector.detect(image)
    if skeleton is None:
        sys.exit(f"error: no person found in {args.image}")
    from pathlib import Path
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(out, skeleton.draw(image.copy()))
    print(f"reduced skeleton (26-D): {np.round(skeleton.reduced(), 3).tolist()}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
