"""Procedural dancers: the project's built-in target and source videos, with ground-truth joints.

A front-facing mannequin (shaded limbs, clothes, a face, hair, hands, shoes) is drawn with OpenCV
from a 2D skeleton whose joint angles follow a seeded choreography of dance moves. Every video
comes with its ground truth next to it: <video>.joints.npy, (N, 33, 4) float32 MediaPipe landmarks
(x, y normalised to the frame as MediaPipe does, z = 0, visibility = 1), <video>.camera.npy,
(N, 3, 3) float64 homographies from frame pixels to room pixels, and <video>.params.json, the
appearance and scene it was rendered from.

The camera is still (the cameras are identities), or pans and zooms over a room wider than the frame
(for testing camera registration and background mosaics against the truth; see room_image).

    python SyntheticDancer.py data/synthetic/target.mp4 --preset target
    python SyntheticDancer.py out/check.mp4 --preset source --frames 90 --show-joints
    python SyntheticDancer.py data/synthetic/target-moving.mp4 --preset target-moving
    python SyntheticDancer.py out/pan.mp4 --preset source --camera pan-zoom --frames 120
"""
import argparse
import json
from dataclasses import asdict, astuple, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, NamedTuple

import cv2
import numpy as np

import video_io
from paths import SYNTHETIC_ROOT, shown_path
from Skeleton import LANDMARK_NAMES, N_LANDMARKS, Skeleton

RENDERER_VERSION = 1  # bump when a change alters the pixels or joints, so cached videos re-render

# Fixed body measures, as fractions of the stature.
ANKLE_HEIGHT = 0.08  # floor to ankle joint, in shoes
HEAD_WIDTH = 0.095
STANCE = 0.12  # distance between the ankles when standing at rest
LIGHT = np.array([-0.45, -0.9])  # direction the light comes from (upper left), for the shading

# The pan-zoom camera films a room wider than the frame. Room pixels are frame pixels at the camera's
# home view: zoom 1, looking at the frame-sized middle of the room.
CAMERAS = ("still", "pan-zoom")
ROOM_SIZE = (1.6, 1.3)  # the room's width and height, in frame widths and heights
ZOOM_RANGE = 1.25  # the widest view's size over the narrowest's
PAN = (0.21, 0.08)  # farthest the view's centre goes from the room's centre, in frame widths, heights
CAMERA_PERIOD = 8.0  # seconds for the camera to pan right, back, left and back


@dataclass(frozen=True)
class Appearance:
    """What the person looks like. Colours are BGR; lengths are fractions of the stature."""
    skin: tuple = (150, 180, 225)
    hair: tuple = (30, 45, 70)
    shirt: tuple = (40, 40, 190)
    trousers: tuple = (120, 70, 40)
    shoes: tuple = (225, 225, 225)
    iris: tuple = (60, 50, 40)
    lips: tuple = (90, 90, 180)
    hair_style: str = "short"  # "short" or "long" (down to the shoulders)
    sleeves: str = "short"  # "short" or "long"
    height: float = 0.7  # stature as a fraction of the frame height, at camera_scale 1
    shoulder_width: float = 0.23  # between the shoulder joints
    hip_width: float = 0.125  # between the hip joints
    torso: float = 0.30  # hip joints to shoulder joints
    head: float = 0.13  # chin to crown
    upper_arm: float = 0.18
    forearm: float = 0.152
    thigh: float = 0.228
    shin: float = 0.218
    girth: float = 1.0  # thickness of limbs and torso

    @property
    def neck(self):
        """Shoulder line to chin: whatever the other lengths leave of the stature."""
        return 1 - ANKLE_HEIGHT - self.shin - self.thigh - self.torso - self.head

    @classmethod
    def random(cls, seed):
        """A plausible person drawn at random: clothes, skin and hair colours, proportions."""
        rng = np.random.default_rng(seed)
        pick = lambda palette: tuple(int(c) for c in palette[rng.integers(len(palette))])
        skins = ((190, 215, 245), (150, 180, 225), (110, 145, 195), (70, 105, 155), (50, 75, 115))
        hairs = ((20, 20, 25), (30, 45, 70), (50, 90, 140), (90, 150, 200), (150, 150, 155))
        shirts = ((40, 40, 190), (150, 160, 40), (50, 170, 230), (140, 60, 60), (60, 140, 60),
                  (150, 70, 150), (235, 235, 235), (40, 110, 240))
        trousers = ((120, 70, 40), (40, 35, 35), (90, 110, 120), (60, 90, 110), (150, 140, 130))
        shoes = ((225, 225, 225), (30, 30, 30), (40, 40, 170), (40, 70, 110))
        scale = lambda spread: float(rng.uniform(1 - spread, 1 + spread))
        return cls(skin=pick(skins), hair=pick(hairs), shirt=pick(shirts), trousers=pick(trousers),
                   shoes=pick(shoes), hair_style=("short", "long")[rng.integers(2)],
                   sleeves=("short", "long")[rng.integers(2)], height=0.62 + 0.12 * float(rng.random()),
                   shoulder_width=0.23 * scale(0.08), hip_width=0.125 * scale(0.08),
                   upper_arm=0.18 * scale(0.05), forearm=0.152 * scale(0.05),
                   thigh=0.228 * scale(0.04), shin=0.218 * scale(0.04), girth=scale(0.12))


@dataclass(frozen=True)
class SceneConfig:
    """The room, the camera and the choreography. Positions are fractions of the frame (with the
    pan-zoom camera: of its home view, the frame-sized middle of the room)."""
    width: int = 512
    height: int = 384
    fps: float = 30.0
    n_frames: int = 300
    wall_top: tuple = (200, 215, 230)  # BGR, the wall is a vertical gradient
    wall_bottom: tuple = (165, 185, 205)
    floor_far: tuple = (70, 100, 140)
    floor_near: tuple = (95, 130, 175)
    horizon: float = 0.62  # where the wall meets the floor
    feet_y: float = 0.94  # where the soles stand
    person_x: float = 0.5  # the pelvis's home position
    camera_scale: float = 1.0  # zoom: the stature in the frame is appearance.height * camera_scale
    camera: str = "still"  # "still", or "pan-zoom": pans and zooms over a wider room (camera_at)
    motion_seed: int = 0
    tempo: float = 1.0  # > 1 dances faster
    moves: tuple = ()  # names from MOVES to choose from; empty: all of them

    def __post_init__(self):
        if self.width % 2 or self.height % 2:
            raise ValueError(f"width and height must be even for H.264, got {self.width}x{self.height}")
        unknown = set(self.moves) - set(MOVES)
        if unknown:
            raise ValueError(f"unknown moves {sorted(unknown)}; known: {sorted(MOVES)}")
        if self.camera not in CAMERAS:
            raise ValueError(f"unknown camera {self.camera!r}; known: {', '.join(CAMERAS)}")


# --- motion -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pose:
    """One instant of the dance: angles in radians, placements in statures (x to image right)."""
    x: float = 0.0  # pelvis shift from its home position
    squat: float = 0.0  # pelvis drop
    lean: float = 0.0  # torso roll about the pelvis, > 0 tips the head to image right
    turn: float = 0.0  # torso yaw: narrows the shoulders and turns the face
    head_tilt: float = 0.0  # head roll relative to the torso
    left_shoulder: float = 0.0  # 0 hanging, pi/2 out sideways, pi straight up
    left_elbow: float = 0.0  # forearm relative to upper arm: > 0 folds up/out, < 0 towards the body
    right_shoulder: float = 0.0
    right_elbow: float = 0.0
    left_foot_x: float = 0.0  # shift of the foot from its resting place
    left_foot_lift: float = 0.0
    right_foot_x: float = 0.0
    right_foot_lift: float = 0.0

    def __add__(self, other):
        return Pose(*(a + b for a, b in zip(astuple(self), astuple(other))))

    def mirrored(self):
        """The same move danced to the other side."""
        return Pose(-self.x, self.squat, -self.lean, -self.turn, -self.head_tilt,
                    self.right_shoulder, self.right_elbow, self.left_shoulder, self.left_elbow,
                    -self.right_foot_x, self.right_foot_lift, -self.left_foot_x, self.left_foot_lift)


REST = Pose(left_shoulder=0.12, left_elbow=-0.15, right_shoulder=0.12, right_elbow=-0.15)
SHOULDER_RANGE = (-0.3, 2.8)
ELBOW_RANGE = (-2.2, 2.0)


