"""Read a target video, find the person's skeleton and mask in its frames, crop the person, and
cache them with the scene the person stands in.

The generators train on (skeleton, crop) pairs from this cache. Every crop is a square around the
person whose side follows the camera's zoom, so a person at the same distance has the same size
in every crop; the skeletons are in the crop's coordinates (0..1). Beside them (scene.py): the
person's soft mask per crop, each frame's camera, and the background without the person.

    python VideoSkeleton.py ../shared/data/taichi2.mp4                 # build or reuse the cache
    python VideoSkeleton.py VIDEO --every 2 --crop-size 128 --force    # one frame in 2, recompute
    python VideoSkeleton.py VIDEO false 1                              # the course's form still works
"""
import argparse
import collections
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

import scene
import video_io
from paths import CACHE_ROOT, shown_path
from Skeleton import N_LANDMARKS, PoseDetector, Skeleton, centred_filter, torso_lengths

CACHE_FORMAT = 2  # bump when the cache's layout or crop rule changes: old caches are rebuilt
CROP_MARGIN = 1.15  # crop side = this x the person's largest extent over the video (at one zoom)
SMALL_PERSON = 0.5  # a detection whose torso is under this x the video's median torso is dropped
DETECTION_WORKERS = 2  # processes running MediaPipe at once (at most one per core)
CROP_THREADS = 4  # at most this many threads crop (beyond a few, the one decoding thread is the limit)
MIN_FRAMES_PER_WORKER = 150  # shorter videos are not worth starting worker processes for
VALIDATION_FRACTION = 0.1  # the last 10 % of the kept frames, in time order, are held out


class VideoSkeletonError(Exception):
    """Bad input or an unusable video; the message is one line meant for the user."""


