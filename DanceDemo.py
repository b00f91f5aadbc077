"""Transfer a dance: the target person performs the moves of a source video, in the target's room.

For each source frame: find the pose (MediaPipe, video mode) -> fill the frames without a person
-> smooth (1-euro filter) -> normalise the body to the target's (Everybody Dance Now), in one fixed
view of the target's scene (by default the median training view) -> crop around it as the target
was cropped -> generate the target person (colour and alpha) in that pose (a network generator
first steadies the whole sequence of poses, without lag) -> draw the person over the scene at full
resolution. Two videos: <name>.scene.mp4, the target's room with the target dancing, and <name>.mp4,
source | driving pose | that scene; the driving skeletons, the generated alphas and crop boxes, and
per-frame flags are saved next to them. A target whose scene could not be registered falls back to
the generated crops (background painted by the generator).

    python DanceDemo.py                       # built-in demo: synthetic dancers, a GAN trained for a few minutes
    python DanceDemo.py ../shared/data/karate1.mp4 --target ../shared/data/taichi2.mp4 --gen 1
    python DanceDemo.py SOURCE --target TARGET --gen gan --checkpoint data/models/NAME/gan.pt --out out/x.mp4
    python DanceDemo.py SOURCE --target TARGET --gen 1 --no-smooth --no-normalize   # to compare
    python DanceDemo.py SOURCE --target TARGET --gen 1 --view-frame 400   # the room as seen at frame 400

From Python (the course form): DanceDemo("source.mp4", 4).draw()
"""
import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

import scene
import video_io
from video_io import put_label
from generators import GeneratorError, described, load_generator
from paths import OUT_ROOT, shown_path
from Skeleton import (DETECTED, HELD, INTERPOLATED, N_LANDMARKS, ONE_EURO_BETA, ONE_EURO_MIN_CUTOFF, BodyRange,
                      PoseDetector, PoseNormalizer, Skeleton, fill_gaps, smooth_sequence, torso_lengths)
from training import INTERRUPTED, default_checkpoint
from VideoSkeleton import SMALL_PERSON, VideoSkeleton, VideoSkeletonError, person_box, smooth_track, split_indices

PANEL_HEIGHT = 256  # pixels: every panel of the side-by-side video is this tall
SCENE_MAX_HEIGHT = 720  # the scene video keeps the target's frame size up to this height
DEMO_GAN_SIZE = 64  # the built-in demo trains its GAN at this resolution ...
DEMO_GAN_MINUTES = 5.5  # ... for this long, so `python DanceDemo.py` ends in under 10 minutes on 2 CPU cores


class DanceDemoError(Exception):
    """Bad input or a missing model; the message is one line meant for the user."""


# --- the generator ------------------------------------------------------------------------------
def generator_label(generator):
    """What the generated panel is labelled with, e.g. 'gan 64x64'."""
    return f"{generator.name} {generator.size}x{generator.size}"


# --- the driving poses --------------------------------------------------------------------------
def detect_source(path, max_frames=None, verbose=True):
    """MediaPipe Pose on each source frame: (VideoInfo, (N, 33, 4) landmarks, NaN where nobody).

    x and y are both in units of the frame's height, so that lengths mean the same in both.
    """
    info = video_io.video_info(path)
    expected = min(info.n_frames, max_frames) if max_frames else info.n_frames
    rows = []
    with PoseDetector(video=True) as detector:
        for _, frame in tqdm(video_io.iter_frames(path, max_frames=max_frames), total=expected or None,
                             desc="detecting poses", unit="frame", disable=None if verbose else True):
            skeleton = detector.detect(frame)
            rows.append(np.full((N_LANDMARKS, 4), np.nan, np.float32) if skeleton is None else skeleton.landmarks)
    if not rows:
        raise DanceDemoError(f"no frame could be decoded from {path}")
    sequence = np.stack(rows)  # (N, 33, 4)
    sequence[:, :, 0] *= info.width / info.height
    return info, sequence