def _cycle(u, cycles):
    """0 -> 1 -> 0, `cycles` times over u in [0, 1], with zero speed at both ends."""
    return (1 - np.cos(2 * np.pi * cycles * u)) / 2


def _fade(u, edge=0.15):
    """1 in the middle, easing to 0 at both ends of u in [0, 1]."""
    ramp = lambda v: np.clip(v / edge, 0, 1) ** 2 * (3 - 2 * np.clip(v / edge, 0, 1))
    return ramp(u) * ramp(1 - u)


def _smoothstep(u, start, end):
    v = np.clip((u - start) / (end - start), 0, 1)
    return v * v * (3 - 2 * v)


def _footwork(u, steps, lift):
    """Feet placements for a list of steps (foot, start, end, dx): the foot lifts while it moves.

    The pelvis stays between the feet, so the weight follows the steps.
    """
    moved = {"left": 0.0, "right": 0.0}
    lifted = {"left": 0.0, "right": 0.0}
    for foot, start, end, dx in steps:
        moved[foot] += dx * _smoothstep(u, start, end)
        if start < u < end:
            lifted[foot] += lift * np.sin(np.pi * (u - start) / (end - start))
    return dict(x=(moved["left"] + moved["right"]) / 2, left_foot_x=moved["left"],
                left_foot_lift=lifted["left"], right_foot_x=moved["right"],
                right_foot_lift=lifted["right"])


def _step_pairs(directions, step):
    """Side steps: for each direction (+1 image right, -1 left) the lead foot steps, the other closes."""
    slot = 1 / (2 * len(directions))
    steps = []
    for k, direction in enumerate(directions):
        lead, follow = ("left", "right") if direction > 0 else ("right", "left")
        steps += [(lead, 2 * k * slot, (2 * k + 0.75) * slot, direction * step),
                  (follow, (2 * k + 1) * slot, (2 * k + 1.75) * slot, direction * step)]
    return steps


# Each move maps (phase u in [0, 1], cycles, amplitude) to a Pose offset that is zero at both ends.
def raise_arms(u, cycles, amplitude):
    k = _cycle(u, cycles)
    return Pose(left_shoulder=2.5 * amplitude * k, right_shoulder=2.5 * amplitude * k,
                left_elbow=0.3 * k, right_elbow=0.3 * k)


def arm_sweep(u, cycles, amplitude):
    envelope, swing = np.sin(np.pi * u) ** 2, np.sin(2 * np.pi * cycles * u)
    return Pose(left_shoulder=2.3 * amplitude * envelope * (0.5 + 0.5 * swing), left_elbow=0.2 * envelope,
                right_shoulder=2.3 * amplitude * envelope * (0.5 - 0.5 * swing), right_elbow=0.2 * envelope)


def wave(u, cycles, amplitude):
    envelope = _fade(u, 0.25)
    return Pose(left_shoulder=2.2 * amplitude * envelope,
                left_elbow=envelope * (0.6 + 0.45 * np.sin(2 * np.pi * cycles * u)))


def goalpost(u, cycles, amplitude):
    envelope = _fade(u, 0.25)
    pump = _cycle(u, cycles)
    return Pose(left_shoulder=1.45 * envelope, right_shoulder=1.45 * envelope,
                left_elbow=envelope * amplitude * (0.5 + 0.9 * pump),
                right_elbow=envelope * amplitude * (0.5 + 0.9 * pump))


def seesaw(u, cycles, amplitude):
    envelope = _fade(u, 0.25)
    tilt = 0.6 * amplitude * np.sin(2 * np.pi * cycles * u)
    return Pose(left_shoulder=envelope * (1.45 + tilt), right_shoulder=envelope * (1.45 - tilt),
                lean=-0.08 * envelope * tilt)


def clap(u, cycles, amplitude):
    envelope = _fade(u, 0.25)
    together = _cycle(u, cycles)
    shoulder, elbow = envelope * (0.35 + 0.25 * amplitude), -envelope * (1.3 + 0.6 * together)
    return Pose(left_shoulder=shoulder, right_shoulder=shoulder, left_elbow=elbow, right_elbow=elbow)


def hands_on_hips(u, cycles, amplitude):
    envelope = _fade(u, 0.3)
    return Pose(left_shoulder=0.5 * envelope, right_shoulder=0.5 * envelope,
                left_elbow=-1.75 * envelope, right_elbow=-1.75 * envelope,
                head_tilt=0.12 * amplitude * envelope * np.sin(2 * np.pi * cycles * u))


def step_touch(u, cycles, amplitude):
    return Pose(**_footwork(u, _step_pairs([1, -1] * cycles, 0.1 * amplitude), lift=0.025))


def side_walk(u, cycles, amplitude):
    return Pose(**_footwork(u, _step_pairs([1] * cycles + [-1] * cycles, 0.1 * amplitude), lift=0.03))


def plie(u, cycles, amplitude):
    width = 0.06 * amplitude
    feet = _footwork(u, [("left", 0.0, 0.08, width), ("right", 0.08, 0.16, -width),
                         ("right", 0.84, 0.92, width), ("left", 0.92, 1.0, -width)], lift=0.02)
    squat = 0.09 * amplitude * _cycle(np.clip((u - 0.18) / 0.64, 0, 1), cycles)
    return Pose(squat=squat, **feet)


def sway(u, cycles, amplitude):
    tilt = 0.2 * amplitude * _fade(u) * np.sin(2 * np.pi * cycles * u)
    return Pose(lean=tilt, x=-0.12 * tilt, head_tilt=-0.5 * tilt)


def twist(u, cycles, amplitude):
    return Pose(turn=0.45 * amplitude * _fade(u) * np.sin(2 * np.pi * cycles * u),
                squat=0.015 * _cycle(u, 2 * cycles))


def bounce(u, cycles, amplitude):
    rock = _fade(u) * np.sin(np.pi * cycles * u)  # one rock per two bounces
    return Pose(squat=0.035 * amplitude * _cycle(u, cycles), head_tilt=0.08 * rock, x=0.01 * rock)


def knee_lift(u, cycles, amplitude):
    height = 0.09 * amplitude
    phase = (u * cycles) % 1
    left = height * np.sin(np.pi * np.clip((phase - 0.05) / 0.4, 0, 1))
    right = height * np.sin(np.pi * np.clip((phase - 0.55) / 0.4, 0, 1))
    return Pose(left_foot_lift=left, right_foot_lift=right, lean=-0.6 * (left - right))


class Move(NamedTuple):
    function: Callable  # (u, cycles, amplitude) -> Pose offset
    track: str  # moves on different tracks ("arms", "body") are danced at the same time
    period: float  # seconds per cycle at tempo 1
    travel: float = 0.0  # statures travelled per cycle at amplitude 1


MOVES = {
    "raise_arms": Move(raise_arms, "arms", 2.4),
    "arm_sweep": Move(arm_sweep, "arms", 2.2),
    "wave": Move(wave, "arms", 1.0),
    "goalpost": Move(goalpost, "arms", 1.4),
    "seesaw": Move(seesaw, "arms", 2.4),
    "clap": Move(clap, "arms", 0.9),
    "hands_on_hips": Move(hands_on_hips, "arms", 1.6),
    "step_touch": Move(step_touch, "body", 2.6),
    "side_walk": Move(side_walk, "body", 1.3, travel=0.1),
    "plie": Move(plie, "body", 1.8),
    "sway": Move(sway, "body", 2.2),
    "twist": Move(twist, "body", 1.8),
    "bounce": Move(bounce, "body", 0.8),
    "knee_lift": Move(knee_lift, "body", 1.8),
}


class Segment(NamedTuple):
    """One move in the choreography."""
    name: str
    start: float  # seconds
    duration: float
    cycles: int
    amplitude: float
    side: int  # +1 as written, -1 mirrored


def choreograph(scene, max_travel):
    """Two tracks (arms, body) of randomly chosen moves, so their combinations keep changing.

    Arm moves overlap a little (their offsets add up, so one melts into the next); body moves
    do not, so that every step starts and ends with the feet at rest.
    """
    rng = np.random.default_rng(scene.motion_seed)
    duration = scene.n_frames / scene.fps
    names = scene.moves or tuple(MOVES)
    segments = []
    for track in ("arms", "body"):
        choices = [name for name in names if MOVES[name].track == track]
        time, previous = rng.uniform(0.3, 1.0), None
        while choices and time < duration:
            name = rng.choice([n for n in choices if n != previous] or choices)
            move, amplitude = MOVES[name], float(rng.uniform(0.65, 1.0))
            cycles = max(1, int(round(rng.uniform(1.6, 3.4) * scene.tempo / move.period)))
            if move.travel:
                cycles = min(cycles, int(max_travel / (move.travel * amplitude)))
            if cycles >= 1:
                length = cycles * move.period / scene.tempo
                segments.append(Segment(str(name), float(time), length, cycles, amplitude,
                                        int(rng.choice([-1, 1]))))
                time += length
            previous = name
            time += rng.uniform(-0.5 if track == "arms" else 0.0, 0.4) / scene.tempo
    return tuple(segments)