def file_hash(path, chunk_size=1 << 22):
    """SHA-1 of the file's bytes: the cache follows the video's content, not its name."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def person_box(skeleton, frame_size):
    """(x_min, y_min, x_max, y_max) in pixels of the whole person, the top of the head included.

    MediaPipe's highest landmarks are the eyes; the skull reaches about as far above the nose
    as 0.7 x the nose-to-shoulders distance.
    """
    width, height = frame_size
    xy = skeleton.landmarks[:, :2] * (width, height)
    shoulders = (xy[11] + xy[12]) / 2
    head_top = xy[0][1] - 0.7 * abs(shoulders[1] - xy[0][1])
    x_min, y_min = xy.min(axis=0)
    x_max, y_max = xy.max(axis=0)
    return x_min, min(y_min, head_top), x_max, y_max


def smooth_track(values, window):
    """Centred moving average of a (N, D) track, so crops glide with the person instead of shaking."""
    if len(values) < 2 or window < 2:
        return values
    half = window // 2
    return centred_filter(np.asarray(values, dtype=np.float64), np.full(2 * half + 1, 1 / (2 * half + 1)))


def crop_square(frame, x0, y0, side, out_size):
    """The side x side square at (x0, y0), black where it leaves the frame, resized to out_size."""
    x0, y0, side = int(round(x0)), int(round(y0)), int(round(side))
    height, width = frame.shape[:2]
    square = np.zeros((side, side, 3), dtype=np.uint8)
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + side, width), min(y0 + side, height)
    if fx1 > fx0 and fy1 > fy0:
        square[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0] = frame[fy0:fy1, fx0:fx1]
    interpolation = cv2.INTER_AREA if side > out_size else cv2.INTER_LINEAR
    return cv2.resize(square, (out_size, out_size), interpolation=interpolation)


def split_indices(n_frames, validation_fraction=VALIDATION_FRACTION):
    """(train indices, validation indices): the validation part is the contiguous last 10 %.

    A random split would put near-identical neighbouring frames on both sides and flatter the model.
    """
    n_validation = max(1, int(round(n_frames * validation_fraction))) if n_frames > 1 else 0
    return list(range(n_frames - n_validation)), list(range(n_frames - n_validation, n_frames))


class VideoSkeleton:
    """The skeletons, person crops and masks of one video and its scene, built once and then loaded
    from the cache.

    `VideoSkeleton(path)` takes a video (cache built or reused) or a cache folder. Index i runs
    over the kept frames where a person was found, in time order.
    """

    def __init__(self, video_path, every=1, crop_size=256, force=False, cache_root=CACHE_ROOT, verbose=True):
        path = Path(video_path)
        self.path_given = str(video_path)  # the video or cache folder as the user gave it, for messages
        self.built = False  # True when this call (re)built the cache
        if path.is_dir():
            self.cache_dir = path
        else:
            if not path.is_file():
                raise VideoSkeletonError(f"no such video: {video_path}")
            if every < 1 or crop_size < 16:
                raise VideoSkeletonError("--every must be >= 1 and --crop-size >= 16")
            self.cache_dir = cache_folder(path, every, crop_size, cache_root)
            if force or not is_complete(self.cache_dir):
                remove_older_formats(self.cache_dir, verbose)
                build_cache(path, self.cache_dir, every, crop_size, verbose)
                self.built = True
            elif verbose:
                print(f"reusing cache {shown_path(self.cache_dir)}")
        self._load()

    def _load(self):
        if not is_complete(self.cache_dir):
            older = cache_format(self.cache_dir)
            if older is not None and older != CACHE_FORMAT:
                raise VideoSkeletonError(f"{self.cache_dir} is a cache of format {older}, this version reads "
                                         f"format {CACHE_FORMAT}: rebuild it from its video")
            raise VideoSkeletonError(f"not a complete VideoSkeleton cache: {self.cache_dir}")
        self.meta = json.loads((self.cache_dir / "meta.json").read_text())
        self.skeletons = np.load(self.cache_dir / "skeletons.npy")  # (N, 33, 4) in crop coordinates
        self.images = np.load(self.cache_dir / "crops.npy", mmap_mode="r")  # (N, S, S, 3) uint8 BGR
        self.masks = np.load(self.cache_dir / "masks.npy", mmap_mode="r")  # (N, S, S) uint8, person 255
        self.fps = self.meta["fps"]
        self.crop_size = self.meta["crop_size"]
        self.video_path = self.meta["source_path"]
        self.name = self.cache_dir.name
        self._scene = None

    def __len__(self):
        return len(self.skeletons)

    def skeleton(self, i):
        return Skeleton(self.skeletons[i])

    def image(self, i):
        """The person crop of kept frame i, crop_size x crop_size x 3 uint8 BGR."""
        return np.array(self.images[i])

    def mask(self, i):
        """The person's soft mask in the crop of kept frame i, crop_size x crop_size uint8 (255: person)."""
        return np.array(self.masks[i])

    def frame_index(self, i):
        return self.meta["frame_indices"][i]

    def crop_box(self, i):
        """(x0, y0, side) of kept frame i's crop, in pixels of the video's frames."""
        return tuple(self.meta["crop_boxes"][i])

    def scene(self):
        """The background, cameras and overlays (scene.Scene) of this video, loaded once."""
        if self._scene is None:
            self._scene = scene.Scene(self.cache_dir)
        return self._scene

    def view(self, i):
        """The scene.View of kept frame i's crop: its camera (that of the nearest registered frame
        if i was not registered; None if the scene is not registrable) and its crop box."""
        the_scene = self.scene()
        camera = the_scene.camera_near(i) if the_scene.registrable else None
        return scene.View(camera, self.crop_box(i))

    def typical_view(self):
        """The View of the training frame nearest the median training view: where a transfer is
        shown by default, and what `generate(skeleton)` draws over when no view is asked."""
        train_ids, _ = split_indices(len(self))
        frame = self.scene().typical_frame(train_ids) if self.scene().registrable else None
        return self.view(train_ids[len(train_ids) // 2] if frame is None else frame)

    def backgrounds(self, views, size):
        """(N, size, size, 3) uint8: the scene behind each View's crop (the typical view where a
        view is None); None if the scene is not registrable."""
        if not self.scene().registrable:
            return None
        typical = self.typical_view()
        return np.stack([self.scene().render_view(view or typical, size) for view in views])

    def over_scene(self, person, alpha, views=None):
        """Generated persons (N, S, S, 3) uint8 with their alphas (N, S, S) in [0, 1] drawn over the
        scene of their views (the typical view where None): (N, S, S, 3) uint8. alpha None (a
        generator that does not composite): the persons as they are."""
        if alpha is None or not self.scene().registrable:
            return person
        views = [None] * len(person) if views is None else views
        return scene.composite(person, alpha, self.backgrounds(views, person.shape[1]))

    def reduced(self):
        """All reduced skeletons as (N, 26) float32."""
        from Skeleton import REDUCED_LANDMARKS
        return self.skeletons[:, list(REDUCED_LANDMARKS), :2].reshape(len(self), -1).copy()

    def summary(self):
        m = self.meta
        sides = [box[2] for box in m["crop_boxes"]]
        side = f"{min(sides):.0f}" if max(sides) - min(sides) < 1 else f"{min(sides):.0f}-{max(sides):.0f}"
        return (f"{m['source_path']}: {m['n_frames_read']} frames read (every {m['every']}), "
                f"person in {len(self)}, no person in {len(m['missing_frames'])}, "
                f"dropped as too small {len(m['small_frames'])}; crops {self.crop_size}x{self.crop_size} "
                f"from {side} px squares; cache {shown_path(self.cache_dir)}\n{scene_summary(m['scene'])}")


def cache_folder(video_path, every, crop_size, cache_root=CACHE_ROOT):
    """data/cache/<video name>-<hash of content and parameters>."""
    return Path(cache_root) / f"{Path(video_path).stem}-{cache_folder_key(file_hash(video_path), every, crop_size)}"


def cache_folder_key(content_sha1, every, crop_size):
    key = f"{content_sha1}-every{every}-crop{crop_size}-format{CACHE_FORMAT}"
    return hashlib.sha1(key.encode()).hexdigest()[:10]


def is_complete(cache_dir):
    """A cache counts only when its metadata says it is complete and its arrays agree with it."""
    cache_dir = Path(cache_dir)
    try:
        meta = json.loads((cache_dir / "meta.json").read_text())
        n, size = len(meta["frame_indices"]), meta["crop_size"]
        skeletons = np.load(cache_dir / "skeletons.npy", mmap_mode="r")
        crops = np.load(cache_dir / "crops.npy", mmap_mode="r")
        masks = np.load(cache_dir / "masks.npy", mmap_mode="r")
        cameras = np.load(cache_dir / "cameras.npy", mmap_mode="r")
        scene_files = all((cache_dir / name).is_file() for name in SCENE_IMAGES)
        return (meta.get("format") == CACHE_FORMAT and skeletons.shape == (n, N_LANDMARKS, 4)
                and crops.shape == (n, size, size, 3) and masks.shape == (n, size, size)
                and cameras.shape == (n, 3, 3) and scene_files)
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        return False


def cache_format(cache_dir):
    """The format number a cache folder says it has, or None."""
    try:
        return json.loads((Path(cache_dir) / "meta.json").read_text()).get("format")
    except (OSError, ValueError, AttributeError):
        return None


def remove_older_formats(cache_dir, verbose):
    """Delete caches of the same video and settings made by an older version, saying so in one line."""
    stem = cache_dir.name.rsplit("-", 1)[0]
    for other in cache_dir.parent.glob(f"{stem}-*"):
        old = cache_format(other)
        if other != cache_dir and old is not None and old != CACHE_FORMAT and same_source(other, cache_dir):
            if verbose:
                print(f"cache {other} has format {old}, this version needs {CACHE_FORMAT}: rebuilding it")
            shutil.rmtree(other, ignore_errors=True)


def same_source(old_dir, new_dir):
    """True when an old cache was made from the same video content with the same settings."""
    old = json.loads((old_dir / "meta.json").read_text())
    key = new_dir.name
    return cache_folder_key(old["content_sha1"], old["every"], old["crop_size"]) == key.rsplit("-", 1)[1]


def detect_range(video_path, every, start, stop, on_frame=None):
    """MediaPipe (video mode, with its person mask) on the kept frames with start <= index < stop:
    {index: ((33, 4) landmarks, scene.Observation) or None}. `on_frame()` is called after each
    frame (progress)."""
    found = {}
    with PoseDetector(video=True, segmentation=True) as detector:
        for index, frame in video_io.iter_frames(video_path, every, start=start):
            if index >= stop:
                break
            skeleton, mask = detector.detect_with_mask(frame)
            found[index] = None if skeleton is None else (skeleton.landmarks, scene.observe(frame, mask))
            if on_frame is not None:
                on_frame()
    return found


_counter = None  # frames done, shared by the detection workers


def _start_worker(counter):
    """Workers leave Ctrl-C to the parent, which stops them all and cleans up."""
    global _counter
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _counter = counter


def _count_frame():
    with _counter.get_lock():
        _counter.value += 1


def _detect_range_in_worker(video_path, every, start, stop):
    return detect_range(video_path, every, start, stop, _count_frame)


def detect_skeletons(video_path, every, verbose, workers=None):
    """Pass 1: MediaPipe on every kept frame.

    MediaPipe keeps about one core busy, so a long video is cut into one contiguous part per core,
    each tracked by its own detector in its own process (decoding overlaps with detection in a
    thread in each). Returns (video info, {frame index: (Skeleton in frame coordinates,
    scene.Observation) or None}).
    """
    info = video_io.video_info(video_path)
    expected = (info.n_frames + every - 1) // every if info.n_frames > 0 else None
    workers = workers or min(os.cpu_count() or 1, DETECTION_WORKERS)
    if expected is None or expected < MIN_FRAMES_PER_WORKER * workers:
        workers = 1
    bar = tqdm(total=expected, desc="detecting poses", unit="frame", disable=None if verbose else True)
    if verbose and bar.disable:  # not a terminal: one line per stage instead of a bar
        print(f"detecting poses in {shown_path(video_path)}", flush=True)
    if workers == 1:
        found = detect_range(video_path, every, 0, sys.maxsize, bar.update)
    else:
        found = detect_in_parallel(video_path, every, info.n_frames, workers, bar)
    bar.close()
    if not found:
        raise VideoSkeletonError(f"no frame could be decoded from {video_path}")
    return info, {i: None if seen is None else (Skeleton(seen[0]), seen[1]) for i, seen in sorted(found.items())}


def detect_in_parallel(video_path, every, n_frames, workers, bar):
    """detect_range over `workers` contiguous parts of the video in worker processes."""
    context = multiprocessing.get_context("spawn")  # fork would copy a running MediaPipe (if any) and break
    counter = context.Value("i", 0)
    bounds = [round(n_frames * k / workers) for k in range(workers)] + [sys.maxsize]  # last part to the end
    pool = context.Pool(workers, initializer=_start_worker, initargs=(counter,))
    try:
        parts = [pool.apply_async(_detect_range_in_worker, (str(video_path), every, start, stop))
                 for start, stop in zip(bounds[:-1], bounds[1:])]
        while not all(part.ready() for part in parts):
            time.sleep(0.2)
            bar.update(counter.value - bar.n)
        bar.update(counter.value - bar.n)
        found = {}
        for part in parts:
            found.update(part.get())
        pool.close()
        return found
    finally:
        pool.terminate()
        pool.join()


def plan_crops(info, detections, crop_size, crop_margin=CROP_MARGIN):
    """Keep plausible detections, register the camera of each, and give each a square crop.

    Drops detections much smaller than the video's typical person (a thumbnail in a transition
    graphic, a poster on the wall). The side follows the camera's zoom, so a person at the same
    distance has the same size in every crop, and covers the person's extent in 98 % of frames;
    the centres follow the person, smoothed over half a second. Returns a CropPlan.
    """
    found = {i: seen for i, seen in detections.items() if seen is not None}
    if not found:
        raise VideoSkeletonError(f"no person detected in any frame of {info.path}")
    torsos = dict(zip(found, torso_lengths(np.stack([s.landmarks for s, _ in found.values()]))))
    median_torso = np.median(list(torsos.values()))
    kept = sorted(i for i in found if torsos[i] >= SMALL_PERSON * median_torso)
    cameras, report, overlay = scene.register([found[i][1] for i in kept])  # (N, 3, 3) working pixels
    boxes = np.array([person_box(found[i][0], (info.width, info.height)) for i in kept])  # (N, 4)
    extent = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    zoom = camera_zoom(cameras, report)  # (N,) frame pixels -> reference pixels
    every = kept[1] - kept[0] if len(kept) > 1 else 1
    window = max(1, int(round(info.fps / 2 / every)))
    side_in_reference = float(np.percentile(extent * zoom, 98) * crop_margin)
    sides = np.exp(smooth_track(np.log(side_in_reference / zoom)[:, None], window))[:, 0]
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)
    centres = smooth_track(centres, window)
    crop_boxes = [(float(cx - side / 2), float(cy - side / 2), float(side)) for (cx, cy), side in zip(centres, sides)]
    return CropPlan(kept=kept, small=sorted(set(found) - set(kept)),
                    missing=sorted(i for i, seen in detections.items() if seen is None),
                    crop_boxes=crop_boxes, skeletons={i: found[i][0] for i in kept},
                    observations={i: found[i][1] for i in kept}, cameras=cameras, scene_report=report,
                    overlay=overlay)


def camera_zoom(cameras, report):
    """(N,) each kept frame's zoom against the reference view, for the crop sides: 1 everywhere
    when the camera could not be registered; frames between registered ones take the zoom of their
    neighbours in time (their camera stays unknown)."""
    zoom = scene.zoom(cameras)
    registered = np.isfinite(zoom)
    if report["camera"] == scene.NOT_REGISTRABLE or not registered.any():
        return np.ones(len(cameras))
    positions = np.arange(len(cameras))
    return np.interp(positions, positions[registered], zoom[registered])


@dataclass
class CropPlan:
    kept: list  # frame indices with a person of plausible size, in time order
    small: list  # frame indices whose person was dropped as too small
    missing: list  # frame indices with no person
    crop_boxes: list  # per kept frame, (x0, y0, side) in frame pixels
    skeletons: dict  # frame index -> Skeleton in frame coordinates
    observations: dict  # frame index -> scene.Observation
    cameras: np.ndarray  # (N, 3, 3) working pixels of each kept frame -> reference working pixels
    scene_report: dict
    overlay: np.ndarray  # (th, tw) bool, burned-in overlays (empty unless the camera moves)


def remove_abandoned_partials(cache_dir):
    """Delete half-written folders of this cache left by runs that were killed (their process is gone)."""
    for partial in cache_dir.parent.glob(f".{cache_dir.name}.partial-*"):
        pid = partial.name.rsplit("-", 1)[-1]
        try:
            os.kill(int(pid), 0)  # still running: leave it alone
        except (ValueError, ProcessLookupError):
            shutil.rmtree(partial, ignore_errors=True)
        except PermissionError:
            pass


SCENE_IMAGES = ("background.png", "background_unseen.png", "overlay.png")


def build_cache(video_path, cache_dir, every, crop_size, verbose=True):
    """Detect and register (pass 1), plan the crops, then crop frames and masks and build the
    background (pass 2), into a temporary folder that is renamed into place only when complete, so
    an interrupted run never leaves a usable-looking cache."""
    started = time.time()
    cache_dir = Path(cache_dir)
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_partials(cache_dir)
    partial_dir = cache_dir.with_name(f".{cache_dir.name}.partial-{os.getpid()}")
    try:
        info, detections = detect_skeletons(video_path, every, verbose)
        plan = plan_crops(info, detections, crop_size)
        partial_dir.mkdir()
        frame_size = (info.width, info.height)
        skeletons = np.stack([plan.skeletons[i].to_crop(box, frame_size).landmarks
                              for i, box in zip(plan.kept, plan.crop_boxes)])
        np.save(partial_dir / "skeletons.npy", skeletons.astype(np.float32))
        mosaic = crop_frames(video_path, every, plan, crop_size, frame_size, partial_dir, len(detections), verbose)
        background, never_seen, overlay_image, overlay_mask = mosaic.finish()
        cv2.imwrite(str(partial_dir / "background.png"), background)
        cv2.imwrite(str(partial_dir / "background_unseen.png"), never_seen.astype(np.uint8) * 255)
        cv2.imwrite(str(partial_dir / "overlay.png"), np.dstack([overlay_image, overlay_mask.astype(np.uint8) * 255]))
        cameras = np.stack([mosaic.canvas_camera(c) for c in plan.cameras])  # frame px -> background px
        if plan.scene_report["camera"] == scene.NOT_REGISTRABLE:  # the background is a still plate
            cameras[:] = np.nan
        np.save(partial_dir / "cameras.npy", cameras)
        meta = cache_metadata(video_path, info, every, crop_size, detections, plan)
        meta["scene"] = dict(plan.scene_report, reference_frame=plan.kept[plan.scene_report["reference"]],
                             frame_size=list(frame_size), background_size=list(background.shape[1::-1]),
                             background_scale=round(mosaic.scale, 4), mosaic_frames=len(mosaic.samples),
                             residual=round(mosaic.residual, 2),
                             never_seen=round(float(never_seen.mean()), 4))
        del meta["scene"]["reference"]
        meta["seconds_to_build"] = round(time.time() - started, 2)
        (partial_dir / "meta.json").write_text(json.dumps(meta, indent=1))
        if cache_dir.exists():
            shutil.rmtree(cache_dir)
        os.rename(partial_dir, cache_dir)
    except video_io.VideoError as error:
        raise VideoSkeletonError(str(error)) from None
    finally:
        shutil.rmtree(partial_dir, ignore_errors=True)


def crop_frames(video_path, every, plan, crop_size, frame_size, out_dir, n_frames, verbose):
    """Pass 2: write each kept frame's crop and mask crop (crops.npy, masks.npy) and hand the
    training frames that vote for the background to a scene.MosaicBuilder, which is returned.
    Frames are decoded in one thread and cropped in a few others, a few frames ahead at most."""
    n = len(plan.kept)
    crops = np.lib.format.open_memmap(out_dir / "crops.npy", mode="w+", dtype=np.uint8, shape=(n, crop_size, crop_size, 3))
    masks = np.lib.format.open_memmap(out_dir / "masks.npy", mode="w+", dtype=np.uint8, shape=(n, crop_size, crop_size))
    train, _ = split_indices(n)
    # A video that cannot be registered gets a still plate: every frame voting as if the camera stood still.
    cameras = plan.cameras if plan.scene_report["camera"] != scene.NOT_REGISTRABLE else np.tile(np.eye(3), (n, 1, 1))
    registered = [k for k in train if np.isfinite(cameras[k]).all()]
    voters = set(np.array(registered)[np.linspace(0, len(registered) - 1, min(len(registered), scene.MOSAIC_FRAMES))
                                      .round().astype(int)].tolist())
    median_side = float(np.median([box[2] for box in plan.crop_boxes]))
    mosaic = scene.MosaicBuilder(cameras[sorted(voters)], frame_size, median_side, crop_size, plan.overlay)
    position_of = {index: k for k, index in enumerate(plan.kept)}
    to_work = scene.resizing(scene.work_scale(frame_size))
    frames = tqdm(video_io.iter_frames(video_path, every), total=n_frames, desc="cropping", unit="frame",
                  disable=None if verbose else True)
    if verbose and frames.disable:  # not a terminal: one line per stage instead of a bar
        print("cropping the person and building the background", flush=True)

    def crop(k, index, frame):
        """Kept frame k's crop and mask crop, and its layers for the background if it votes; run
        in worker threads (OpenCV lets the others run meanwhile)."""
        box = plan.crop_boxes[k]
        crops[k] = crop_square(frame, *box, crop_size)
        crop_to_mask = to_work @ scene.crop_matrix(box, crop_size)  # crop pixels -> working pixels
        masks[k] = cv2.warpAffine(plan.observations[index].mask, crop_to_mask[:2], (crop_size, crop_size),
                                  flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        return mosaic.warped(frame, plan.observations[index].mask, cameras[k]) if k in voters else None

    def collect_oldest():
        task, frame = in_flight.popleft()
        layers = task.result()
        if layers is not None:
            mosaic.collect(layers, frame)

    threads = min(os.cpu_count() or 1, CROP_THREADS)
    in_flight = collections.deque()  # (task, frame), oldest first; a few at a time, so frames do not pile up
    with ThreadPoolExecutor(threads) as pool:
        for index, frame in frames:
            k = position_of.pop(index, None)
            if k is None:
                continue
            in_flight.append((pool.submit(crop, k, index, frame), frame))
            if len(in_flight) > 2 * threads:
                collect_oldest()
        while in_flight:
            collect_oldest()
    if position_of:
        raise VideoSkeletonError(f"{video_path} decoded differently on the second pass")
    crops.flush()
    masks.flush()
    return mosaic


def cache_metadata(video_path, info, every, crop_size, detections, plan):
    import mediapipe
    return {
        "format": CACHE_FORMAT,
        "source_path": str(Path(video_path).resolve()),
        "content_sha1": file_hash(video_path),
        "every": every,
        "crop_size": crop_size,
        "fps": info.fps / every,
        "video_fps": info.fps,
        "frame_size": [info.width, info.height],
        "n_frames_read": len(detections),
        "frame_indices": plan.kept,
        "missing_frames": plan.missing,
        "small_frames": plan.small,
        "crop_boxes": [[round(v, 2) for v in box] for box in plan.crop_boxes],
        "versions": {"mediapipe": mediapipe.__version__, "opencv": cv2.__version__, "numpy": np.__version__},
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def scene_summary(report):
    """One line on the scene: what camera was found and how well its background fits."""
    counts = f"{report['registered']} of {report['frames']} kept frames registered"
    views = report["views"] if report["camera"] == scene.STILL else report["shots"]
    shots = f", {views} {'views' if report['camera'] == scene.STILL else 'shots'}" if views > 1 else ""
    if report["camera"] == scene.NOT_REGISTRABLE:
        return (f"scene: not registrable ({counts}): crops keep one size and the background is a still "
                f"plate, as for a still camera")
    return (f"scene: {report['camera']} ({counts}{shots}); background residual {report['residual']:.1f} "
            f"grey levels, {100 * report['never_seen']:.0f} % of it never uncovered (inpainted)")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        description="Detect the person's skeleton in every kept frame of a video, crop the person, "
                    "and cache both under data/cache/ for the generators.",
        epilog="The course form `VideoSkeleton.py TARGET [force_compute] [frame_mod]` is accepted too.")
    parser.add_argument("target", help="target video (mp4, avi, mov, ...: one person), or its cache folder")
    parser.add_argument("legacy", nargs="*", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--every", type=int, default=1, help="keep one frame in N (default 1: all)")
    parser.add_argument("--crop-size", type=int, default=256, help="side of the square person crop in pixels (default 256)")
    parser.add_argument("--force", action="store_true", help="recompute even if a matching cache exists")
    parser.add_argument("--cache-root", default=str(CACHE_ROOT), help="where caches live (default data/cache)")
    args = parser.parse_args(argv)
    if len(args.legacy) > 2:
        parser.error("expected at most two course-style arguments: force_compute frame_mod")
    if args.legacy:
        flag = args.legacy[0].lower()
        if flag not in ("true", "false", "1", "0"):
            parser.error(f"force_compute must be true or false, not {args.legacy[0]!r}")
        args.force = args.force or flag in ("true", "1")
    if len(args.legacy) == 2:
        if not args.legacy[1].isdigit():
            parser.error(f"frame_mod must be a whole number, not {args.legacy[1]!r}")
        args.every = int(args.legacy[1])
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        video_skeleton = VideoSkeleton(args.target, args.every, args.crop_size, args.force, args.cache_root)
    except VideoSkeletonError as error:
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        print("interrupted: no cache was written", file=sys.stderr)
        sys.exit(130)  # 128 + SIGINT, as shells report Ctrl-C
    print(video_skeleton.summary())
    if video_skeleton.built:
        seconds = video_skeleton.meta["seconds_to_build"]
        print(f"built in {seconds:.1f} s ({video_skeleton.meta['n_frames_read'] / seconds:.1f} frames/s)")


if __name__ == "__main__":
    main()