def drop_small_people(sequence):
    """Treat as missing the detections much smaller than the video's usual person (a thumbnail in a
    transition graphic, a poster), by VideoSkeleton's rule. Returns (sequence, (N,) bool dropped)."""
    sequence = sequence.copy()
    found = np.isfinite(sequence[:, 0, 0])
    torsos = torso_lengths(sequence)  # (N,), NaN where nobody
    small = found & (torsos < SMALL_PERSON * np.nanmedian(torsos)) if found.any() else found
    sequence[small] = np.nan
    return sequence, small


def view_frame_index(target_vs, video_frame=None):
    """The kept frame whose camera is the fixed view of a transfer: the one nearest `video_frame`
    (a frame number of the target video), or by default the training frame nearest the median
    training view. None when the target's scene is not registrable."""
    if not target_vs.scene().registrable:
        return None
    if video_frame is None:
        return target_vs.scene().typical_frame(split_indices(len(target_vs))[0])
    frames = np.asarray(target_vs.meta["frame_indices"])
    return int(np.abs(frames - video_frame).argmin())


def target_frame_skeletons(target_vs, view_camera=None):
    """The target's cached skeletons moved from its crops back into its frames (frame-height units),
    and with `view_camera` (3x3) into that one view's frame: where each frame's camera saw a joint,
    the fixed view sees it at inv(view camera) x camera.

    Where the person stands and how tall they look must be measured in one frame: inside a crop
    that follows the person, a crouch moves the ankles as much as walking away from the camera.
    """
    boxes = np.asarray(target_vs.meta["crop_boxes"], dtype=np.float64)  # (M, 3): x0, y0, side in pixels
    skeletons = target_vs.skeletons.astype(np.float64)  # (M, 33, 4) in crop coordinates
    skeletons[..., :2] = skeletons[..., :2] * boxes[:, None, 2:] + boxes[:, None, :2]
    if view_camera is not None:
        to_view = np.linalg.inv(view_camera)
        for i in range(len(skeletons)):
            skeletons[i, :, :2] = scene.apply(to_view @ target_vs.scene().camera_near(i), skeletons[i, :, :2])
    skeletons[..., :2] /= target_vs.meta["frame_size"][1]
    return skeletons


def crop_like_target(sequence, side, fps):
    """Poses in the target's frame-height units -> (the poses in their crops' coordinates, the crop
    boxes (N, 3) x0, y0, side in frame-height units), cropped as VideoSkeleton cropped the target:
    a square of the view's crop side centred on the person, the centre smoothed over half a second.
    So the generator sees poses placed as in its training."""
    boxes = np.array([person_box(Skeleton(pose), (1, 1)) for pose in sequence])  # (N, 4)
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)  # (N, 2)
    corners = smooth_track(centres, max(1, int(round(fps / 2)))) - side / 2  # (N, 2)
    cropped = np.array(sequence, dtype=np.float32)
    cropped[:, :, :2] = (cropped[:, :, :2] - corners[:, None, :]) / side
    return cropped, np.column_stack([corners, np.full(len(corners), side)])


@dataclass
class DrivingPoses:
    """The poses that drive the generator, one per source frame."""
    source: np.ndarray  # (N, 33, 4) gaps filled and smoothed, in source frame-height units
    skeletons: np.ndarray  # (N, 33, 4) the same poses in the target's crop coordinates
    boxes: np.ndarray  # (N, 3) those crops (x0, y0, side) in the fixed view, frame-height units
    status: np.ndarray  # (N,) DETECTED, INTERPOLATED or HELD
    small: np.ndarray  # (N,) bool: a detection dropped as much smaller than the usual person
    normalizer: PoseNormalizer
    source_boxes: np.ndarray  # (N, 3) the square of each source frame (x0, y0, side, source frame-height
    # units) that the normalisation maps onto the generated crop: the real performer framed as the person