def pose_at(segments, time):
    """The rest pose plus the offsets of the moves danced at `time` (seconds)."""
    pose = REST
    for segment in segments:
        u = (time - segment.start) / segment.duration
        if 0 < u < 1:
            offset = MOVES[segment.name].function(u, segment.cycles, segment.amplitude)
            pose = pose + (offset if segment.side > 0 else offset.mirrored())
    # Overlapping arm moves add up: keep the sum within what shoulders and elbows can do.
    shoulder = lambda angle: float(np.clip(angle, *SHOULDER_RANGE))
    elbow = lambda angle: float(np.clip(angle, *ELBOW_RANGE))
    return replace(pose, left_shoulder=shoulder(pose.left_shoulder),
                   right_shoulder=shoulder(pose.right_shoulder),
                   left_elbow=elbow(pose.left_elbow), right_elbow=elbow(pose.right_elbow))


# --- camera ---------------------------------------------------------------------------------------
def room_margin(scene):
    """(x, y) pixels of room on each side of the camera's home view: (0, 0) for a still camera."""
    if scene.camera == "still":
        return 0, 0
    return (round((ROOM_SIZE[0] - 1) / 2 * scene.width), round((ROOM_SIZE[1] - 1) / 2 * scene.height))


def camera_at(scene, time):
    """(3, 3) float64: the similarity mapping frame pixels to room pixels at `time` (seconds).

    Both with pixel centres at integer coordinates, as OpenCV has them. A still camera: the identity.
    The pan-zoom camera follows one phase: it pans right, back, left and back; it zooms in on the
    middle of the room and out as it pans away (so the dancer stays in view); it dips and rises.
    """
    if scene.camera == "still":
        return np.eye(3)
    phase = 2 * np.pi * time / CAMERA_PERIOD
    pan = np.sin(phase)  # -1 at the left end, 1 at the right end
    scale = ZOOM_RANGE ** (pan**2 - 0.5)  # room pixels per frame pixel: < 1 zoomed in
    margin_x, margin_y = room_margin(scene)
    centre_x = margin_x + (scene.width - 1) / 2 + PAN[0] * scene.width * pan  # in room pixels
    centre_y = margin_y + (scene.height - 1) / 2 + PAN[1] * scene.height * np.sin(2 * phase)
    return np.array([[scale, 0, centre_x - scale * (scene.width - 1) / 2],
                     [0, scale, centre_y - scale * (scene.height - 1) / 2],
                     [0, 0, 1]])


def camera_matrices(scene):
    """(N, 3, 3) float64: camera_at for every frame of the video."""
    return np.stack([camera_at(scene, index / scene.fps) for index in range(scene.n_frames)])


def _apply(homography, points):
    """Map (..., 2) points through a (3, 3) homography."""
    mapped = np.asarray(points, dtype=np.float64) @ homography[:, :2].T + homography[:, 2]  # (..., 3)
    return mapped[..., :2] / mapped[..., 2:]


@lru_cache(maxsize=8)
def _always_in_view(scene):
    """(left, top, right, bottom): the part of the room that every view of the camera's path shows,
    in pixels of the home view (continuous coordinates, as body_points has them)."""
    corners = np.array([[-0.5, -0.5], [scene.width - 0.5, scene.height - 0.5]])  # the frame's outer corners
    times = np.linspace(0, CAMERA_PERIOD, 721)  # the path repeats: one period, finely
    views = np.array([_apply(camera_at(scene, time), corners) for time in times])  # (721, 2, 2), room pixels
    left, top = views[:, 0].max(axis=0) + 0.5 - room_margin(scene)
    right, bottom = views[:, 1].min(axis=0) + 0.5 - room_margin(scene)
    return float(left), float(top), float(right), float(bottom)


def check_in_view(appearance, scene):
    """Raise ValueError if the person, arms up or out, could leave the pan-zoom camera's view."""
    if scene.camera == "still":
        return
    a, stature = appearance, stature_pixels(appearance, scene)
    reach_up = ANKLE_HEIGHT + a.shin + a.thigh + a.torso + a.upper_arm + a.forearm + 0.09  # hands raised
    reach_out = 0.55 + max_travel(appearance, scene)  # arms out, as far as the dancer walks
    home_x, sole_y = scene.person_x * scene.width, scene.feet_y * scene.height
    left, top, right, bottom = _always_in_view(scene)
    if (home_x - reach_out * stature < left or home_x + reach_out * stature > right
            or sole_y - reach_up * stature < top or sole_y + 0.03 * stature > bottom):
        raise ValueError(
            f"the pan-zoom camera would lose the dancer ({stature:.0f} px tall at x {home_x:.0f}, feet at "
            f"y {sole_y:.0f} in the home view; the room part always in view: x {left:.0f} to {right:.0f}, "
            f"y {top:.0f} to {bottom:.0f}): make them smaller (camera_scale) or move them (person_x, "
            f"feet_y), as the target-moving preset does")


# --- body: forward kinematics ---------------------------------------------------------------------
def stature_pixels(appearance, scene):
    return appearance.height * scene.camera_scale * scene.height


def max_travel(appearance, scene):
    """How far (statures) the pelvis may walk from home with arms out and stay in the frame."""
    stature = stature_pixels(appearance, scene)
    if scene.camera == "still":
        room = min(scene.person_x, 1 - scene.person_x) * scene.width - 0.04 * scene.width
    else:  # stay where every view of the moving camera looks
        left, _, right, _ = _always_in_view(scene)
        home_x = scene.person_x * scene.width
        room = min(home_x - left, right - home_x) - 0.04 * scene.width
    return float(np.clip((room - 0.55 * stature) / stature, 0, 0.3))


def _unit(angle):
    """Unit vectors (up, side) of a body part rolled by `angle`; side points to image right."""
    return np.array([np.sin(angle), -np.cos(angle)]), np.array([np.cos(angle), np.sin(angle)])


def _knee(hip, ankle, thigh, shin, outward):
    """Two-link inverse kinematics; the knee bends outward (a plie) when the leg is not straight."""
    axis = ankle - hip
    reach = np.linalg.norm(axis)
    reach_clamped = min(reach, (thigh + shin) * 0.9999)
    along = (thigh**2 - shin**2 + reach_clamped**2) / (2 * reach_clamped)
    across = np.sqrt(max(thigh**2 - along**2, 0.0))
    direction = axis / reach
    normal = np.array([-direction[1], direction[0]])
    if normal[0] * outward < 0:
        normal = -normal
    return hip + direction * along + normal * across


