"""Transfer a dance: the target person performs the moves of a source video, shown side by side.

For each source frame: find the pose (MediaPipe, video mode) -> fill the frames without a person
-> smooth (1-euro filter) -> normalise the body to the target's (Everybody Dance Now) and place it
in the target's crop -> generate the target person in that pose. The output video shows
source | driving pose | generated target; the driving skeletons are saved next to it.

    python DanceDemo.py                       # built-in demo: synthetic dancers, a GAN trained for a few minutes
    python DanceDemo.py ../shared/data/karate1.mp4 --target ../shared/data/taichi2.mp4 --gen 1
    python DanceDemo.py SOURCE --target TARGET --gen gan --checkpoint data/models/NAME/gan.pt --out out/x.mp4
    python DanceDemo.py SOURCE --target TARGET --gen 1 --no-smooth --no-normalize   # to compare

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

import video_io
from GenNearest import GenNearest
from Skeleton import (DETECTED, HELD, INTERPOLATED, N_LANDMARKS, ONE_EURO_BETA, ONE_EURO_MIN_CUTOFF, BodyRange,
                      PoseDetector, PoseNormalizer, Skeleton, fill_gaps, smooth_sequence, torso_lengths)
from training import CheckpointError, default_checkpoint
from VideoSkeleton import SMALL_PERSON, VideoSkeleton, VideoSkeletonError, person_box, smooth_track

GENERATORS = {1: "nearest", 2: "vanilla-vector", 3: "vanilla-image", 4: "gan"}  # the course's GEN_TYPE
TRAIN_COMMANDS = {
    "vanilla-vector": "python GenVanillaNN.py {video} --variant vector --minutes 20",
    "vanilla-image": "python GenVanillaNN.py {video} --variant image --minutes 20",
    "gan": "python GenGAN.py {video} --minutes 20",
}
PANEL_HEIGHT = 256  # pixels: every panel of the output is this tall
BATCH_SIZE = 32  # poses per generate_batch call
DEMO_GAN_SIZE = 64  # the built-in demo trains its GAN at this resolution ...
DEMO_GAN_MINUTES = 5.5  # ... for this long, so `python DanceDemo.py` ends in under 10 minutes on 2 CPU cores


class DanceDemoError(Exception):
    """Bad input or a missing model; the message is one line meant for the user."""


# --- the generator ------------------------------------------------------------------------------
def generator_name(gen):
    """1-4 (the course's GEN_TYPE, as a number or text) or a name -> the generator's name."""
    key = str(gen).strip().lower()
    if key.isdigit() and int(key) in GENERATORS:
        return GENERATORS[int(key)]
    if key in GENERATORS.values():
        return key
    raise DanceDemoError(f"unknown generator {gen!r}: give 1-4 or one of {', '.join(GENERATORS.values())}")


def load_generator(gen, target_vs, checkpoint=None, device=None, paint_person=False):
    """The generator `gen` (1-4 or a name) of the target `target_vs`, ready to generate.

    A trained generator loads `checkpoint`, or by default data/models/<target>/<name>.pt. A missing
    checkpoint, one of another generator, or one trained on another target raises DanceDemoError
    saying how to train the right one. paint_person: the GAN paints over the person too (GenGAN).
    """
    name = generator_name(gen)
    if paint_person and name != "gan":
        raise DanceDemoError(f"painting is a choice of the GAN (4) only, not of {name}: drop --paint-person")
    if name == "nearest":
        if checkpoint:
            raise DanceDemoError("the nearest-neighbour generator (1) has no checkpoint: drop --checkpoint")
        return GenNearest(target_vs)
    path = Path(checkpoint) if checkpoint else default_checkpoint(target_vs, name)
    train_command = TRAIN_COMMANDS[name].format(video=shown_path(target_vs.video_path))
    if not path.is_file():
        raise DanceDemoError(f"no trained {name} for {target_vs.name} ({path}); train one with: {train_command}"
                             + (f" --checkpoint {path}" if checkpoint else ""))
    if name == "gan":
        from GenGAN import GenGAN as generator_class
        options = {"paint_person": paint_person}
    else:
        from GenVanillaNN import GenVanillaNN as generator_class
        options = {}
    try:
        generator = generator_class(path, device=device, target=target_vs, **options)
    except CheckpointError as error:
        raise DanceDemoError(str(error)) from None
    if name.startswith("vanilla") and generator.input_kind != name.split("-")[1]:
        raise DanceDemoError(f"{path} holds a vanilla-{generator.input_kind} generator, not {name}")
    if generator.target_name != target_vs.name:
        raise DanceDemoError(f"{path} was trained on another target ({generator.target_name}), not {target_vs.name}; "
                             f"train one for it with: {train_command}")
    return generator


def generator_label(generator):
    """What the generated panel is labelled with, e.g. 'gan 64x64'."""
    return f"{generator.name} {generator.size}x{generator.size}"


def shown_path(path):
    """A path as the user would type it: relative to the current folder or absolute, the shorter."""
    absolute = str(Path(path).resolve())
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive
        return absolute
    return min(relative, absolute, key=len)


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
                             desc="detecting poses", unit="frame", disable=not verbose):
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


def target_frame_skeletons(target_vs):
    """The target's cached skeletons moved from its crops back into its frames (frame-height units).

    Where the person stands and how tall they look must be measured in the frame: inside a crop
    that follows the person, a crouch moves the ankles as much as walking away from the camera.
    """
    boxes = np.asarray(target_vs.meta["crop_boxes"], dtype=np.float64)  # (M, 3): x0, y0, side in pixels
    skeletons = target_vs.skeletons.astype(np.float64)  # (M, 33, 4) in crop coordinates
    skeletons[..., :2] = skeletons[..., :2] * boxes[:, None, 2:] + boxes[:, None, :2]
    skeletons[..., :2] /= target_vs.meta["frame_size"][1]
    return skeletons


def crop_like_target(sequence, target_vs, fps):
    """Poses in the target's frame-height units -> the target's crop coordinates, cropped as
    VideoSkeleton cropped the target: one square side for the whole video, centred on the person,
    the centre smoothed over half a second. So the generator sees poses placed as in its training."""
    side = target_vs.meta["crop_boxes"][0][2] / target_vs.meta["frame_size"][1]
    boxes = np.array([person_box(Skeleton(pose), (1, 1)) for pose in sequence])  # (N, 4)
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)  # (N, 2)
    corners = smooth_track(centres, max(1, int(round(fps / 2)))) - side / 2  # (N, 2)
    cropped = np.array(sequence, dtype=np.float32)
    cropped[:, :, :2] = (cropped[:, :, :2] - corners[:, None, :]) / side
    return cropped


@dataclass
class DrivingPoses:
    """The poses that drive the generator, one per source frame."""
    source: np.ndarray  # (N, 33, 4) gaps filled and smoothed, in source frame-height units
    skeletons: np.ndarray  # (N, 33, 4) the same poses in the target's crop coordinates
    status: np.ndarray  # (N,) DETECTED, INTERPOLATED or HELD
    small: np.ndarray  # (N,) bool: a detection dropped as much smaller than the usual person
    normalizer: PoseNormalizer


def driving_poses(detections, fps, target_vs, smooth=True, normalize=True,
                  min_cutoff=ONE_EURO_MIN_CUTOFF, beta=ONE_EURO_BETA):
    """Source detections ((N, 33, 4) frame-height units, NaN where nobody) -> DrivingPoses.

    normalize=False only fits the source person's median bounding box into the target's crop.
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
    if normalize:
        normalizer = PoseNormalizer.fit(filled[detected], target_frame_skeletons(target_vs))
        skeletons = crop_like_target(normalizer.apply(filled), target_vs, fps)
    else:
        normalizer = PoseNormalizer.fit_box(filled[detected])
        skeletons = normalizer.apply(filled)
    return DrivingPoses(filled, skeletons, status, small, normalizer)


def generate_images(generator, skeletons, verbose=True):
    """(N, S, S, 3) uint8 BGR: the target in each pose. The nearest-neighbour generator picks a
    smooth path through the target's frames for the whole sequence; networks go batch by batch."""
    poses = [Skeleton(pose) for pose in skeletons]
    if hasattr(generator, "generate_sequence"):
        return generator.generate_sequence(poses)
    batches = range(0, len(poses), BATCH_SIZE)
    return np.concatenate([generator.generate_batch(poses[start:start + BATCH_SIZE])
                           for start in tqdm(batches, desc="generating", unit="batch", disable=not verbose)])


# --- the output ---------------------------------------------------------------------------------
def put_label(image, text, row=0, colour=(255, 255, 255)):
    """Write `text` on a dark band at the top left of `image` (row 0, 1, ... from the top)."""
    scale = image.shape[0] / 512
    (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    top = 4 + row * (height + baseline + 6)
    cv2.rectangle(image, (2, top), (10 + width, top + height + baseline + 4), (0, 0, 0), -1)
    cv2.putText(image, text, (6, top + height + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def side_by_side(frame, skeleton, status, generated, label, height=PANEL_HEIGHT):
    """source | driving pose | generated target, each `height` pixels tall, labelled."""
    width = 2 * round(frame.shape[1] * height / frame.shape[0] / 2)  # even, for H.264
    source = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    pose = Skeleton(skeleton).draw(np.full((height, height, 3), 32, dtype=np.uint8))
    interpolation = cv2.INTER_CUBIC if generated.shape[0] < height else cv2.INTER_AREA
    target = cv2.resize(generated, (height, height), interpolation=interpolation)
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

    gen_type: 1-4 or a name (nearest, vanilla-vector, vanilla-image, gan); target: a target video,
    its cache folder, or a VideoSkeleton (default: the built-in synthetic target). `draw()` writes
    the side-by-side video (shown in a window too with show=True) and returns what it did.
    """

    def __init__(self, source_path, gen_type=4, target=None, checkpoint=None, out=None, device=None,
                 smooth=True, normalize=True, max_frames=None, show=False,
                 min_cutoff=ONE_EURO_MIN_CUTOFF, beta=ONE_EURO_BETA, verbose=True, paint_person=False):
        self.source_path = Path(source_path)
        try:
            self.source_info = video_io.video_info(self.source_path)  # fail on a bad source before any work
        except video_io.VideoError as error:
            raise DanceDemoError(f"source: {error}") from None
        if target is None:
            import SyntheticDancer
            target = SyntheticDancer.default_target()
        self.target = target if isinstance(target, VideoSkeleton) else VideoSkeleton(target, verbose=verbose)
        self.generator = load_generator(gen_type, self.target, checkpoint, device, paint_person)
        target_stem = Path(self.target.video_path).stem
        self.out = Path(out or f"out/{self.source_path.stem}_to_{target_stem}_{self.generator.name}.mp4")
        self.smooth, self.normalize, self.max_frames, self.show = smooth, normalize, max_frames, show
        self.min_cutoff, self.beta, self.verbose = min_cutoff, beta, verbose

    def draw(self):
        """Run the transfer; returns a dict of counts, seconds per stage and the files written."""
        seconds = {}
        draw_started = started = time.perf_counter()
        info, detections = detect_source(self.source_path, self.max_frames, self.verbose)
        seconds["detect"] = time.perf_counter() - started
        driving = driving_poses(detections, info.fps, self.target, self.smooth, self.normalize,
                                self.min_cutoff, self.beta)
        started = time.perf_counter()
        generated = generate_images(self.generator, driving.skeletons, self.verbose)  # (N, S, S, 3)
        seconds["generate"] = time.perf_counter() - started
        started = time.perf_counter()
        summary = self._write(info, driving, generated)
        seconds["write"] = time.perf_counter() - started
        seconds["total"] = time.perf_counter() - draw_started
        summary["seconds"] = {stage: round(value, 3) for stage, value in seconds.items()}
        return summary

    def _write(self, info, driving, generated):
        """Write the video, the driving skeletons and the per-frame flags; nothing is left under
        its final name unless all three are complete."""
        skeletons_path, flags_path = output_paths(self.out)
        writer = video_io.VideoWriter(self.out, info.fps)
        flags_partial = flags_path.with_name(flags_path.name + ".partial")
        skeletons_partial = None
        label = generator_label(self.generator)
        try:
            frames = video_io.iter_frames(self.source_path, max_frames=self.max_frames)
            for t, (_, frame) in enumerate(tqdm(frames, total=len(generated), desc="writing", unit="frame",
                                                disable=not self.verbose)):
                if t == len(generated):
                    break
                panel = side_by_side(frame, driving.skeletons[t], driving.status[t], generated[t], label)
                writer.write(panel)
                if self.show:
                    self._show(panel)
            if writer.n_frames != len(generated):
                raise DanceDemoError(f"{self.source_path} decoded {writer.n_frames} frames the second time, "
                                     f"not {len(generated)}")
            skeletons_partial = skeletons_path.with_name(skeletons_path.stem + ".partial.npy")
            np.save(skeletons_partial, driving.skeletons)
            summary = self._summary(info, driving, panel.shape)
            flags_partial.write_text(json.dumps(summary, indent=1))
            writer.close()
            os.replace(skeletons_partial, skeletons_path)
            os.replace(flags_partial, flags_path)
        except BaseException:
            writer.abort()
            for partial in (skeletons_partial, flags_partial):
                if partial is not None:
                    Path(partial).unlink(missing_ok=True)
            raise
        finally:
            if self.show:
                cv2.destroyAllWindows()
        summary["files"] = {"video": str(self.out), "skeletons": str(skeletons_path), "flags": str(flags_path)}
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
            "skeletons": "(N, 33, 4) driving landmarks in the target's crop coordinates (0..1)",
            "smoothing": {"min_cutoff": self.min_cutoff, "beta": self.beta} if self.smooth else None,
            "normalization": asdict(driving.normalizer) if self.normalize else {"box_fit": asdict(driving.normalizer)},
            "counts": {**counts, "dropped_as_small": int(driving.small.sum())},
            "status": driving.status.tolist(),
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
    width, height = summary["frame_size"]
    print(f"wrote {summary['files']['video']} ({width}x{height}, {summary['codec']})")
    print(f"wrote {summary['files']['skeletons']} (driving skeletons, target crop coordinates)")
    print(f"wrote {summary['files']['flags']} (per-frame status and settings)")


# --- the built-in demo --------------------------------------------------------------------------
def builtin_demo(out="out/demo.mp4"):
    """Synthetic target and source, a GAN trained for a few minutes if none exists, the transfer."""
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
    if checkpoint.is_file():
        print(f"using the trained GAN {checkpoint}")
    else:
        GenGAN.main([str(target_path), "--size", str(DEMO_GAN_SIZE), "--minutes", str(DEMO_GAN_MINUTES),
                     "--checkpoint", str(checkpoint)])
    return DanceDemo(source_path, "gan", target=target, out=out)


# --- command line -------------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Make the target person dance the moves of a source video. Writes source | driving pose |\n"
                    "generated target as an mp4, with the driving skeletons (.skeletons.npy) and per-frame\n"
                    "flags (.frames.json) next to it. With no arguments: the built-in demo on synthetic dancers.",
        epilog="generators: 1 nearest (no training), 2 vanilla-vector, 3 vanilla-image, 4 gan. Examples:\n"
               "  python DanceDemo.py\n"
               "  python DanceDemo.py ../shared/data/karate1.mp4 --target ../shared/data/taichi2.mp4 --gen 1\n"
               "  python DanceDemo.py SOURCE --target TARGET --gen gan --out out/x.mp4 --max-frames 100",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", nargs="?", help="source video: the dance to copy (omit for the built-in demo)")
    parser.add_argument("--target", help="target video or its cache folder: who dances (default: the synthetic target)")
    parser.add_argument("--gen", default="gan", help="generator: 1-4 or nearest, vanilla-vector, vanilla-image, gan (default gan)")
    parser.add_argument("--checkpoint", help="trained generator to use (default data/models/<target>/<gen>.pt)")
    parser.add_argument("--out", help="output video (default out/<source>_to_<target>_<gen>.mp4)")
    parser.add_argument("--show", action="store_true", help="also show the frames in a window while writing")
    parser.add_argument("--max-frames", type=int, help="only the first N frames of the source")
    parser.add_argument("--no-smooth", action="store_true", help="use the detected poses as they are (no 1-euro filter)")
    parser.add_argument("--no-normalize", action="store_true",
                        help="no body normalisation: just fit the source person's median box into the target's crop")
    parser.add_argument("--min-cutoff", type=float, default=ONE_EURO_MIN_CUTOFF,
                        help=f"1-euro filter: cutoff at rest in Hz; lower smooths more (default {ONE_EURO_MIN_CUTOFF:g})")
    parser.add_argument("--beta", type=float, default=ONE_EURO_BETA,
                        help=f"1-euro filter: cutoff increase with speed; higher lags less (default {ONE_EURO_BETA:g})")
    parser.add_argument("--device", help="cuda, mps or cpu for trained generators (default: the best available)")
    parser.add_argument("--paint-person", action="store_true",
                        help="GAN: paint over the person too where the exemplar falls short, as in training "
                             "(smoother pixels, a blurrier person; default: only the background is painted)")
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
                             paint_person=args.paint_person)
        summary = demo.draw()
        print_summary(demo, summary)
        if args.source is None:
            print(f"wrote {save_still(demo.out, demo.out.with_suffix('.png'))} (the middle frame)")
            print(f"built-in demo done in {time.perf_counter() - started:.0f} s")
    except (DanceDemoError, VideoSkeletonError, video_io.VideoError) as error:
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        print("interrupted: no output was written", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