def driving_poses(detections, fps, target_vs, view, smooth=True, normalize=True,
                  min_cutoff=ONE_EURO_MIN_CUTOFF, beta=ONE_EURO_BETA):
    """Source detections ((N, 33, 4) frame-height units, NaN where nobody) -> DrivingPoses in the
    target's `view` (scene.View: its camera, and the crop side of the target there).

    normalize=False only fits the source person's median bounding box into the view's crop.
    """
    detections, small = drop_small_people(detections)
    try:
        filled, status = fill_gaps(detections, fps)
    except ValueError:
        raise DanceDemoError("no person detected in any frame of the source") from None
    detected = status == DETECTED
    if smooth:
        filled = smooth_sequence(filled, fps, min_cutoff, beta, unit=BodyRange.of(filled[detected]).height,
                                 held=status == HELD)
    height = target_vs.meta["frame_size"][1]
    if normalize:
        normalizer = PoseNormalizer.fit(filled[detected], target_frame_skeletons(target_vs, view.camera))
        skeletons, boxes = crop_like_target(normalizer.apply(filled), view.box[2] / height, fps)
        crops = boxes  # the poses mapped by the normaliser lie in these squares of the view
    else:
        normalizer = PoseNormalizer.fit_box(filled[detected])
        skeletons = normalizer.apply(filled)
        boxes = np.tile(np.asarray(view.box, dtype=np.float64) / height, (len(filled), 1))
        crops = np.tile([0.0, 0.0, 1.0], (len(filled), 1))  # the box fit maps straight into the unit square
    return DrivingPoses(filled, skeletons, boxes, status, small, normalizer, normalizer.source_squares(filled, crops))


def generate_layers(generator, skeletons):
    """(person (N, S, S, 3) uint8 BGR, alpha (N, S, S) float32 or None): the target in each pose,
    generated as a sequence (the nearest-neighbour generator and the GAN's exemplars follow a
    smooth path through the target's frames)."""
    return generator.generate_layers([Skeleton(pose) for pose in skeletons], sequence=True)


# --- the scene ------------------------------------------------------------------------------------
def scene_size(frame_size, max_height=SCENE_MAX_HEIGHT):
    """(width, height) of the scene video: the target's frame, at most max_height tall, even sides."""
    width, height = frame_size
    factor = min(1.0, max_height / height)
    return 2 * max(1, round(width * factor / 2)), 2 * max(1, round(height * factor / 2))


def place_person(background, person, alpha, box):
    """The scene frame: a generated crop's person (S, S, 3) uint8 with its alpha (S, S) drawn over
    `background` (H, W, 3) at box = (x0, y0, side) in its pixels, the crop resized to the box
    (cubic for colour, linear for alpha). Only the box's pixels are touched."""
    frame = background.copy()
    frame_size = background.shape[1::-1]
    region, colour = scene.onto_frame(person, box, frame_size, cv2.INTER_CUBIC, cv2.BORDER_REPLICATE)
    if region is None:
        return frame
    _, weight = scene.onto_frame(alpha.astype(np.float32), box, frame_size)
    frame[region] = scene.composite(colour[None], weight.clip(0, 1)[None], background[region][None])[0]
    return frame


# --- the output ---------------------------------------------------------------------------------
def to_height(image, height):
    """An image resized to `height` pixels tall, its aspect kept, its width even (for H.264)."""
    width = 2 * max(1, round(image.shape[1] * height / image.shape[0] / 2))
    interpolation = cv2.INTER_CUBIC if image.shape[0] < height else cv2.INTER_AREA
    return cv2.resize(image, (width, height), interpolation=interpolation)


def side_by_side(frame, skeleton, status, generated, label, height=PANEL_HEIGHT):
    """source | driving pose | generated target (the scene, or a crop), each `height` pixels tall, labelled."""
    source = to_height(frame, height)
    pose = Skeleton(skeleton).draw(np.full((height, height, 3), 32, dtype=np.uint8))
    target = to_height(generated, height)
    put_label(source, "source")
    put_label(pose, "driving pose")
    if status == HELD:
        put_label(pose, "no person: pose held", row=1, colour=(80, 80, 255))
    elif status == INTERPOLATED:
        put_label(pose, "no person: interpolated", row=1, colour=(80, 220, 255))
    put_label(target, label)
    return np.concatenate([source, pose, target], axis=1)