def body_points(appearance, scene, pose, offset=(0, 0)):
    """Joints and body-part anchors in pixels (continuous coordinates: pixel i covers [i, i+1]) of the
    frame, or of an image (the room) that holds the frame's home view at `offset` (x, y) pixels."""
    a, stature = appearance, stature_pixels(appearance, scene)
    home_x, sole_y = scene.person_x * scene.width + offset[0], scene.feet_y * scene.height + offset[1]
    p = {"stature": stature, "sole_y": sole_y}
    for side, sign in (("left", 1), ("right", -1)):
        foot_x = getattr(pose, f"{side}_foot_x") + sign * STANCE / 2
        lift = getattr(pose, f"{side}_foot_lift")
        p[f"{side}_ankle"] = np.array([home_x + foot_x * stature,
                                       sole_y - (ANKLE_HEIGHT + lift) * stature])
    # The pelvis is as high as the straighter leg allows, minus the squat: feet stay on the floor.
    pelvis_x, hip_half = home_x + pose.x * stature, a.hip_width / 2 * stature
    leg = (a.thigh + a.shin) * stature * 0.999
    highest_hip = lambda ankle, hip_x: ankle[1] - np.sqrt(max(leg**2 - (ankle[0] - hip_x) ** 2, 0))
    hip_y = max(highest_hip(p["left_ankle"], pelvis_x + hip_half),
                highest_hip(p["right_ankle"], pelvis_x - hip_half)) + pose.squat * stature
    p["pelvis"] = np.array([pelvis_x, hip_y])
    for side, sign in (("left", 1), ("right", -1)):
        p[f"{side}_hip"] = np.array([pelvis_x + sign * hip_half, hip_y])
        p[f"{side}_knee"] = _knee(p[f"{side}_hip"], p[f"{side}_ankle"], a.thigh * stature,
                                  a.shin * stature, sign)
    up, side_axis = _unit(pose.lean)
    p["up"], p["side"] = up, side_axis
    p["neck"] = p["pelvis"] + up * a.torso * stature  # middle of the shoulder line
    shoulder_half = a.shoulder_width / 2 * stature * np.cos(pose.turn)
    for side, sign in (("left", 1), ("right", -1)):
        shoulder = p["neck"] + sign * side_axis * shoulder_half
        arm_direction = lambda angle: -up * np.cos(angle) + sign * side_axis * np.sin(angle)
        upper, fore = getattr(pose, f"{side}_shoulder"), getattr(pose, f"{side}_elbow")
        p[f"{side}_shoulder"] = shoulder
        p[f"{side}_elbow"] = shoulder + arm_direction(upper) * a.upper_arm * stature
        p[f"{side}_wrist"] = p[f"{side}_elbow"] + arm_direction(upper + fore) * a.forearm * stature
        p[f"{side}_hand_dir"] = arm_direction(upper + fore)
        p[f"{side}_hand_in"] = arm_direction(upper + fore - np.pi / 2)  # towards the thumb
    head_up, head_side = _unit(pose.lean + pose.head_tilt)
    p["head_up"], p["head_side"], p["yaw"] = head_up, head_side, 0.8 * pose.turn
    p["head"] = p["neck"] + head_up * (a.neck + a.head / 2) * stature
    return p


def face_point(p, x, y, depth):
    """A point on the face, (x right, y down, depth towards the camera) in statures from its centre."""
    stature, yaw = p["stature"], p["yaw"]
    across = x * np.cos(yaw) + depth * np.sin(yaw)
    return p["head"] + (p["head_side"] * across - p["head_up"] * y) * stature


# Face and hand landmarks: (x, y, depth) on the face, in statures, x towards the person's left.
FACE = {
    "nose": (0.0, -0.005, 0.055),
    "left_eye_inner": (0.011, -0.017, 0.042), "left_eye": (0.02, -0.017, 0.042),
    "left_eye_outer": (0.029, -0.017, 0.038),
    "right_eye_inner": (-0.011, -0.017, 0.042), "right_eye": (-0.02, -0.017, 0.042),
    "right_eye_outer": (-0.029, -0.017, 0.038),
    "left_ear": (0.042, -0.006, 0.0), "right_ear": (-0.042, -0.006, 0.0),
    "mouth_left": (0.015, 0.02, 0.045), "mouth_right": (-0.015, 0.02, 0.045),
}
HAND = {"pinky": (0.052, -0.025), "index": (0.06, -0.008), "thumb": (0.042, 0.018)}  # (along, in)


def landmark_pixels(p):
    """(33, 2) float64: the MediaPipe landmarks' x, y in the pixels the body points p are in."""
    stature, xy = p["stature"], {}
    for name, offsets in FACE.items():
        xy[name] = face_point(p, *offsets)
    for side, sign in (("left", 1), ("right", -1)):
        for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
            xy[f"{side}_{joint}"] = p[f"{side}_{joint}"]
        for finger, (along, inward) in HAND.items():
            xy[f"{side}_{finger}"] = (p[f"{side}_wrist"] + p[f"{side}_hand_dir"] * along * stature
                                      + p[f"{side}_hand_in"] * inward * stature)
        sole = p[f"{side}_ankle"] + np.array([0, ANKLE_HEIGHT * stature])
        xy[f"{side}_heel"] = sole + np.array([-sign * 0.015, -0.052]) * stature  # hidden behind the shoe
        xy[f"{side}_foot_index"] = sole + np.array([sign * 0.025, -0.012]) * stature
    return np.array([xy[name] for name in LANDMARK_NAMES])


def landmarks_from_pixels(pixels, scene):
    """(33, 4) float32 MediaPipe landmarks from frame pixels: x, y normalised, z = 0, visibility = 1."""
    landmarks = np.zeros((N_LANDMARKS, 4), dtype=np.float32)
    landmarks[:, :2] = pixels
    landmarks[:, :2] /= (scene.width, scene.height)
    landmarks[:, 3] = 1
    return landmarks


# --- drawing --------------------------------------------------------------------------------------
SHIFT = 4  # OpenCV sub-pixel bits
# Concentric layers, outer to inner: (size factor, brightness); the inner ones move towards the light.
SHADING = ((1.0, 0.62), (0.82, 0.8), (0.58, 0.95), (0.3, 1.08))
_ANGLES = np.linspace(0, 2 * np.pi, 16, endpoint=False)
# The outline of each capsule layer around a unit circle, moved towards the light: (layers, 16, 2).
_UNIT_CIRCLE = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)
_LAYER_CIRCLES = np.stack([(_UNIT_CIRCLE + LIGHT * (1 - size) * 0.45) * size for size, _ in SHADING])


def _fixed(points):
    """Continuous pixel coordinates -> OpenCV fixed point (OpenCV puts pixel centres on integers)."""
    return np.round((np.asarray(points, dtype=np.float64) - 0.5) * (1 << SHIFT)).astype(np.int32)


def _fixed_length(lengths):
    return tuple(int(round(length * (1 << SHIFT))) for length in np.atleast_1d(lengths))


def _shade(colour, brightness):
    return tuple(int(min(255, c * brightness)) for c in colour)


@lru_cache(maxsize=64)
def _layer_colours(colour):
    return [_shade(colour, brightness) for _, brightness in SHADING]


def _capsule(image, start, end, start_radius, end_radius, colour, via=None, via_radius=None):
    """A tapered, shaded cylinder (a neck, a shoe), optionally bent through `via` (a limb's muscle).

    Layer by layer, so the two halves of a bent capsule shade as one piece without a seam.
    """
    centres, radii = [start, end], [start_radius, end_radius]
    if via is not None:
        centres.insert(1, via)
        radii.insert(1, via_radius)
    outlines = [_fixed(centre + _LAYER_CIRCLES * radius) for centre, radius in zip(centres, radii)]
    for layer, layer_colour in enumerate(_layer_colours(colour)):
        for first, second in zip(outlines, outlines[1:]):
            hull = cv2.convexHull(np.concatenate([first[layer], second[layer]]))
            cv2.fillConvexPoly(image, hull, layer_colour, cv2.LINE_AA, SHIFT)


def _limb(image, start, end, radii, colour, scale):
    """A limb with a muscle: radii (statures) at the start, at 30 % of the way, at the end."""
    _capsule(image, start, end, radii[0] * scale, radii[2] * scale, colour,
             via=start + (end - start) * 0.3, via_radius=radii[1] * scale)


def _polygon(image, points, centre, up, colour):
    """A shaded polygon (torso, pelvis): layers shrink mostly across `up`, like a cylinder."""
    side = np.array([-up[1], up[0]])
    offsets = points - centre
    along, across = offsets @ up, offsets @ side
    for size, brightness in SHADING[:3]:
        shift = LIGHT * (1 - size) * 0.25 * np.abs(across).max()
        layer = centre + shift + np.outer(along * (1 - (1 - size) * 0.25), up) + np.outer(across * size, side)
        cv2.fillPoly(image, [_fixed(layer)], _shade(colour, brightness), cv2.LINE_AA, SHIFT)


def _ellipse(image, centre, axes, angle_rad, colour, start=0, end=360, layers=SHADING):
    for size, brightness in layers:
        shifted = centre + LIGHT * (1 - size) * 0.4 * np.asarray(axes)
        cv2.ellipse(image, tuple(_fixed(shifted)), _fixed_length(np.asarray(axes) * size),
                    np.degrees(angle_rad), start, end, _shade(colour, brightness), -1, cv2.LINE_AA, SHIFT)


