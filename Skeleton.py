"""The skeleton: 33 MediaPipe Pose landmarks, their 13-joint (26-D) reduced form, and drawing.

Coordinates are normalised to the image they were found in (0..1, x right, y down); a skeleton
found in a full frame is moved into a person crop with `to_crop`. The generators see either
`reduced()` (a 26-D vector) or `draw()` on a black image (the skeleton image).

    python Skeleton.py IMAGE [--out skeleton.png]   # detect a pose in one image and draw it
"""
import argparse
import os
import sys

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

    def bounding_box(self):
        """(x_min, y_min, x_max, y_max) of the landmarks that have coordinates."""
        xy = self.landmarks[:, :2]
        xy = xy[np.isfinite(xy).all(axis=1)]
        return (*xy.min(axis=0), *xy.max(axis=0))

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


def skeletons_to_array(skeletons):
    """A list of Skeleton -> (N, 33, 4) float32."""
    return np.stack([s.landmarks for s in skeletons]).astype(np.float32)


class PoseDetector:
    """MediaPipe Pose (`model_complexity=1`, the model shipped in the wheel), created on first use.

    video=True tracks the person from frame to frame (for a sequence); video=False treats every
    image on its own (for unrelated images, such as generated frames).
    """

    def __init__(self, video=True, min_confidence=0.5):
        self.video = video
        self.min_confidence = min_confidence
        self._pose = None

    def detect(self, image_bgr):
        """The skeleton found in a BGR image (coordinates normalised to it), or None."""
        if self._pose is None:
            os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's start-up chatter
            import mediapipe as mp
            self._pose = mp.solutions.pose.Pose(
                static_image_mode=not self.video, model_complexity=1, smooth_landmarks=self.video,
                min_detection_confidence=self.min_confidence,
                min_tracking_confidence=self.min_confidence)
        result = self._pose.process(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            return None
        landmarks = np.array([(p.x, p.y, p.z, p.visibility) for p in result.pose_landmarks.landmark],
                             dtype=np.float32)
        return Skeleton(landmarks)

    def close(self):
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main():
    parser = argparse.ArgumentParser(description="Detect the pose in one image and draw its 13-joint skeleton.")
    parser.add_argument("image", help="an image file (jpg, png, ...)")
    parser.add_argument("--out", default="out/skeleton.png", help="where to write the drawing")
    args = parser.parse_args()
    image = cv2.imread(args.image)
    if image is None:
        sys.exit(f"error: cannot read image {args.image}")
    with PoseDetector(video=False) as detector:
        skeleton = detector.detect(image)
    if skeleton is None:
        sys.exit(f"error: no person found in {args.image}")
    from pathlib import Path
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, skeleton.draw(image.copy()))
    print(f"reduced skeleton (26-D): {np.round(skeleton.reduced(), 3).tolist()}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