def output_paths(video_path):
    """(skeletons .npy, per-frame flags .json) saved next to the output video."""
    video_path = Path(video_path)
    return (video_path.with_name(video_path.stem + ".skeletons.npy"),
            video_path.with_name(video_path.stem + ".frames.json"))


def scene_paths(video_path):
    """(scene video .scene.mp4, generated layers .layers.npz) saved next to the output video."""
    video_path = Path(video_path)
    return (video_path.with_name(video_path.stem + ".scene.mp4"),
            video_path.with_name(video_path.stem + ".layers.npz"))


def save_still(video_path, png_path, index=None):
    """One frame of a written video (the middle one by default) as a PNG; returns its path."""
    indices, frames = video_io.read_frames(video_path)
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(png_path), frames[len(frames) // 2 if index is None else index])
    return png_path


# --- the transfer -------------------------------------------------------------------------------
class DanceDemo:
    """Transfer the dance of `source_path` to a target person.

    gen_type: a course number or a name (generators.py: 1 nearest, ..., 4 gan); target: a target video,
    its cache folder, or a VideoSkeleton (default: the built-in synthetic target); view_frame: a
    frame number of the target video whose view of the room the result is shown in (default: the
    median training view). `draw()` writes the scene video and the side-by-side video (shown in a
    window too with show=True) and returns what it did.
    """

    def __init__(self, source_path, gen_type=4, target=None, checkpoint=None, out=None, device=None,
                 smooth=True, normalize=True, max_frames=None, show=False,
                 min_cutoff=ONE_EURO_MIN_CUTOFF, beta=ONE_EURO_BETA, verbose=True, paint_person=False,
                 view_frame=None, no_mirror=False):
        self.source_path = Path(source_path)
        try:
            self.source_info = video_io.video_info(self.source_path)  # fail on a bad source before any work
        except video_io.VideoError as error:
            raise DanceDemoError(f"source: {error}") from None
        if target is None:
            import SyntheticDancer
            target = SyntheticDancer.default_target()
        self.target = target if isinstance(target, VideoSkeleton) else VideoSkeleton(target, verbose=verbose)
        options = {option: True for option, asked in (("paint_person", paint_person), ("no_mirror", no_mirror)) if asked}
        self.generator = load_generator(gen_type, self.target, checkpoint, device, **options)
        target_stem = Path(self.target.video_path).stem
        self.out = Path(out or shown_path(OUT_ROOT / f"{self.source_path.stem}_to_{target_stem}_{self.generator.name}.mp4"))
        self.smooth, self.normalize, self.max_frames, self.show = smooth, normalize, max_frames, show
        self.min_cutoff, self.beta, self.verbose = min_cutoff, beta, verbose
        self.view_index = view_frame_index(self.target, view_frame)  # kept frame of the fixed view, or None
        self.view = self.target.view(self.view_index) if self.view_index is not None else self.target.typical_view()
        self.in_scene = self.view_index is not None and self.generator.composites
        if not self.in_scene and verbose:
            print(f"{self.target.name}: the scene could not be registered, so the result is the generated crops "
                  f"(their background painted by the generator), not the target's room")

    def draw(self):
        """Run the transfer; returns a dict of counts, seconds per stage and the files written."""
        seconds = {}
        draw_started = started = time.perf_counter()
        info, detections = detect_source(self.source_path, self.max_frames, self.verbose)
        seconds["detect"] = time.perf_counter() - started
        driving = driving_poses(detections, info.fps, self.target, self.view, self.smooth, self.normalize,
                                self.min_cutoff, self.beta)
        started = time.perf_counter()
        person, alpha = generate_layers(self.generator, driving.skeletons)  # (N, S, S, 3), (N, S, S)
        seconds["generate"] = time.perf_counter() - started
        started = time.perf_counter()
        summary = self._write(info, driving, person, alpha)
        seconds["write"] = time.perf_counter() - started
        seconds["total"] = time.perf_counter() - draw_started
        summary["seconds"] = {stage: round(value, 3) for stage, value in seconds.items()}
        return summary

    def _write(self, info, driving, person, alpha):
        """Write the videos, the driving skeletons, the layers and the per-frame flags; nothing is
        left under its final name unless all of them are complete."""
        skeletons_path, flags_path = output_paths(self.out)
        scene_path, layers_path = scene_paths(self.out)
        writer = video_io.VideoWriter(self.out, info.fps)
        scene_writer = video_io.VideoWriter(scene_path, info.fps) if self.in_scene else None
        partials = {path: path.with_name(path.stem + ".partial" + path.suffix)
                    for path in (skeletons_path, flags_path) + ((layers_path,) if self.in_scene else ())}
        label = generator_label(self.generator)
        if self.in_scene:
            size = scene_size(self.target.scene().frame_size)
            room = self.target.scene().render(self.view.camera)  # the fixed view, at the frame's size
            room = cv2.resize(room, size, interpolation=cv2.INTER_AREA)
            boxes = driving.boxes * size[1]  # (N, 3) in scene video pixels
        try:
            frames = video_io.iter_frames(self.source_path, max_frames=self.max_frames)
            for t, (_, frame) in enumerate(tqdm(frames, total=len(person), desc="writing", unit="frame",
                                                disable=None if self.verbose else True)):
                if t == len(person):
                    break
                generated = person[t]
                if self.in_scene:
                    generated = place_person(room, person[t], alpha[t], boxes[t])
                    scene_writer.write(generated)
                panel = side_by_side(frame, driving.skeletons[t], driving.status[t], generated, label)
                writer.write(panel)
                if self.show:
                    self._show(panel)
            if writer.n_frames != len(person):
                raise DanceDemoError(f"{self.source_path} decoded {writer.n_frames} frames the second time, "
                                     f"not {len(person)}")
            np.save(partials[skeletons_path], driving.skeletons)
            summary = self._summary(info, driving, panel.shape)
            if self.in_scene:
                np.savez_compressed(partials[layers_path], alpha=(alpha * 255).round().astype(np.uint8), boxes=boxes)
                summary["scene"] = {"video": str(scene_path), "size": list(size),
                                    "view_frame": int(self.target.frame_index(self.view_index)),
                                    "target_video": str(self.target.video_path),
                                    "layers": "alpha (N, S, S) uint8 0-255 of each generated crop, boxes (N, 3) "
                                              "x0, y0, side of each crop in scene video pixels"}
            partials[flags_path].write_text(json.dumps(summary, indent=1))
            writer.close()
            if scene_writer is not None:
                scene_writer.close()
            for path, partial in partials.items():
                os.replace(partial, path)
        except BaseException:
            for open_writer in (writer, scene_writer):
                if open_writer is not None:
                    open_writer.abort()
            for partial in partials.values():
                partial.unlink(missing_ok=True)
            raise
        finally:
            if self.show:
                cv2.destroyAllWindows()
        summary["files"] = {"video": str(self.out), "skeletons": str(skeletons_path), "flags": str(flags_path)}
        if self.in_scene:
            summary["files"].update(scene=str(scene_path), layers=str(layers_path))
        summary["codec"] = writer.codec
        return summary

    def _show(self, panel):
        try:
            cv2.imshow("DanceDemo: source | driving pose | generated", panel)
            cv2.waitKey(1)
        except cv2.error:
            raise DanceDemoError("cannot open a window (no display?): run without --show") from None

    def _summary(self, info, driving, panel_shape):
        """Everything an evaluation needs to know about the run, and each frame's status."""
        counts = {name: int(np.count_nonzero(driving.status == name)) for name in (DETECTED, INTERPOLATED, HELD)}
        return {
            "source": str(self.source_path), "target": self.target.name, "generator": self.generator.name,
            "generator_size": self.generator.size, "fps": info.fps, "n_frames": len(driving.status),
            "frame_size": [int(panel_shape[1]), int(panel_shape[0])],
            "skeletons": "(N, 33, 4) driving landmarks in the coordinates of each generated crop (0..1)",
            "smoothing": {"min_cutoff": self.min_cutoff, "beta": self.beta} if self.smooth else None,
            "normalization": asdict(driving.normalizer) if self.normalize else {"box_fit": asdict(driving.normalizer)},
            "counts": {**counts, "dropped_as_small": int(driving.small.sum())},
            "status": driving.status.tolist(),
            "source_boxes": np.round(driving.source_boxes * info.height, 3).tolist(),
            "source_boxes_are": "(N, 3) x0, y0, side in source video pixels: the square of each source frame that "
                                "the body normalisation maps onto the generated crop",
        }


def print_summary(demo, summary):
    n = summary["n_frames"]
    counts = summary["counts"]
    print(f"transferred {n} frames of {demo.source_path} ({summary['fps']:g} fps) to {demo.target.name} "
          f"with {generator_label(demo.generator)}")
    print(f"  poses: {counts[DETECTED]} detected, {counts[INTERPOLATED]} interpolated, {counts[HELD]} held "
          f"where nobody was found ({counts['dropped_as_small']} detections dropped as too small)")
    for stage, value in summary["seconds"].items():
        print(f"  {stage:<8} {value:7.2f} s  ({n / max(value, 1e-9):7.1f} frames/s)")
    if "scene" in summary["files"]:
        width, height = summary["scene"]["size"]
        print(f"wrote {summary['files']['scene']} ({width}x{height}: the target's room as seen at its frame "
              f"{summary['scene']['view_frame']}, {summary['codec']})")
        print(f"wrote {summary['files']['layers']} (the generated alphas and their boxes in the scene video)")
    width, height = summary["frame_size"]
    print(f"wrote {summary['files']['video']} ({width}x{height}: source | driving pose | result, {summary['codec']})")
    print(f"wrote {summary['files']['skeletons']} (driving skeletons, target crop coordinates)")
    print(f"wrote {summary['files']['flags']} (per-frame status and settings)")


# --- the built-in demo --------------------------------------------------------------------------
def usable_checkpoint(path, target):
    """Whether `path` holds a GAN of `target` that this version can generate with; one that is not
    (an older version's) is said to be replaced."""
    if not path.is_file():
        return False
    try:
        load_generator("gan", target, path)
        return True
    except GeneratorError:
        print(f"not using {shown_path(path)}, which this version cannot use: training a new one in its place")
        return False


def builtin_demo(out=None):
    """Synthetic target and source, a GAN trained for a few minutes if none exists, the transfer
    (to out/demo.mp4 by default)."""
    out = out or shown_path(OUT_ROOT / "demo.mp4")
    import GenGAN
    import SyntheticDancer
    print("Built-in demo: render a synthetic target dancer and a synthetic source dancer "
          "(data/synthetic/), find the target's poses (data/cache/), train a GAN on the target for "
          f"{DEMO_GAN_MINUTES:g} minutes at {DEMO_GAN_SIZE}x{DEMO_GAN_SIZE} unless one is already trained "
          f"(Ctrl-C stops training early and goes on), then make the target dance the source's moves: {out}.",
          flush=True)
    target_path = SyntheticDancer.default_target()
    source_path = SyntheticDancer.default_source()
    target = VideoSkeleton(target_path)
    checkpoint = default_checkpoint(target, "gan")
    if usable_checkpoint(checkpoint, target):
        print(f"using the trained GAN {shown_path(checkpoint)}")
    else:
        try:
            GenGAN.main([str(target_path), "--size", str(DEMO_GAN_SIZE), "--minutes", str(DEMO_GAN_MINUTES),
                         "--checkpoint", str(checkpoint)])
        except SystemExit as stop:  # Ctrl-C: the GAN trained so far is saved, and the demo goes on with it
            if stop.code != INTERRUPTED:
                raise
    return DanceDemo(source_path, "gan", target=target, out=out)


# --- command line -------------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        description="Make the target person dance the moves of a source video, in the target's room. Writes\n"
                    "OUT.scene.mp4 (the target dancing in its room, one fixed view) and OUT.mp4 (source | driving\n"
                    "pose | that scene), with the driving skeletons (.skeletons.npy), the generated alphas and\n"
                    "boxes (.layers.npz) and per-frame flags (.frames.json) next to them. With no arguments: the\n"
                    "built-in demo on synthetic dancers.",
        epilog=f"generators: {described()} (nearest needs no training). Examples:\n"
               "  python DanceDemo.py\n"
               "  python DanceDemo.py ../shared/data/karate1.mp4 --target ../shared/data/taichi2.mp4 --gen 1\n"
               "  python DanceDemo.py SOURCE --target TARGET --gen gan --out out/x.mp4 --max-frames 100",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", nargs="?", help="source video: the dance to copy (omit for the built-in demo)")
    parser.add_argument("--target", help="target video, or its cache folder: who dances (default: the synthetic target)")
    parser.add_argument("--gen", default="gan", help=f"generator, by course number or name: {described()} (default gan)")
    parser.add_argument("--checkpoint", help="trained generator to use (default data/models/<target>/<gen>.pt)")
    parser.add_argument("--out", help="output video (default out/<source>_to_<target>_<gen>.mp4)")
    parser.add_argument("--show", action="store_true", help="also show the frames in a window while writing")
    parser.add_argument("--view-frame", type=int, metavar="N",
                        help="show the result in the target's room as its camera saw it at frame N of the target "
                             "video (default: the median view of the training frames)")
    parser.add_argument("--max-frames", type=int, help="only the first N frames of the source")
    parser.add_argument("--no-smooth", action="store_true",
                        help="no 1-euro filter on the detected poses (a network generator still steadies the whole "
                             "sequence lightly, training.SEQUENCE_POSE_SIGMA)")
    parser.add_argument("--no-normalize", action="store_true",
                        help="no body normalisation: just fit the source person's median box into the target's crop")
    parser.add_argument("--min-cutoff", type=float, default=ONE_EURO_MIN_CUTOFF,
                        help=f"1-euro filter: cutoff at rest in Hz; lower smooths more (default {ONE_EURO_MIN_CUTOFF:g})")
    parser.add_argument("--beta", type=float, default=ONE_EURO_BETA,
                        help=f"1-euro filter: cutoff increase with speed; higher lags less (default {ONE_EURO_BETA:g})")
    parser.add_argument("--device", help="cuda, mps or cpu for trained generators (default: the best available)")
    parser.add_argument("--paint-person", action="store_true",
                        help="GAN: generate as in training, painting over the person too where the exemplar falls "
                             "short and bending the warp by the learned flow (a blurrier person; default: only the "
                             "background is painted, the person moved by the guided warp)")
    parser.add_argument("--no-mirror", action="store_true",
                        help="GAN: take exemplars from the target's own frames only, not also from their mirror images "
                             "(for a costume, hair or prop that is not the same on the left and the right)")
    args = parser.parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        parser.error("--max-frames must be at least 1")
    if args.source is None and (args.target or args.checkpoint or args.out):
        parser.error("give a source video (the built-in demo takes no --target, --checkpoint or --out)")
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        if args.source is None:
            demo = builtin_demo()
        else:
            demo = DanceDemo(args.source, args.gen, args.target, args.checkpoint, args.out, args.device,
                             smooth=not args.no_smooth, normalize=not args.no_normalize,
                             max_frames=args.max_frames, show=args.show, min_cutoff=args.min_cutoff, beta=args.beta,
                             paint_person=args.paint_person, view_frame=args.view_frame, no_mirror=args.no_mirror)
        summary = demo.draw()
        print_summary(demo, summary)
        if args.source is None:
            print(f"wrote {save_still(demo.out, demo.out.with_suffix('.png'))} (the middle frame)")
            print(f"built-in demo done in {time.perf_counter() - started:.0f} s")
    except (DanceDemoError, GeneratorError, VideoSkeletonError, video_io.VideoError) as error:
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        print("interrupted: no output was written", file=sys.stderr)
        sys.exit(INTERRUPTED)


if __name__ == "__main__":
    main()