@lru_cache(maxsize=8)
def background(scene):
    """The empty room: a wall gradient, a skirting board, a picture, a floor gradient."""
    height, width, horizon = scene.height, scene.width, int(scene.horizon * scene.height)
    image = np.empty((height, width, 3), dtype=np.uint8)
    ramp = lambda top, bottom, n: np.linspace(top, bottom, max(n, 1))[:, None, :]
    image[:horizon] = ramp(scene.wall_top, scene.wall_bottom, horizon)
    image[horizon:] = ramp(scene.floor_far, scene.floor_near, height - horizon)
    board = max(2, height // 60)
    image[horizon - board:horizon] = _shade(scene.wall_bottom, 0.75)
    frame_box = np.array([0.08 * width, 0.1 * height, 0.26 * width, 0.32 * height])
    cv2.rectangle(image, tuple(_fixed(frame_box[:2])), tuple(_fixed(frame_box[2:])),
                  _shade(scene.wall_top, 0.5), -1, cv2.LINE_AA, SHIFT)
    inset = 0.012 * width
    cv2.rectangle(image, tuple(_fixed(frame_box[:2] + inset)), tuple(_fixed(frame_box[2:] - inset)),
                  _shade(scene.wall_bottom, 1.12), -1, cv2.LINE_AA, SHIFT)
    image.flags.writeable = False  # shared by every frame
    return image


@lru_cache(maxsize=8)
def room_image(scene):
    """The empty room, uint8 BGR in room pixels: for a still camera, background(scene).

    For the pan-zoom camera, a room ROOM_SIZE times the frame, the home view in its middle; things
    on its wall and floor give feature matchers corners and edges wherever the camera looks.
    """
    if scene.camera == "still":
        return background(scene)
    margin_x, margin_y = room_margin(scene)
    width, height = scene.width + 2 * margin_x, scene.height + 2 * margin_y
    horizon = (margin_y + scene.horizon * scene.height) / height
    walls = replace(scene, camera="still", width=width, height=height, horizon=horizon)
    image = background(walls).copy()  # (height, width, 3): wall, skirting board, a mirror, floor
    floor_top = int(walls.horizon * height)
    _draw_floor_boards(image, floor_top, scene.floor_far, scene.floor_near)
    _draw_furniture(image, floor_top)
    image.flags.writeable = False  # shared by every frame
    return image


def _draw_floor_boards(image, floor_top, far_colour, near_colour):
    """Rows of planks in perspective, each a little lighter or darker, with dark joints; a rug."""
    height, width = image.shape[:2]
    rng = np.random.default_rng(5)
    vanish_y = floor_top - 0.9 * height  # where the lines into the distance meet, above the room
    # A point on the floor `along` room widths from the middle, at `depth` (1 at the room's bottom edge).
    at = lambda along, depth: (width / 2 + along * width / depth, vanish_y + (height - vanish_y) / depth)
    depths = np.linspace((height - vanish_y) / (floor_top - vanish_y), 1, 8)  # row edges, far to near
    plank = 0.3  # a plank's length, in room widths at depth 1
    joint = _shade(far_colour, 0.55)
    for far, near in zip(depths, depths[1:]):
        nearness = (at(0, (far + near) / 2)[1] - floor_top) / (height - floor_top)
        colour = np.add(far_colour, np.subtract(near_colour, far_colour) * nearness)
        ends = np.arange(-depths[0] / 2 - rng.uniform(0, plank), depths[0] / 2 + plank, plank)
        for left, right in zip(ends, ends[1:]):
            corners = [at(left, far), at(right, far), at(right, near), at(left, near)]
            cv2.fillConvexPoly(image, _fixed(corners), _shade(colour, rng.uniform(0.85, 1.12)),
                               cv2.LINE_AA, SHIFT)
        for end in ends:
            cv2.line(image, tuple(_fixed(at(end, far))), tuple(_fixed(at(end, near))), joint, 1,
                     cv2.LINE_AA, SHIFT)
        cv2.line(image, tuple(_fixed((0, at(0, far)[1]))), tuple(_fixed((width, at(0, far)[1]))), joint, 1,
                 cv2.LINE_AA, SHIFT)
    # A rug where the dancer stands: a red border, a cream band, a red line, a green field.
    rug_far, rug_near = np.interp((0.3, 0.85), (0, 1), (depths[0], 1))
    for inset, colour in ((0, (45, 45, 140)), (0.1, (185, 210, 225)), (0.25, (45, 45, 140)),
                          (0.31, (110, 140, 60))):  # fractions of the rug's half width and half depth
        half = 0.16 * (1 - inset)
        far, near = rug_far - (rug_far - rug_near) / 2 * inset, rug_near + (rug_far - rug_near) / 2 * inset
        cv2.fillConvexPoly(image, _fixed([at(-half, far), at(half, far), at(half, near), at(-half, near)]),
                           colour, cv2.LINE_AA, SHIFT)


def _draw_furniture(image, floor_top):
    """Pictures, a clock, a door, a shelf of books, a plant, a loudspeaker and a lamp (fixed places)."""
    height, width = image.shape[:2]
    rng = np.random.default_rng(7)
    at = lambda x, y: np.array([x * width, y * floor_top])  # fractions of the room width, wall height
    unit = width / 160  # the width of picture frames and outlines

    def box(top_left, bottom_right, colour):
        cv2.rectangle(image, tuple(_fixed(top_left)), tuple(_fixed(bottom_right)), colour, -1,
                      cv2.LINE_AA, SHIFT)

    def picture(top_left, bottom_right, frame_colour, canvas_colour):
        """A framed picture with a shadow; returns its canvas's (top left, bottom right)."""
        box(top_left + unit * 0.6, bottom_right + unit * 0.6, (120, 130, 140))
        box(top_left, bottom_right, frame_colour)
        box(top_left + unit, bottom_right - unit, canvas_colour)
        return top_left + unit, bottom_right - unit

    def circle(centre, radius, colour):
        cv2.circle(image, tuple(_fixed(centre)), _fixed_length(radius)[0], colour, -1, cv2.LINE_AA, SHIFT)

    def polygon(points, colour):
        cv2.fillPoly(image, [_fixed(points)], colour, cv2.LINE_AA, SHIFT)

    # A landscape in a gilt frame: sky, sun, a snowy mountain, green hills.
    (x0, y0), (x1, y1) = picture(at(0.30, 0.2), at(0.43, 0.48), (40, 140, 190), (230, 195, 140))
    size = np.array([x1 - x0, y1 - y0])
    local = lambda u, v: np.array([x0, y0]) + size * (u, v)
    circle(local(0.78, 0.25), 0.1 * size[0], (70, 210, 250))
    polygon([local(0.05, 1), local(0.4, 0.22), local(0.8, 1)], (110, 100, 105))
    polygon([local(0.3, 0.43), local(0.4, 0.22), local(0.5, 0.43), local(0.4, 0.37)], (245, 245, 245))
    polygon([local(0, 0.7), local(0.35, 0.85), local(0.7, 0.62), local(1, 0.75), local(1, 1), local(0, 1)],
            (60, 150, 70))
    # A Mondrian: black bars between red, blue and yellow blocks on white.
    (x0, y0), (x1, y1) = picture(at(0.585, 0.06), at(0.665, 0.44), (25, 25, 25), (240, 240, 240))
    size = np.array([x1 - x0, y1 - y0])
    local = lambda u, v: np.array([x0, y0]) + size * (u, v)
    box(local(0, 0), local(0.6, 0.35), (40, 40, 200))
    box(local(0.62, 0.72), local(1, 1), (150, 70, 30))
    box(local(0, 0.82), local(0.25, 1), (40, 205, 240))
    for u in (0.6, 0.25):
        box(local(u, 0), local(u + 0.04, 1), (20, 20, 20))
    for v in (0.35, 0.72, 0.82):
        box(local(0, v), local(1, v + 0.025), (20, 20, 20))
    # A target of rings above the dancer's head.
    (x0, y0), (x1, y1) = picture(at(0.455, 0.05), at(0.545, 0.22), (40, 70, 110), (50, 90, 40))
    centre, radius = np.array([(x0 + x1) / 2, (y0 + y1) / 2]), 0.4 * min(x1 - x0, y1 - y0)
    for fraction, colour in ((1, (235, 235, 235)), (0.75, (40, 40, 190)), (0.5, (235, 235, 235)),
                             (0.25, (40, 40, 190))):
        circle(centre, radius * fraction, colour)
    # A print of stripes under the mirror.
    (x0, y0), (x1, y1) = picture(at(0.09, 0.64), at(0.2, 0.84), (200, 200, 205), (60, 60, 60))
    for k, colour in enumerate(((60, 170, 240), (80, 80, 220), (170, 110, 60))):
        box((x0, y0 + (k + 0.5) / 4 * (y1 - y0)), (x1, y0 + (k + 0.9) / 4 * (y1 - y0)), colour)
    # A clock at ten past ten.
    centre, radius = at(0.73, 0.2), 0.028 * width
    circle(centre, radius, (30, 30, 30))
    circle(centre, radius * 0.88, (245, 245, 245))
    for hour in range(12):
        direction = np.array([np.sin(hour * np.pi / 6), -np.cos(hour * np.pi / 6)])
        cv2.line(image, tuple(_fixed(centre + direction * radius * 0.65)),
                 tuple(_fixed(centre + direction * radius * 0.82)), (30, 30, 30), max(1, int(unit / 2)),
                 cv2.LINE_AA, SHIFT)
    for angle, length in ((np.radians(-55), 0.5), (np.radians(60), 0.75)):  # hour hand, minute hand
        hand = centre + np.array([np.sin(angle), -np.cos(angle)]) * radius * length
        cv2.line(image, tuple(_fixed(centre)), tuple(_fixed(hand)), (20, 20, 20), max(1, int(unit * 0.8)),
                 cv2.LINE_AA, SHIFT)
    # A door with four panels and a brass knob, a light switch beside it.
    box(at(0.795, 0.14), at(0.93, 1.0), (232, 236, 238))
    box(at(0.795, 0.14) + unit * 1.5, (0.93 * width - unit * 1.5, floor_top), (60, 105, 150))
    for u0, u1 in ((0.808, 0.855), (0.87, 0.917)):
        for v0, v1 in ((0.2, 0.5), (0.58, 0.93)):
            box(at(u0, v0), at(u1, v1), (40, 75, 115))
            box(at(u0, v0) + unit * 0.7, at(u1, v1) - unit * 0.7, (70, 125, 175))
    circle(at(0.9, 0.55), 0.006 * width, (20, 40, 60))
    circle(at(0.9, 0.55), 0.0045 * width, (60, 170, 215))
    box(at(0.775, 0.48), at(0.786, 0.54), (150, 150, 150))
    box(at(0.775, 0.48) + unit * 0.3, at(0.786, 0.54) - unit * 0.3, (245, 245, 245))
    # A shelf of books, a vase at its end.
    shelf_y = 0.63 * floor_top
    for x in (0.655, 0.765):
        polygon([at(x, 0.63), at(x + 0.012, 0.63), at(x, 0.72)], (40, 60, 90))
    x, palette = 0.648 * width, ((40, 40, 170), (140, 80, 30), (40, 130, 60), (50, 180, 220), (30, 30, 30),
                                  (180, 180, 190), (110, 50, 120))
    while x < 0.735 * width:
        book_width, book_height = rng.uniform(0.006, 0.012) * width, rng.uniform(0.1, 0.17) * floor_top
        colour = palette[rng.integers(len(palette))]
        box((x, shelf_y - book_height), (x + book_width, shelf_y), _shade(colour, 0.7))
        box((x + unit * 0.4, shelf_y - book_height + unit * 0.4), (x + book_width - unit * 0.4, shelf_y),
            colour)
        x += book_width + unit * 0.3
    cv2.ellipse(image, tuple(_fixed(at(0.758, 0.63) - (0, 0.045 * floor_top))),
                _fixed_length((0.011 * width, 0.045 * floor_top)), 0, 0, 360, (160, 90, 40), -1,
                cv2.LINE_AA, SHIFT)
    box(at(0.64, 0.63), at(0.785, 0.655), (50, 85, 125))
    # A loudspeaker on the floor under the shelf.
    top_left, bottom_right = at(0.7, 0.78), (0.745 * width, floor_top + 0.05 * height)
    box(top_left, bottom_right, (35, 35, 35))
    middle_x = (top_left[0] + bottom_right[0]) / 2
    for v, radius in ((0.25, 0.007), (0.65, 0.016)):
        centre = (middle_x, top_left[1] + v * (bottom_right[1] - top_left[1]))
        circle(centre, radius * width, (110, 110, 110))
        circle(centre, radius * width * 0.6, (15, 15, 15))
    # A potted plant left of the dancer.
    pot_top, pot_bottom = floor_top - 0.03 * height, floor_top + 0.06 * height
    for k in range(11):
        angle = np.radians(-75 + 150 * k / 10 + rng.uniform(-8, 8))
        length = rng.uniform(0.08, 0.13) * height
        direction = np.array([np.sin(angle), -np.cos(angle)])
        cv2.ellipse(image, tuple(_fixed(at(0.26, 0) + (0, pot_top) + direction * length / 2)),
                    _fixed_length((length / 2, rng.uniform(0.012, 0.02) * height)), np.degrees(angle) - 90,
                    0, 360, ((40, 100, 35), (60, 140, 50), (30, 80, 25))[k % 3], -1, cv2.LINE_AA, SHIFT)
    polygon([(0.235 * width, pot_top), (0.285 * width, pot_top), (0.277 * width, pot_bottom),
             (0.243 * width, pot_bottom)], (60, 100, 185))
    box((0.232 * width, pot_top - 0.01 * height), (0.288 * width, pot_top + 0.01 * height), (45, 80, 150))
    # A floor lamp at the far right.
    cv2.line(image, tuple(_fixed(at(0.965, 0.25))), tuple(_fixed((0.965 * width, floor_top + 0.04 * height))),
             (40, 40, 40), max(1, int(unit)), cv2.LINE_AA, SHIFT)
    polygon([at(0.95, 0.1), at(0.98, 0.1), at(0.99, 0.26), at(0.94, 0.26)], (170, 225, 240))
    box((0.952 * width, floor_top + 0.035 * height), (0.978 * width, floor_top + 0.05 * height), (40, 40, 40))


def draw_person(image, appearance, p):
    """Paint the mannequin back to front: shadow, long hair, legs, torso, head, arms."""
    a, s = appearance, p["stature"]
    up, side = p["up"], p["side"]
    floor = image[min(int(p["sole_y"]), image.shape[0] - 1),
                  min(max(int(p["pelvis"][0]), 0), image.shape[1] - 1)]
    cv2.ellipse(image, tuple(_fixed((p["pelvis"][0], p["sole_y"]))), _fixed_length((0.17 * s, 0.025 * s)),
                0, 0, 360, _shade(floor, 0.7), -1, cv2.LINE_AA, SHIFT)
    if a.hair_style == "long":
        hair_top = p["head"] + p["head_up"] * 0.03 * s
        _polygon(image, np.array([hair_top - side * 0.055 * s, hair_top + side * 0.055 * s,
                                  p["neck"] + side * 0.07 * s - up * 0.04 * s,
                                  p["neck"] - side * 0.07 * s - up * 0.04 * s]),
                 p["neck"], up, a.hair)
    draw_legs(image, a, p)
    draw_torso(image, a, p)
    draw_head(image, a, p)
    for arm in ("left", "right"):
        draw_arm(image, a, p, arm)


def draw_legs(image, a, p):
    """Trouser legs and shoes. Each joint shows as the seam where the upper segment overlaps
    the lower one, just below the joint: MediaPipe reads knees and ankles from those seams."""
    s, girth = p["stature"], a.girth
    for leg, sign in (("left", 1), ("right", -1)):
        hip, knee, ankle = p[f"{leg}_hip"], p[f"{leg}_knee"], p[f"{leg}_ankle"]
        hem = ankle + (knee - ankle) / np.linalg.norm(knee - ankle) * 0.015 * s
        _limb(image, knee, hem, (0.038, 0.042, 0.027), a.trousers, s * girth)
        knee_top = knee + (hip - knee) / np.linalg.norm(hip - knee) * 0.02 * s
        _limb(image, hip, knee_top, (0.06, 0.055, 0.038), a.trousers, s * girth)
        sole = ankle + np.array([0, ANKLE_HEIGHT * s])
        _capsule(image, sole - (0, 0.046 * s), sole + np.array([sign * 0.012, -0.028]) * s,
                 0.024 * s, 0.028 * s, a.shoes)


def draw_torso(image, a, p):
    """Trousers up to the belt, the shirt over them, the neck and a round neckline."""
    s, girth, up, side = p["stature"], a.girth, p["up"], p["side"]
    pelvis, belt = p["pelvis"], p["pelvis"] + np.array([0, -0.07 * s])
    hip_outer = (a.hip_width / 2 + 0.045) * s * girth
    _polygon(image, np.array([belt + (-0.085 * s * girth, 0), belt + (0.085 * s * girth, 0),
                              pelvis + (hip_outer, 0), pelvis + (hip_outer * 0.85, 0.04 * s),
                              pelvis + (0, 0.045 * s), pelvis + (-hip_outer * 0.85, 0.04 * s),
                              pelvis + (-hip_outer, 0)]), pelvis, np.array([0.0, -1.0]), a.trousers)
    neck = p["neck"]
    shoulder_half = np.linalg.norm(p["left_shoulder"] - neck)
    waist = pelvis + up * 0.09 * s
    # The shirt's outline on the person's left, top to bottom, as (anchor, across, along); mirrored.
    outline = [(neck, 0.04 * s, 0.03 * s), (neck, shoulder_half + 0.01 * s, 0.018 * s),
               (neck, shoulder_half + 0.035 * s * girth, -0.02 * s),
               (neck, shoulder_half + 0.01 * s, -0.1 * s),
               (waist, 0.08 * s * girth, 0), (pelvis, 0.09 * s * girth, 0.04 * s)]
    left = [anchor + side * across + up * along for anchor, across, along in outline]
    right = [anchor - side * across + up * along for anchor, across, along in outline]
    torso = np.array(left + right[::-1])
    _polygon(image, torso, (neck + waist) / 2, up, a.shirt)
    _capsule(image, neck - up * 0.01 * s, p["head"], 0.026 * s, 0.024 * s, a.skin)
    cv2.ellipse(image, tuple(_fixed(neck + up * 0.03 * s)), _fixed_length((0.036 * s, 0.022 * s)),
                np.degrees(np.arctan2(side[1], side[0])), 0, 180, _shade(a.skin, 0.8), -1, cv2.LINE_AA, SHIFT)


def draw_head(image, a, p):
    """Ears, hair, a face with brows, eyes, nose and lips; features shift sideways as the head turns."""
    s, head, head_up, head_side = p["stature"], p["head"], p["head_up"], p["head_side"]
    roll = np.arctan2(head_side[1], head_side[0])
    face_width, face_height = HEAD_WIDTH / 2 * s, a.head / 2 * s
    for ear in ("left_ear", "right_ear"):
        _ellipse(image, face_point(p, *FACE[ear]), (0.011 * s, 0.018 * s), roll, a.skin, layers=SHADING[:2])
    _ellipse(image, head + head_up * 0.012 * s, (face_width * 1.1, face_height * 1.02), roll, a.hair,
             layers=SHADING[:3])
    face_centre = face_point(p, 0, 0.004, 0.01)
    _ellipse(image, face_centre, (face_width * np.cos(p["yaw"]) ** 0.3, face_height * 0.95), roll, a.skin)
    fringe = face_point(p, 0, -0.04, 0.012)
    _ellipse(image, fringe, (face_width * 1.02, 0.032 * s), roll, a.hair, 180, 360, layers=SHADING[:2])
    eye_size = np.array([0.0095, 0.0055]) * s
    for side in ("left", "right"):
        eye = face_point(p, *FACE[f"{side}_eye"])
        brow_l, brow_r = (face_point(p, x, -0.03, 0.04) for x in
                          ((0.01, 0.03) if side == "left" else (-0.01, -0.03)))
        cv2.line(image, tuple(_fixed(brow_l)), tuple(_fixed(brow_r)), _shade(a.hair, 0.8),
                 max(1, int(0.006 * s)), cv2.LINE_AA, SHIFT)
        cv2.ellipse(image, tuple(_fixed(eye)), _fixed_length(eye_size), np.degrees(roll), 0, 360,
                    (235, 240, 245), -1, cv2.LINE_AA, SHIFT)
        for radius, colour in ((0.005, a.iris), (0.0022, (15, 15, 15))):  # iris, pupil
            cv2.circle(image, tuple(_fixed(eye)), _fixed_length(radius * s)[0], colour, -1, cv2.LINE_AA, SHIFT)
    bridge, tip = face_point(p, 0, -0.015, 0.05), face_point(p, *FACE["nose"])
    nose = np.array([bridge, tip + head_side * 0.01 * s, tip - head_side * 0.01 * s])
    cv2.fillConvexPoly(image, _fixed(nose), _shade(a.skin, 0.72), cv2.LINE_AA, SHIFT)
    for nostril in (-0.006, 0.006):
        cv2.circle(image, tuple(_fixed(tip + head_side * nostril * s)), _fixed_length(0.0025 * s)[0],
                   _shade(a.skin, 0.45), -1, cv2.LINE_AA, SHIFT)
    mouth = (face_point(p, *FACE["mouth_left"]) + face_point(p, *FACE["mouth_right"])) / 2
    cv2.ellipse(image, tuple(_fixed(mouth)), _fixed_length((0.015 * s * np.cos(p["yaw"]), 0.006 * s)),
                np.degrees(roll), 0, 360, a.lips, -1, cv2.LINE_AA, SHIFT)
    cv2.ellipse(image, tuple(_fixed(mouth)), _fixed_length((0.013 * s * np.cos(p["yaw"]), 0.0015 * s)),
                np.degrees(roll), 0, 360, _shade(a.lips, 0.5), -1, cv2.LINE_AA, SHIFT)


def draw_arm(image, a, p, arm):
    """Forearm, then upper arm over it (the seam marks the elbow), the sleeve, a hand with a thumb."""
    s, girth = p["stature"], a.girth
    shoulder, elbow, wrist = p[f"{arm}_shoulder"], p[f"{arm}_elbow"], p[f"{arm}_wrist"]
    hand_dir, hand_in = p[f"{arm}_hand_dir"], p[f"{arm}_hand_in"]
    long_sleeves = a.sleeves == "long"
    _limb(image, elbow, wrist, (0.025, 0.03, 0.019), a.shirt if long_sleeves else a.skin, s * girth)
    _limb(image, shoulder, elbow, (0.032, 0.033, 0.024), a.skin, s * girth)
    sleeve_end = shoulder + (elbow - shoulder) * (0.45 if not long_sleeves else 1.0)
    _limb(image, shoulder, sleeve_end, (0.035, 0.037, 0.027 if long_sleeves else 0.035), a.shirt, s * girth)
    palm = wrist + hand_dir * 0.045 * s
    _capsule(image, wrist + hand_in * 0.012 * s, wrist + hand_dir * 0.03 * s + hand_in * 0.03 * s,
             0.01 * s, 0.009 * s, a.skin)
    _capsule(image, wrist + hand_dir * 0.01 * s, palm + hand_dir * 0.025 * s, 0.021 * s, 0.018 * s, a.skin)


def render_frame(appearance, scene, time_or_pose):
    """One frame and its landmarks: time_or_pose is seconds into the choreography, or a Pose (seen
    by the camera as it is at time 0).

    Returns (uint8 BGR frame of scene.height x scene.width, (33, 4) float32 landmarks).
    """
    if isinstance(time_or_pose, Pose):
        pose, time = time_or_pose, 0.0
    else:
        time = float(time_or_pose)
        pose = pose_at(_choreography(appearance, scene), time)
    if scene.camera != "still":
        return _film_room(appearance, scene, pose, camera_at(scene, time))
    points = body_points(appearance, scene, pose)
    frame = background(scene).copy()
    draw_person(frame, appearance, points)
    return frame, landmarks_from_pixels(landmark_pixels(points), scene)


def _film_room(appearance, scene, pose, camera):
    """The person drawn in the room, seen through `camera` ((3, 3), frame pixels -> room pixels).

    The camera's scale stays near 1, so bilinear resampling neither blurs nor aliases much.
    Returns (uint8 BGR frame of scene.height x scene.width, (33, 4) float32 landmarks).
    """
    room = room_image(scene)
    # Draw only on the part of the room in view, plus a pixel around it for the interpolation.
    corners = _apply(camera, [[-0.5, -0.5], [scene.width - 0.5, scene.height - 0.5]])  # room pixels
    x0, y0 = np.maximum(np.floor(corners[0]).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(corners[1]).astype(int) + 2, room.shape[1::-1])
    canvas = room[y0:y1, x0:x1].copy()
    margin_x, margin_y = room_margin(scene)
    points = body_points(appearance, scene, pose, offset=(margin_x - x0, margin_y - y0))
    draw_person(canvas, appearance, points)
    frame_to_canvas = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]]) @ camera
    frame = cv2.warpAffine(canvas, frame_to_canvas[:2], (scene.width, scene.height),
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    # Landmarks: canvas pixels (continuous) -> frame pixels (continuous), through pixel centres.
    pixels = _apply(np.linalg.inv(frame_to_canvas), landmark_pixels(points) - 0.5) + 0.5
    return frame, landmarks_from_pixels(pixels, scene)


@lru_cache(maxsize=8)
def _choreography(appearance, scene):
    return choreograph(scene, max_travel(appearance, scene))


# --- videos ---------------------------------------------------------------------------------------
def ground_truth_path(video_path):
    return Path(video_path).with_suffix(".joints.npy")


def camera_path(video_path):
    return Path(video_path).with_suffix(".camera.npy")


def params_path(video_path):
    return Path(video_path).with_suffix(".params.json")


def scene_of(video_path):
    """The SceneConfig a rendered video was made with, read from its <video>.params.json."""
    saved = json.loads(params_path(video_path).read_text())["scene"]
    return SceneConfig(**{key: tuple(value) if isinstance(value, list) else value for key, value in saved.items()})


def _params(appearance, scene):
    scene_params = asdict(scene)
    if scene.camera == "still":  # as before cameras could move, so that those videos stay valid
        del scene_params["camera"]
    return {"renderer_version": RENDERER_VERSION, "appearance": asdict(appearance), "scene": scene_params}


def make_video(path, appearance, scene, show_joints=False, progress=True):
    """Render the whole choreography to `path` (H.264), with its ground truth beside it:
    <path>.joints.npy (landmarks), <path>.camera.npy (cameras) and <path>.params.json.

    show_joints draws the ground-truth 13-joint skeleton on the frames, to check it by eye.
    Returns (path, ground truth (N, 33, 4) float32).
    """
    from tqdm import tqdm
    check_in_view(appearance, scene)
    path, ground_truth = Path(path), []

    def frames():
        for index in tqdm(range(scene.n_frames), desc=f"rendering {path.name}", disable=None if progress else True):
            frame, landmarks = render_frame(appearance, scene, index / scene.fps)
            ground_truth.append(landmarks)
            yield Skeleton(landmarks).draw(frame) if show_joints else frame

    video_io.write_video(path, frames(), scene.fps)
    ground_truth = np.stack(ground_truth).astype(np.float32)
    np.save(ground_truth_path(path), ground_truth)
    np.save(camera_path(path), camera_matrices(scene))
    params_path(path).write_text(json.dumps(_params(appearance, scene), indent=1))
    return path, ground_truth


def load_ground_truth(video_path):
    """The (N, 33, 4) float32 landmarks saved next to a rendered video."""
    joints_path = ground_truth_path(video_path)
    if not joints_path.is_file():
        raise FileNotFoundError(f"no ground truth {joints_path} next to {video_path}")
    return np.load(joints_path).astype(np.float32)


def load_camera(video_path):
    """The (N, 3, 3) float64 cameras saved next to a rendered video: per frame, the homography from
    frame pixels to room pixels (see camera_at; identities for a still camera)."""
    cameras_path = camera_path(video_path)
    if not cameras_path.is_file():
        raise FileNotFoundError(f"no camera ground truth {cameras_path} next to {video_path} "
                                f"(SyntheticDancer.make_video writes it)")
    return np.load(cameras_path)


PRESETS = {
    # Shorter, near the camera, centred: the person the generators learn.
    "target": (Appearance(height=0.66),
               SceneConfig(camera_scale=1.1, n_frames=300, motion_seed=1)),
    # Taller, farther away and to the right, other clothes and moves: the person to imitate.
    "source": (Appearance(skin=(60, 90, 140), hair=(20, 20, 25), shirt=(150, 160, 40),
                          trousers=(40, 35, 35), shoes=(40, 40, 170), lips=(70, 70, 120),
                          hair_style="long", sleeves="long", height=0.85, shoulder_width=0.24,
                          hip_width=0.12, girth=0.92),
               SceneConfig(wall_top=(225, 210, 195), wall_bottom=(200, 185, 170),
                           floor_far=(110, 110, 115), floor_near=(135, 135, 140), horizon=0.56,
                           feet_y=0.86, person_x=0.6, camera_scale=0.66, n_frames=150,
                           motion_seed=2, tempo=1.15)),
    # The target's person in a wider room, filmed by the pan-zoom camera: smaller in the home view
    # and higher up than in "target", so that they stay in view when the camera zooms in and pans.
    "target-moving": (Appearance(height=0.66),
                      SceneConfig(camera="pan-zoom", camera_scale=0.85, horizon=0.6, feet_y=0.84,
                                  n_frames=300, motion_seed=1)),
}


def _default_video(preset, path, n_frames, size):
    """Render a preset unless the same video (same parameters, same renderer) is already there."""
    appearance, scene = PRESETS[preset]
    scene = replace(scene, n_frames=n_frames, width=size[0], height=size[1])
    path = Path(path)
    wanted = json.loads(json.dumps(_params(appearance, scene)))  # tuples become lists, as on disk
    done = (path.is_file() and ground_truth_path(path).is_file() and params_path(path).is_file()
            and json.loads(params_path(path).read_text()) == wanted)
    if not done:
        make_video(path, appearance, scene)
    if not camera_path(path).is_file():  # rendered before the cameras were saved
        np.save(camera_path(path), camera_matrices(scene))
    print(f"{'wrote' if not done else 'found'} {shown_path(path)}")
    return path


def default_target(path=SYNTHETIC_ROOT / "target.mp4", n_frames=300, size=(512, 384)):
    """The built-in target video (the person the generators learn); size is (width, height)."""
    return _default_video("target", path, n_frames, size)


def default_source(path=SYNTHETIC_ROOT / "source.mp4", n_frames=150, size=(512, 384)):
    """The built-in source video: another, taller person farther away, dancing other moves."""
    return _default_video("source", path, n_frames, size)


def default_target_moving(path=SYNTHETIC_ROOT / "target-moving.mp4", n_frames=300, size=(512, 384)):
    """The target's person filmed by the pan-zoom camera; room_image and load_camera give the truth."""
    return _default_video("target-moving", path, n_frames, size)


def main(argv=None):
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        description="Render a synthetic dancer video with its ground truth beside it: MediaPipe "
                    "landmarks (<OUT>.joints.npy, (N, 33, 4)), cameras (<OUT>.camera.npy, (N, 3, 3) "
                    "homographies from frame pixels to room pixels) and parameters (<OUT>.params.json).")
    parser.add_argument("out", help="the video to write, e.g. data/synthetic/target.mp4")
    parser.add_argument("--preset", choices=("target", "target-moving", "source", "random"), default="target",
                        help="target: the default target person; target-moving: the same person filmed "
                             "by the pan-zoom camera; source: the default source person; random: a random "
                             "person drawn from --seed (in the target's room, or with --camera pan-zoom in "
                             "target-moving's)")
    parser.add_argument("--camera", choices=CAMERAS,
                        help="still: the camera does not move; pan-zoom: it pans and zooms over a room "
                             "wider than the frame (default: the preset's)")
    parser.add_argument("--frames", type=int, help="number of frames (default: the preset's)")
    parser.add_argument("--seed", type=int, help="seed of the choreography (default: the preset's)")
    parser.add_argument("--width", type=int, help="frame width in pixels, even (default 512)")
    parser.add_argument("--height", type=int, help="frame height in pixels, even (default 384)")
    parser.add_argument("--show-joints", action="store_true",
                        help="draw the ground-truth skeleton on the frames, to check it by eye")
    args = parser.parse_args(argv)
    if args.preset == "random":
        room = "target-moving" if args.camera == "pan-zoom" else "target"
        appearance, scene = Appearance.random(args.seed or 0), PRESETS[room][1]
    else:
        appearance, scene = PRESETS[args.preset]
    overrides = {"n_frames": args.frames, "motion_seed": args.seed,
                 "width": args.width, "height": args.height, "camera": args.camera}
    try:
        scene = replace(scene, **{key: value for key, value in overrides.items() if value is not None})
        check_in_view(appearance, scene)
    except ValueError as error:
        parser.error(str(error))
    path, ground_truth = make_video(args.out, appearance, scene, show_joints=args.show_joints)
    print(f"wrote {path} ({len(ground_truth)} frames, {scene.width}x{scene.height} at {scene.fps:g} fps, "
          f"{scene.camera} camera)")
    print(f"wrote {ground_truth_path(path)}, {camera_path(path)} and {params_path(path)}")


if __name__ == "__main__":
    main()
