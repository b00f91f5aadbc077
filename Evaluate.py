"""Measure the generators of one target, every figure as ../shared/EVALUATION.md defines it.

On the target's held-out validation frames (the last 10 %, never trained on) each generator is
given each frame's own skeleton and view (camera and crop box, so the person is drawn over that
frame's background), and its output is compared with the real crop at the generator's resolution
(section 1: SSIM, and its map over the real crop's person region and over the rest, PSNR, L1;
section 2: whether MediaPipe finds the asked pose in it, in pixels of a 256x256 crop). The same
frames played in time order and generated as DanceDemo.py generates a sequence give section 3's
tOF, pose-jitter ratio and flicker ratio against the real sequence. The real crops are read the
same way: the "real" rows are the references a perfect generator would reach. With --transfer,
the smoothness of a DanceDemo output (section 4): pose jitter beside the driving poses' (and the
frames that shake most) and beside the real performer's, read the same way in the source video framed
as the generated person (what a perfect transfer of those moves would read), flicker, and the
background steadiness of its scene video against the real target video.

    python Evaluate.py ../shared/data/taichi2.mp4        # every generator that has a default checkpoint
    python Evaluate.py ../shared/data/taichi2.mp4 --gen nearest --gen gan --checkpoint gan=data/models/taichi2-3a68617516/gan-256.pt
    python Evaluate.py data/cache/taichi2-3a68617516 --gen 1 --max-frames 30 --save-pairs out/pairs  # first 30
    python Evaluate.py ../shared/data/taichi2.mp4 --gen none --transfer out/karate1_to_taichi2_nearest.mp4

Writes results.json, results.md, comparison.png and metrics.png (and transfer.json) into --out
(default out/eval/<target cache name>/).
"""
import argparse
import itertools
import json
import math
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import structural_similarity
from tqdm import tqdm

import scene
import video_io
from DanceDemo import output_paths, scene_paths
from generators import GeneratorError, all_names, described, entry_of, load_generator, parse_checkpoints
from paths import OUT_ROOT, shown_path
from Skeleton import REDUCED_LANDMARKS, PoseDetector
from training import INTERRUPTED, CheckpointError, resize_crop, split_indices
from video_io import image_grid
from VideoSkeleton import VideoSkeleton, VideoSkeletonError, crop_square

POSE_SIZE = 256  # pose figures are in pixels of a 256x256 crop; smaller images are upscaled to it
FLOW_SIZE = 256  # tOF: optical flow on grey 256x256 images, in pixels of 256
TILE = 192  # side of one image in comparison.png
N_SHOWN = 4  # validation frames shown in comparison.png
BATCH_SIZE = 16  # poses per generate_batch call


class EvaluateError(Exception):
    """Bad input; the message is one line meant for the user."""


# --- the figures of one image pair, one track, one frame sequence --------------------------------------
def unit_rgb(image):
    """uint8 BGR (H, W, 3) -> float64 RGB in [0, 1]: the form every image figure is computed on."""
    return image[..., ::-1].astype(np.float64) / 255


def ssim(image, reference):
    """SSIM of two uint8 BGR images of one size: Gaussian window (sigma 1.5), K1 0.01, K2 0.03,
    data range 1, mean over the RGB channels (exactly scikit-image's call in EVALUATION.md)."""
    return float(structural_similarity(unit_rgb(image), unit_rgb(reference), channel_axis=-1, gaussian_weights=True,
                                       sigma=1.5, use_sample_covariance=False, data_range=1))


def ssim_map(image, reference):
    """(H, W) SSIM map of two uint8 BGR images with `ssim`'s settings, averaged over channels (the
    whole map: `ssim` itself leaves out a border of the window's half width)."""
    _, full = structural_similarity(unit_rgb(image), unit_rgb(reference), channel_axis=-1, gaussian_weights=True,
                                    sigma=1.5, use_sample_covariance=False, data_range=1, full=True)
    return full.mean(axis=-1)


def dilated(person, side):
    """(H, W) bool: a person mask grown by 1/32 of `side` (the crop's side), as EVALUATION.md's
    person region is, so that the person's edge and halo count as person."""
    radius = max(1, int(round(side / 32)))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    return cv2.dilate(np.asarray(person, np.uint8), disk) > 0


def upscaled_for_pose(image):
    """A square image upscaled to 256x256 if smaller: what MediaPipe reads in every figure."""
    if image.shape[0] >= POSE_SIZE:
        return image
    return cv2.resize(image, (POSE_SIZE, POSE_SIZE), interpolation=cv2.INTER_CUBIC)


def region_of_mask(mask, size):
    """(size, size) bool: the person region from MediaPipe's segmentation mask of a crop (any
    size, float 0..1, or None when nobody was found: all False)."""
    if mask is None:
        return np.zeros((size, size), bool)
    person = cv2.resize((mask > 0.5).astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
    return dilated(person, size)


def person_region(segmenter, real_crop):
    """(H, W) bool: EVALUATION.md's person region of a real crop: MediaPipe's segmentation (static
    image mode) of the crop upscaled to 256x256 if smaller, above 0.5, dilated by 1/32 of the side.
    `segmenter` is a PoseDetector(video=False, segmentation=True). All False if nobody is found."""
    _, mask = segmenter.detect_with_mask(upscaled_for_pose(real_crop))
    return region_of_mask(mask, real_crop.shape[0])


def region_ssim(image, reference, person):
    """(person SSIM, background SSIM): the SSIM map averaged inside and outside the person region;
    NaN for an empty region."""
    full = ssim_map(image, reference)
    return (float(full[person].mean()) if person.any() else math.nan,
            float(full[~person].mean()) if (~person).any() else math.nan)


def psnr(image, reference):
    """Peak signal-to-noise ratio in dB of two uint8 BGR images, RGB in [0, 1]; inf if identical."""
    mse = np.mean((unit_rgb(image) - unit_rgb(reference)) ** 2)
    return math.inf if mse == 0 else float(10 * np.log10(1 / mse))


def l1(image, reference):
    """Mean absolute error of two uint8 BGR images, RGB in [0, 1]."""
    return float(np.abs(unit_rgb(image) - unit_rgb(reference)).mean())


def detect_pose(detector, image):
    """The skeleton MediaPipe finds in a square uint8 BGR image (coordinates 0..1 of it), or None.
    Images smaller than 256x256 are upscaled to it first, as EVALUATION.md asks."""
    return detector.detect(upscaled_for_pose(image))


def detected_track(detector, images):
    """(T, 13, 2) joints in px of 256 that MediaPipe finds in each image, NaN where it finds none."""
    return pose_track([detect_pose(detector, image) for image in images])


def pose_error(given, detected):
    """Mean Euclidean distance over the 13 reduced joints of two skeletons of one square image,
    in pixels of a 256x256 crop."""
    return given.distance(detected) * POSE_SIZE


def jitter_by_frame(track):
    """(T,) the mean over joints of |x[t+1] - 2 x[t] + x[t-1]| (Euclidean) at each frame t of a (T, J, 2)
    track: NaN at the first and last frames and wherever t or a neighbour is not detected (NaN)."""
    track = np.asarray(track, dtype=np.float64)
    by_frame = np.full(len(track), np.nan)
    if len(track) >= 3:
        acceleration = np.linalg.norm(track[2:] - 2 * track[1:-1] + track[:-2], axis=-1)  # (T-2, J)
        by_frame[1:-1] = acceleration.mean(axis=1)  # NaN where a joint is
    return by_frame


def jitter(track):
    """Mean over joints and frames of |x[t+1] - 2 x[t] + x[t-1]| (Euclidean) of a (T, J, 2) track.

    Frames with NaN (nobody detected) break the track: only frames whose both neighbours are
    detected count. In the track's own unit; NaN when no three consecutive frames are detected.
    """
    by_frame = jitter_by_frame(track)
    counted = np.isfinite(by_frame)
    return float(by_frame[counted].mean()) if counted.any() else math.nan


def flicker(frames):
    """Mean absolute difference between consecutive uint8 frames, on the 0-255 scale; NaN for
    fewer than two frames. Takes any iterable, one frame in memory at a time."""
    total, count, previous = 0.0, 0, None
    for frame in frames:
        frame = np.asarray(frame, dtype=np.int16)
        if previous is not None:
            total += np.abs(frame - previous).mean()
            count += 1
        previous = frame
    return total / count if count else math.nan


def pose_track(skeletons):
    """(T, 13, 2) joints in px of a 256x256 crop of the skeletons detected in a sequence (each a
    Skeleton or None), NaN where nobody was found: what `jitter` reads."""
    missing = np.full((len(REDUCED_LANDMARKS), 2), np.nan)
    track = [missing if skeleton is None else skeleton.joints() * POSE_SIZE for skeleton in skeletons]
    return np.array(track, dtype=np.float64).reshape(-1, len(REDUCED_LANDMARKS), 2)  # (0, 13, 2) for none


# --- the temporal figures of a generated sequence against the real one (EVALUATION.md section 3) ------
def grey_for_flow(image):
    """uint8 BGR (S, S, 3) -> grey (256, 256) uint8: what the optical flow of tOF is computed on."""
    interpolation = cv2.INTER_AREA if image.shape[0] > FLOW_SIZE else cv2.INTER_CUBIC
    return cv2.cvtColor(cv2.resize(image, (FLOW_SIZE, FLOW_SIZE), interpolation=interpolation), cv2.COLOR_BGR2GRAY)


def optical_flows(frames):
    """(256, 256, 2) Farneback flow (px of 256) from each frame to the next, one pair at a time."""
    previous = None
    for frame in frames:
        grey = grey_for_flow(frame)
        if previous is not None:
            yield cv2.calcOpticalFlowFarneback(previous, grey, None, pyr_scale=0.5, levels=3, winsize=15,
                                               iterations=3, poly_n=5, poly_sigma=1.2, flags=0)
        previous = grey


def tof(generated, real):
    """Temporal optical-flow error of a generated sequence against the real one, both (T, S, S, 3)
    uint8: mean over consecutive pairs and pixels of |flow(G[t], G[t+1]) - flow(R[t], R[t+1])|, in
    px of 256. 0 for a perfect copy; NaN for fewer than two frames."""
    if len(generated) != len(real):
        raise ValueError(f"tof compares sequences of one length, not {len(generated)} and {len(real)} frames")
    differences = [np.linalg.norm(flow_generated - flow_real, axis=-1).mean()
                   for flow_generated, flow_real in zip(optical_flows(generated), optical_flows(real))]
    return float(np.mean(differences)) if differences else math.nan


def ratio(value, reference):
    """value / reference, NaN where either is missing or the reference is 0."""
    if not (math.isfinite(value) and math.isfinite(reference)) or reference == 0:
        return math.nan
    return value / reference


def flicker_ratio(generated, real):
    """Mean |G[t+1] - G[t]| over mean |R[t+1] - R[t]|: 1.0 moves as much as the real frames, above 1
    flickers, far below 1 is frozen."""
    return ratio(flicker(generated), flicker(real))


def pose_jitter_ratio(generated_track, real_track):
    """Jitter of the poses read in the generated sequence over that of the poses read in the real
    one, (T, 13, 2) tracks with NaN where nobody was found: 1.0 shakes like the detector on real frames."""
    return ratio(jitter(generated_track), jitter(real_track))


# --- the scene model against a synthetic ground truth ------------------------------------------------
def registration_errors(cameras, true_cameras, reference, frame_size):
    """(M,) mean displacement in pixels of the frame's corners between each registered camera and
    the true one, both taken relative to position `reference`: cameras (N, 3, 3) map frame pixels
    to background pixels (NaN where unregistered), true_cameras (N, 3, 3) frame pixels to the room's."""
    width, height = frame_size
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    errors = []
    for camera, true in zip(cameras, true_cameras):
        if np.isfinite(camera).all():
            estimated = np.linalg.inv(cameras[reference]) @ camera
            exact = np.linalg.inv(true_cameras[reference]) @ true
            errors.append(np.linalg.norm(scene.apply(estimated, corners) - scene.apply(exact, corners), axis=1).mean())
    return np.array(errors)


def mosaic_error(background, never_seen, reference_camera, true_reference_camera, room):
    """(mean absolute error 0-255, share of the background compared): the background against the
    true empty room brought to its pixels, over what the background saw (one pixel in from edges)."""
    room_to_background = reference_camera @ np.linalg.inv(true_reference_camera)
    shrink = min(1.0, float(np.sqrt(abs(np.linalg.det(room_to_background[:2, :2])))))
    if shrink < 1:  # shrink the room first, as the background was made from shrunk frames
        room = cv2.resize(room, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        room_to_background = room_to_background @ np.linalg.inv(scene.resizing(shrink))
    size = background.shape[1::-1]
    true_background = cv2.warpPerspective(room, room_to_background, size, flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(np.full(room.shape[:2], 255, np.uint8), room_to_background, size) > 250
    compared = cv2.erode((inside & ~never_seen).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    error = np.abs(background.astype(np.int16) - true_background).mean(axis=2)
    return float(error[compared].mean()), float(compared.mean())


# --- self-reconstruction on the validation frames ----------------------------------------------------
def validation_frames(video_skeleton, max_frames=None):
    """The held-out frames (cache indices) in time order; with max_frames, the first that many:
    consecutive, as the temporal figures need a sequence."""
    _, validation = split_indices(len(video_skeleton))
    if not validation:
        raise EvaluateError(f"{video_skeleton.name} has too few frames with a person ({len(video_skeleton)}) to hold any out")
    return list(validation[:max_frames] if max_frames else validation)


def generator_names_asked(gens):
    """--gen values (course numbers or names, or 'none') -> names, each once; none given: all of them."""
    if not gens:
        return all_names()
    if [gen.strip().lower() for gen in gens] == ["none"]:
        return []
    return list(dict.fromkeys(entry_of(gen).name for gen in gens))


def load_generators(names, video_skeleton, checkpoints, device=None, paint_person=False, no_mirror=False):
    """{row name: generator} for the names asked, skipping with a warning those without a usable
    checkpoint. Each searches or was trained on the training frames only. paint_person, no_mirror: the
    generators that take the option (GenGAN) generate with it, and their rows are named
    <name>-paint-person, <name>-no-mirror."""
    unknown = set(checkpoints) - set(names)
    if unknown:
        raise EvaluateError(f"--checkpoint names {', '.join(sorted(unknown))}, which --gen does not ask for")
    generators = {}
    for name in names:
        options = {option: True for option, asked in (("paint_person", paint_person), ("no_mirror", no_mirror))
                   if asked and option in entry_of(name).options}
        try:
            generator = load_generator(name, video_skeleton, checkpoints.get(name), device, hold_out=True, **options)
        except GeneratorError as error:
            print(f"warning: skipping {name}: {error}", file=sys.stderr)
            continue
        generators["-".join([name] + [option.replace("_", "-") for option in options])] = generator
    return generators


def budget_text(budget):
    """One line for the table, e.g. '12 epochs, 1200 steps of 8, 15.0 min, device auto'."""
    if budget is None:
        return ""
    if budget["kind"] == "index":
        return f"none (index of {budget['n_frames_indexed']} training frames)"
    minutes = f"{budget['seconds'] / 60:.1f} min" if budget["seconds"] else "time not recorded (saved mid-run)"
    epochs = f"{budget['epochs']} epoch{'' if budget['epochs'] == 1 else 's'}"
    return (f"{epochs}, {budget['steps']} steps of {budget['batch_size']}, {minutes}, "
            f"device {budget['device'] or 'auto'}")


def generate_all(name, generator, skeletons, views):
    """(N, S, S, 3) uint8 BGR: the generator's image for each skeleton on its own, over its view's
    background, batch by batch."""
    batches = range(0, len(skeletons), BATCH_SIZE)
    return np.concatenate([np.asarray(generator.generate_batch(skeletons[start:start + BATCH_SIZE],
                                                               views=views[start:start + BATCH_SIZE]))
                           for start in tqdm(batches, desc=f"generating ({name})", unit="batch", leave=False, disable=None)])


def read_poses(detector, images, label, already_read=None):
    """[(skeleton or None, segmentation mask or None)] of MediaPipe on each image (upscaled to 256
    if smaller). already_read: (images, readings) of images read before; an identical image is not
    read again (a sequence mode that picks the same frames as the frame-by-frame one)."""
    readings = []
    for position, image in enumerate(tqdm(images, desc=f"reading poses ({label})", unit="frame", leave=False, disable=None)):
        if already_read is not None and np.array_equal(image, already_read[0][position]):
            readings.append(already_read[1][position])
        else:
            readings.append(detector.detect_with_mask(upscaled_for_pose(image)))
    return readings


def image_figures(outputs, references, person_regions):
    """Per-frame and mean SSIM, person and background SSIM, PSNR and L1 of generated images against
    the real ones; person_regions: each real crop's person region (`region_of_mask`)."""
    per_frame = []
    for output, reference, person in zip(outputs, references, person_regions):
        person_ssim, background_ssim = region_ssim(output, reference, person)
        per_frame.append({"ssim": ssim(output, reference), "ssim_person": person_ssim,
                          "ssim_background": background_ssim, "psnr": psnr(output, reference),
                          "l1": l1(output, reference)})
    # a frame where MediaPipe finds nobody in the real crop has no person region: left out of the person mean
    means = {key: float(np.nanmean([frame[key] for frame in per_frame]))
             for key in ("ssim", "ssim_person", "ssim_background", "psnr", "l1")}
    return means, per_frame


def pose_figures(detected, skeletons):
    """Detection rate and mean (and median) joint error (px of 256) of the skeletons MediaPipe
    detected (each a Skeleton or None) against the skeletons given."""
    per_frame = [{"detected": found is not None, "joint_error_px": None if found is None else pose_error(given, found)}
                 for found, given in zip(detected, skeletons)]
    errors = [frame["joint_error_px"] for frame in per_frame if frame["detected"]]
    # the median beside EVALUATION.md's mean: a few frames read as a person of another size dominate the mean
    means = {"detection_rate": len(errors) / len(per_frame), "joint_error_px": float(np.mean(errors)) if errors else None,
             "median_joint_error_px": float(np.median(errors)) if errors else None}
    return means, per_frame


def temporal_figures(sequence, real, sequence_track, real_track):
    """EVALUATION.md section 3 of a generated sequence against the real one, each (T, S, S, 3)
    uint8 with the (T, 13, 2) pose track read in it."""
    # jitter counts runs of detected frames only: the share detected says how much of the sequence it saw
    detected = np.isfinite(np.asarray(sequence_track, dtype=np.float64)).all(axis=(1, 2))  # (T,)
    return {"tof": tof(sequence, real), "pose_jitter_px": jitter(sequence_track),
            "pose_jitter_ratio": pose_jitter_ratio(sequence_track, real_track),
            "sequence_detection_rate": float(detected.mean()) if len(detected) else math.nan, "flicker": flicker(sequence),
            "flicker_ratio": flicker_ratio(sequence, real)}


def evaluate(video_skeleton, generators, frames, detector):
    """One row per real resolution and per generator: the figures, per-frame values, and the images.

    `frames` (validation cache indices in time order) are generated over their own frames' views,
    each on its own (sections 1 and 2) and as a sequence the way DanceDemo.py generates one
    (section 3). `detector` is a PoseDetector(video=False, segmentation=True): one MediaPipe read
    of a real crop gives both its pose and its person region.
    """
    skeletons = [video_skeleton.skeleton(i) for i in frames]
    views = [video_skeleton.view(i) for i in frames]
    crops = [video_skeleton.image(i) for i in frames]
    rows, references, regions, real_tracks = [], {}, {}, {}
    for size in sorted({generator.size for generator in generators.values()}):
        references[size] = np.stack([resize_crop(crop, size) for crop in crops])  # (T, S, S, 3)
        readings = read_poses(detector, references[size], f"real {size}")
        regions[size] = [region_of_mask(mask, size) for _, mask in readings]
        real_tracks[size] = pose_track([found for found, _ in readings])
        pose, per_frame_pose = pose_figures([found for found, _ in readings], skeletons)
        # the real crops against themselves: every reference of EVALUATION.md, by definition
        temporal = {"tof": 0.0, "pose_jitter_px": jitter(real_tracks[size]), "pose_jitter_ratio": 1.0,
                    "sequence_detection_rate": pose["detection_rate"], "flicker": flicker(references[size]),
                    "flicker_ratio": 1.0}
        rows.append({"name": "real", "size": size, "ssim": 1.0, "ssim_person": 1.0, "ssim_background": 1.0,
                     "psnr": math.inf, "l1": 0.0, **pose, **temporal, "budget": None,
                     "per_frame": per_frame_pose, "images": references[size]})
    for name, generator in generators.items():
        size = generator.size
        outputs = generate_all(name, generator, skeletons, views)
        images, per_frame_images = image_figures(outputs, references[size], regions[size])
        readings = read_poses(detector, outputs, name)
        pose, per_frame_pose = pose_figures([found for found, _ in readings], skeletons)
        sequence = np.asarray(generator.generate_sequence(skeletons, views=views))  # (T, S, S, 3)
        sequence_readings = read_poses(detector, sequence, f"{name} sequence", already_read=(outputs, readings))
        temporal = temporal_figures(sequence, references[size], pose_track([found for found, _ in sequence_readings]),
                                    real_tracks[size])
        rows.append({"name": name, "size": size, **images, **pose, **temporal, "budget": generator.budget(),
                     "per_frame": [{**a, **b} for a, b in zip(per_frame_images, per_frame_pose)], "images": outputs})
    for row in rows:
        for frame, index in zip(row["per_frame"], frames):
            frame["index"] = int(index)
    return rows


# --- what is written ------------------------------------------------------------------------------
def finite_or_none(value):
    """JSON has no inf or NaN: those become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite_or_none(item) for item in value]
    return value


def versions():
    import mediapipe
    import skimage
    import torch
    return {"python": platform.python_version(), "torch": torch.__version__, "mediapipe": mediapipe.__version__,
            "scikit-image": skimage.__version__, "opencv": cv2.__version__, "numpy": np.__version__}


def write_json(path, content):
    path.write_text(json.dumps(finite_or_none(content), indent=1))
    return path


def row_label(row):
    return "real (MediaPipe on the real crops)" if row["name"] == "real" else row["name"]


def figure_text(value, digits):
    if value is None:
        return "-"
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


IMAGE_COLUMNS = [("SSIM", "ssim", 3), ("person SSIM", "ssim_person", 3), ("background SSIM", "ssim_background", 3),
                 ("PSNR dB", "psnr", 2), ("L1", "l1", 4), ("detection rate", "detection_rate", 2),
                 ("joint error px", "joint_error_px", 1), ("median joint error px", "median_joint_error_px", 1)]
TEMPORAL_COLUMNS = [("tOF px", "tof", 2), ("pose jitter px", "pose_jitter_px", 2),
                    ("pose-jitter ratio", "pose_jitter_ratio", 2), ("detection rate", "sequence_detection_rate", 2),
                    ("flicker", "flicker", 2),
                    ("flicker ratio", "flicker_ratio", 2)]


def markdown_table(rows, columns, budget=False):
    """A markdown table of the rows: label, size, then each (header, key, digits) column that some
    row has (results written before a figure existed lack its key, and keep their table)."""
    columns = [column for column in columns if any(column[1] in row for row in rows)]
    headers = ["generator", "size"] + [header for header, _, _ in columns] + (["training budget"] if budget else [])
    lines = [f"| {' | '.join(headers)} |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [row_label(row), str(row["size"])] + [figure_text(row.get(key), digits) for _, key, digits in columns]
        lines.append(f"| {' | '.join(cells + ([budget_text(row['budget'])] if budget else []))} |")
    return "\n".join(lines)


def results_table(rows):
    """The markdown table of every row: image quality (section 1) and pose fidelity (section 2)."""
    return markdown_table(rows, IMAGE_COLUMNS, budget=True)


def temporal_table(rows):
    """The markdown table of the held-out sequence's temporal figures (section 3)."""
    return markdown_table(rows, TEMPORAL_COLUMNS)


def results_markdown(video_skeleton, frames, rows):
    return (f"# Held-out evaluation of {video_skeleton.name}\n\n"
            f"{len(frames)} validation frames (cache indices {frames[0]}-{frames[-1]}, the last 10 % never trained on), "
            f"{time.strftime('%Y-%m-%d %H:%M')}, each generated over its own frame's view of the scene. SSIM (whole "
            f"crop, and its map averaged over the real crop's person region and over the rest), PSNR and L1 against "
            f"the real crop at the generator's size, RGB in [0, 1]; detection rate and joint error (13 joints, px of a "
            f"256x256 crop) from MediaPipe Pose on the output; definitions in ../shared/EVALUATION.md.\n\n"
            f"{results_table(rows)}\n\n"
            f"## Temporal quality of the held-out sequence\n\n"
            f"The same frames played in time order, generated as DanceDemo.py generates a sequence: tOF (optical "
            f"flow error against the real sequence, px of 256; 0 is perfect), pose jitter (px of 256) of the poses "
            f"MediaPipe reads in the sequence and its ratio to the real sequence's (1.0 is perfect), flicker (mean "
            f"|frame[t+1] - frame[t]|, 0-255) and its ratio to the real sequence's (1.0 is perfect, far below 1 is "
            f"frozen).\n\n{temporal_table(rows)}\n")


def to_tile(image):
    interpolation = cv2.INTER_AREA if image.shape[0] > TILE else cv2.INTER_CUBIC
    return cv2.resize(image, (TILE, TILE), interpolation=interpolation)


def comparison_image(video_skeleton, frames, rows):
    """A few validation frames, one per row: asked pose | real | each generator, under a label band."""
    generator_rows = [row for row in rows if row["name"] != "real"]
    labels = ["asked pose", f"real {video_skeleton.crop_size}"] + [f"{row['name']} {row['size']}" for row in generator_rows]
    shown = np.linspace(0, len(frames) - 1, min(N_SHOWN, len(frames))).round().astype(int)
    lines = []
    for position in shown:
        index = frames[position]
        tiles = [video_skeleton.skeleton(index).to_image(TILE), to_tile(video_skeleton.image(index))]
        lines.append(tiles + [to_tile(row["images"][position]) for row in generator_rows])
    return image_grid(lines, labels)


def metrics_chart(rows, path):
    """Bar charts of SSIM, detection rate and joint error per row (real rows in grey)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [f"{row['name']}\n{row['size']}" for row in rows]
    colours = ["0.6" if row["name"] == "real" else f"C{i}" for i, row in enumerate(rows)]
    figure, axes = plt.subplots(1, 3, figsize=(4 + 1.6 * len(rows), 4))
    for axis, key, title in zip(axes, ("ssim", "detection_rate", "joint_error_px"),
                                ("SSIM (higher is better)", "detection rate", "joint error, px of 256 (lower is better)")):
        values = [row[key] if row[key] is not None else 0 for row in rows]
        axis.bar(range(len(rows)), values, color=colours)
        axis.set_xticks(range(len(rows)), labels, fontsize=8)
        axis.set_title(title, fontsize=10)
        for x, row in enumerate(rows):
            text = "n/a" if row[key] is None else f"{row[key]:.3g}"
            axis.annotate(text, (x, row[key] or 0), ha="center", va="bottom", fontsize=8)
    axes[0].set_ylim(0, 1)
    axes[1].set_ylim(0, 1.1)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def save_pairs(folder, video_skeleton, frames, rows):
    """Every image compared, as PNG files named by cache index, and the skeletons given; returns the paths."""
    folder = Path(folder)
    written = []
    images_by_folder = {"real": [video_skeleton.image(i) for i in frames]}
    for row in rows:
        if row["name"] == "real":
            if row["size"] != video_skeleton.crop_size:
                images_by_folder[f"real-{row['size']}"] = row["images"]
        else:
            images_by_folder[row["name"]] = row["images"]
    for name, images in images_by_folder.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for index, image in zip(frames, images):
            cv2.imwrite(str(folder / name / f"{index:05d}.png"), image)
        written.append(folder / name)
    np.save(folder / "skeletons.npy", video_skeleton.skeletons[frames])
    written.append(folder / "skeletons.npy")
    written.append(write_json(folder / "frames.json", {
        "target": video_skeleton.name, "indices": [int(i) for i in frames],
        "video_frames": [int(video_skeleton.frame_index(i)) for i in frames],
        "files": "<folder>/<cache index, 5 digits>.png; real = the real crop, real-<size> = the real crop at a "
                 "generator's size (the reference its figures used), <generator> = its output",
        "skeletons": "skeletons.npy: (N, 33, 4) landmarks given to the generators, crop coordinates 0..1, in this order"}))
    return written


def write_results(out, video_skeleton, frames, rows, elapsed):
    """results.json, results.md, comparison.png and metrics.png; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    content = {
        "target": video_skeleton.name, "target_video": video_skeleton.video_path, "crop_size": video_skeleton.crop_size,
        "n_validation_frames": len(frames), "validation_indices": [int(i) for i in frames],
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds": round(elapsed, 1), "versions": versions(),
        "definitions": "../shared/EVALUATION.md: section 1, SSIM/PSNR/L1 against the real crop at the generator's "
                       "size, RGB in [0, 1], ssim_person/ssim_background the SSIM map over the real crop's person "
                       "region (MediaPipe segmentation > 0.5 dilated by 1/32 of the side) and the rest; section 2, "
                       "detection rate and joint error (13 joints, px of 256) from MediaPipe Pose (static image mode, "
                       "model complexity 1) on the image upscaled to 256 if smaller; section 3, on the frames in time "
                       "order generated with generate_sequence: tof (Farneback on grey 256x256, px of 256), "
                       "pose_jitter_px and pose_jitter_ratio (to the real row's; runs of detected frames only), "
                       "sequence_detection_rate (the share of those frames a pose is read in), flicker (0-255) and "
                       "flicker_ratio",
        "rows": [{key: value for key, value in row.items() if key != "images"} for row in rows],
    }
    paths = [write_json(out / "results.json", content)]
    (out / "results.md").write_text(results_markdown(video_skeleton, frames, rows))
    paths.append(out / "results.md")
    cv2.imwrite(str(out / "comparison.png"), comparison_image(video_skeleton, frames, rows))
    paths.append(out / "comparison.png")
    paths.append(metrics_chart(rows, out / "metrics.png"))
    return paths


# --- smoothness of a transfer video ------------------------------------------------------------------
def generated_panels(video_path, flags):
    """The generated person's crop in each frame of a DanceDemo output: cut from its scene video at
    the crop's box, at the generator's size, as the generator drew it; without a scene video (an
    unregistrable target), the rightmost square of the side-by-side video (source | driving pose |
    generated crop, all panels as tall as the frame)."""
    scene_video, layers_path = scene_paths(video_path)
    if flags.get("scene") and scene_video.is_file() and layers_path.is_file():
        boxes = np.load(layers_path)["boxes"]  # (N, 3) x0, y0, side in scene-video pixels
        for t, (_, frame) in enumerate(video_io.iter_frames(scene_video, max_frames=len(boxes))):
            yield crop_square(frame, *boxes[t], flags["generator_size"])
        return
    for _, frame in video_io.iter_frames(video_path):
        yield frame[:, -frame.shape[0]:]


def pasted_person(alpha, box, frame_size):
    """(H, W) bool: where a generated crop's compositing mask is above 0.5, the crop scaled to its
    box (x0, y0, side) in a frame of frame_size (W, H), dilated by 1/32 of the side.
    alpha: (S, S) uint8 0-255, as layers.npz keeps it."""
    width, height = frame_size
    person = np.zeros((height, width), bool)
    region, weight = scene.onto_frame(np.asarray(alpha, np.float32) / 255, box, frame_size)
    if region is not None:
        person[region] = weight > 0.5
    return dilated(person, int(round(box[2])))


def segmented_person(segmenter, frame, side):
    """(H, W) bool: MediaPipe's segmentation (static image mode) of a whole frame above 0.5, dilated
    by 1/32 of `side` (the person's crop side in this frame); all False if nobody is found."""
    _, mask = segmenter.detect_with_mask(frame)
    if mask is None:
        return np.zeros(frame.shape[:2], bool)
    return dilated(mask > 0.5, side)


def background_change(frames_and_persons):
    """Mean |G[t+1] - G[t]| (0-255, mean over the colour channels) over the pixels that are
    background (outside the person mask) in both frames, pooled over every consecutive pair.
    Takes an iterable of (uint8 frame, (H, W) bool person mask), one pair in memory at a time;
    NaN when no pixel counts."""
    total, count, previous = 0.0, 0, None
    for frame, person in frames_and_persons:
        frame = np.asarray(frame, np.int16)
        if previous is not None:
            background = ~(person | previous[1])
            total += float(np.abs(frame - previous[0]).mean(axis=2)[background].sum())
            count += int(background.sum())
        previous = (frame, person)
    return total / count if count else math.nan


def resized(frame, size):
    """A frame brought to size (W, H): INTER_AREA to shrink, linear to enlarge."""
    if frame.shape[1::-1] == tuple(size):
        return frame
    shrinking = frame.shape[1] > size[0]
    return cv2.resize(frame, tuple(size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def reference_frames(target_video, start, n_frames, size):
    """(first frame index, frames): n_frames consecutive frames of the real target video from
    `start`, moved back if they would run past its end, resized to size (W, H)."""
    start = max(0, min(int(start), video_io.video_info(target_video).n_frames - n_frames))
    frames = (resized(frame, size) for _, frame in video_io.iter_frames(target_video, start=start, max_frames=n_frames))
    return start, frames


def background_steadiness(video_path, flags, segmenter):
    """EVALUATION.md section 4's background steadiness of a transfer: the background change of its
    scene video (outside the compositing masks of layers.npz, or MediaPipe's segmentation where the
    generator does not composite) over that of as many consecutive frames of the real target video
    from the fixed view's frame (outside MediaPipe's segmentation, dilated by the median crop side
    of the transfer). Without a scene video (an unregistrable target): null, and the reason."""
    scene_video, layers_path = scene_paths(video_path)
    scene_flags = flags.get("scene")
    if not scene_flags or not scene_video.is_file():
        return {"background_steadiness": None,
                "background_steadiness_reason": "no scene video (the target's scene is not registrable, or "
                                                "DanceDemo.py wrote none): see flicker, of the generated crops"}
    if not layers_path.is_file():
        raise EvaluateError(f"{layers_path} not found: a scene video comes with its layers from DanceDemo.py")
    target_video = Path(scene_flags["target_video"])
    if not target_video.is_file():
        raise EvaluateError(f"the transfer's target video {target_video} is not found: background steadiness "
                            f"compares with it")
    layers = np.load(layers_path)
    boxes = layers["boxes"]  # (N, 3) x0, y0, side in scene-video pixels
    alpha = layers["alpha"] if "alpha" in layers.files else None  # (N, S, S) uint8, or None: no compositing
    info = video_io.video_info(scene_video)
    size = (info.width, info.height)  # as decoded (an H.264 file drops an odd row or column of the size asked)
    n_frames = len(boxes)  # one box per scene frame

    def generated():  # streamed: a scene video is a few hundred large frames
        frames = video_io.iter_frames(scene_video, max_frames=n_frames)
        for t, (_, frame) in enumerate(tqdm(frames, total=n_frames, desc="background (scene video)", unit="frame", disable=None)):
            yield frame, (pasted_person(alpha[t], boxes[t], size) if alpha is not None
                          else segmented_person(segmenter, frame, boxes[t][2]))

    def real(frames, side):
        for frame in tqdm(frames, total=n_frames, desc="background (real target)", unit="frame", disable=None):
            yield frame, segmented_person(segmenter, frame, side)

    generated_change = background_change(generated())
    start, frames = reference_frames(target_video, scene_flags["view_frame"], n_frames, size)
    real_change = background_change(real(frames, float(np.median(boxes[:, 2]))))
    return {"background_steadiness": ratio(generated_change, real_change),
            "background_change_generated": generated_change, "background_change_real": real_change,
            "background_mask": "compositing alpha" if alpha is not None else "MediaPipe segmentation",
            "scene_video": str(scene_video), "n_scene_frames": n_frames, "reference_video": str(target_video),
            "reference_first_frame": start}


def performer_panels(flags, size):
    """The real performer in each source frame, framed as the transfer framed the generated person: the
    square of the source frame (its `source_boxes`, sub-pixel) that the body normalisation maps onto the
    generated crop, at `size`."""
    for t, (_, frame) in enumerate(video_io.iter_frames(flags["source"], max_frames=len(flags["source_boxes"]))):
        x0, y0, side = flags["source_boxes"][t]
        to_panel = np.array([[size / side, 0, -x0 * size / side], [0, size / side, -y0 * size / side]])
        # an antialiasing blur first where the square is shrunk (warpAffine samples, it does not average)
        shrink = side / size
        blurred = cv2.GaussianBlur(frame, (0, 0), 0.5 * shrink) if shrink > 1.5 else frame
        yield cv2.warpAffine(blurred, to_panel, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def performer_figures(flags, detector, size, driving_track):
    """What a perfect transfer of these moves would read: the pose jitter of the real performer in the
    source video, framed as the generated person (`performer_panels`) and read the same way, and how far
    that pose lies from the driving one ((T, 13, 2) px of 256: smoothing and the video-mode detection
    that found it); None with a reason when the transfer predates source_boxes or its source is gone."""
    if "source_boxes" not in flags:
        return {"jitter_performer_px": None, "performer_reason": "the transfer was written without source_boxes "
                                                                 "(rerun DanceDemo.py)"}
    if not Path(flags["source"]).is_file():
        return {"jitter_performer_px": None, "performer_reason": f"its source video {flags['source']} is not found"}
    n_frames = min(len(driving_track), len(flags["source_boxes"]))
    track = detected_track(detector, tqdm(itertools.islice(performer_panels(flags, size), n_frames), total=n_frames,
                                          desc="detecting poses (source performer)", unit="frame", disable=None))
    if not len(track):
        return {"jitter_performer_px": None, "performer_reason": f"no frame could be decoded from {flags['source']}"}
    found = np.isfinite(track).all(axis=(1, 2))
    errors = np.linalg.norm(track[found] - driving_track[:len(track)][found], axis=-1).mean(axis=1)  # (found,)
    return {"jitter_performer_px": finite_or_none(jitter(track)), "performer_detection_rate": float(found.mean()),
            "performer_joint_error_px": float(errors.mean()) if len(errors) else None,
            "jitter_performer_by_frame_px": [None if not np.isfinite(value) else round(float(value), 2)
                                             for value in jitter_by_frame(track)]}


def transfer_figures(video_path, detector):
    """Jitter of the pose found in the generated crops beside that of the driving poses, flicker, and
    how far from the driving poses the found ones are (joint error)."""
    video_path = Path(video_path)
    skeletons_path, flags_path = output_paths(video_path)
    if not video_path.is_file():
        raise EvaluateError(f"no such video: {video_path}")
    if not skeletons_path.is_file():
        raise EvaluateError(f"{skeletons_path} not found: --transfer takes a video written by DanceDemo.py")
    driving = np.load(skeletons_path)  # (N, 33, 4) target crop coordinates
    flags = json.loads(flags_path.read_text()) if flags_path.is_file() else {}
    detected, panel_sizes = [], []

    def detecting(panels):  # one pass over the video: detect in each panel as flicker reads it
        for panel in tqdm(panels, total=video_io.video_info(video_path).n_frames or None,
                          desc="detecting poses (transfer)", unit="frame", disable=None):
            detected.append(detect_pose(detector, panel))  # a Skeleton or None
            panel_sizes.append(panel.shape[0])
            yield panel

    flicker_value = flicker(detecting(generated_panels(video_path, flags)))
    if not detected:
        raise EvaluateError(f"no frame could be decoded from {video_path}")
    n_frames = min(len(detected), len(driving))
    generated_track = pose_track(detected[:n_frames])  # (T, 13, 2) px of 256
    driving_track = driving[:n_frames, list(REDUCED_LANDMARKS), :2] * POSE_SIZE  # (T, 13, 2)
    generated_jitter, driving_jitter = jitter(generated_track), jitter(driving_track)
    by_frame = jitter_by_frame(generated_track)  # (T,) where the generated person shakes
    found = np.isfinite(generated_track).all(axis=(1, 2))
    errors = np.linalg.norm(generated_track[found] - driving_track[found], axis=-1).mean(axis=1)  # (found,) px
    return {
        "video": str(video_path), "skeletons": str(skeletons_path), "generator": flags.get("generator"),
        "generator_size": flags.get("generator_size"), "target": flags.get("target"), "source": flags.get("source"),
        "n_frames": n_frames, "n_video_frames": len(detected), "n_driving_poses": len(driving),
        "panel_size": int(panel_sizes[0]), "detection_rate": float(found.mean()),
        "joint_error_px": float(errors.mean()) if len(errors) else None,
        "jitter_generated_px": generated_jitter, "jitter_driving_px": driving_jitter,
        "jitter_ratio": generated_jitter / driving_jitter if driving_jitter > 0 else math.nan,
        "jitter_by_frame_px": [None if not np.isfinite(value) else round(float(value), 2) for value in by_frame],
        "flicker": flicker_value, **background_steadiness(video_path, flags, detector),
        **performer_figures(flags, detector, int(panel_sizes[0]), driving_track),
        "definitions": "../shared/EVALUATION.md section 4: jitter in px of 256 over runs of detected frames "
                       "(MediaPipe static image mode on the generated person's crop, cut from the scene video at its box), "
                       "jitter_by_frame_px its value at each frame (null where not counted), "
                       "joint error = mean distance of those poses' joints to the driving skeletons', px of 256, "
                       "flicker = mean |frame[t+1] - frame[t]| of those crops, 0-255; background_steadiness = mean |frame[t+1] - frame[t]| of the "
                       "scene video over pixels outside the person in both frames (compositing alpha > 0.5 at its "
                       "box, else MediaPipe segmentation, dilated by 1/32 of the crop side) over the same figure on "
                       "as many consecutive frames of the real target video; jitter_performer_px: the same jitter "
                       "read on the real performer in the source video, framed as the generated person (the "
                       "square of each source frame that the body normalisation maps onto the generated crop): "
                       "what a perfect transfer of these moves would read",
    }


def transfer_text(figures):
    return (f"transfer {figures['video']} ({figures['generator']} {figures['generator_size']}, {figures['n_frames']} frames): "
            f"pose found in {figures['detection_rate']:.0%} of the generated frames"
            + (f" ({figures['joint_error_px']:.1f} px from the driving poses)" if figures.get("joint_error_px") is not None else "")
            + f"; jitter {figures['jitter_generated_px']:.2f} px "
            f"(driving poses {figures['jitter_driving_px']:.2f} px, ratio {figures['jitter_ratio']:.2f})"
            + shakiest_text(figures.get("jitter_by_frame_px"))
            + performer_text(figures)
            + f"; flicker {figures['flicker']:.2f} (0-255); " + steadiness_text(figures))


def performer_text(figures):
    if figures.get("jitter_performer_px") is not None:
        return f"; the real performer framed the same way {figures['jitter_performer_px']:.2f} px"
    return f"; the real performer not read: {figures['performer_reason']}" if "performer_reason" in figures else ""


def shakiest_text(by_frame, n_frames=3):
    """', shakiest at frames 98 (78 px), 14 (66 px), 13 (32 px)': where to look first (frames counted from 0)."""
    if not by_frame:
        return ""
    values = np.array([np.nan if value is None else value for value in by_frame], dtype=np.float64)
    order = [t for t in np.argsort(-np.nan_to_num(values, nan=-1.0), kind="stable")[:n_frames] if np.isfinite(values[t])]
    return (", shakiest at frames " + ", ".join(f"{t} ({values[t]:.0f} px)" for t in order)) if order else ""


def steadiness_text(figures):
    if figures["background_steadiness"] is None and "background_steadiness_reason" in figures:
        return f"background steadiness not measured: {figures['background_steadiness_reason']}"
    return (f"background steadiness {figure_text(figures['background_steadiness'], 2)} (scene video "
            f"{figures['background_change_generated']:.2f} against the real target's {figures['background_change_real']:.2f}; "
            f"1.0 is as steady as the real scene)")


# --- command line ------------------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        description="Measure generators on the target's held-out frames, each generated over its own frame's "
                    "view: SSIM (whole crop, person and background SSIM), PSNR, L1, pose detection rate and joint "
                    "error; and the same frames as a sequence: tOF, pose-jitter ratio and flicker ratio against "
                    "the real sequence. With --transfer, the smoothness of a DanceDemo video: pose jitter, flicker "
                    "and background steadiness.",
        epilog=f"Generators: {described()}. Figures are defined in "
               "../shared/EVALUATION.md.")
    parser.add_argument("target", help="target video, or its cache folder")
    parser.add_argument("--gen", action="append", metavar="GEN",
                        help=f"a generator to measure, by course number or name ({described()}); repeat it for "
                             f"several, or 'none' for none (default: all; those without a checkpoint are skipped "
                             f"with a warning)")
    parser.add_argument("--checkpoint", action="append", metavar="[GEN=]PATH",
                        help="a trained generator to use instead of its default data/models/<target>/<gen>.pt; "
                             "GEN= may be left out when one --gen is given; repeat it for several")
    parser.add_argument("--out", help="folder for the results (default out/eval/<target cache name>)")
    parser.add_argument("--save-pairs", metavar="DIR", help="also write every compared image as PNG, and the skeletons given")
    parser.add_argument("--transfer", metavar="VIDEO", help="a DanceDemo.py output: measure its jitter (beside the real "
                                                            "performer's in its source video), flicker and (from its "
                                                            "scene video) background steadiness")
    parser.add_argument("--max-frames", type=int, metavar="N",
                        help="use only the first N validation frames, consecutive in time (the temporal figures "
                             "need a sequence, not frames spread over the clip; default: all)")
    parser.add_argument("--device", help="cuda, mps or cpu for the network generators (default: the best available)")
    parser.add_argument("--paint-person", action="store_true",
                        help="the GAN generates as in training: it paints over the person too, and bends the warp by its "
                             "learned flow (row gan-paint-person; see GenGAN)")
    parser.add_argument("--no-mirror", action="store_true",
                        help="the GAN takes its exemplars from the target's own training frames only, not also from "
                             "their mirror images (row gan-no-mirror; see GenGAN)")
    args = parser.parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        parser.error("--max-frames must be at least 1")
    return args


def run(args):
    started = time.perf_counter()
    video_skeleton = VideoSkeleton(args.target)
    names = generator_names_asked(args.gen)
    checkpoints = parse_checkpoints(args.checkpoint, names)
    if not names and not args.transfer:
        raise EvaluateError("nothing to do: --gen none and no --transfer")
    out = Path(args.out or shown_path(OUT_ROOT / "eval" / video_skeleton.name))
    written = []
    with PoseDetector(video=False, segmentation=True) as detector:  # poses and person regions in one read
        if names:
            generators = load_generators(names, video_skeleton, checkpoints, args.device, args.paint_person,
                                         args.no_mirror)
            if not generators:
                raise EvaluateError(f"no generator to evaluate: none of {', '.join(names)} has a checkpoint for "
                                    f"{video_skeleton.name} (see the warnings above)")
            frames = validation_frames(video_skeleton, args.max_frames)
            print(f"{video_skeleton.name}: {len(frames)} validation frames, generators "
                  f"{', '.join(f'{name} {g.size}x{g.size}' for name, g in generators.items())}", flush=True)
            rows = evaluate(video_skeleton, generators, frames, detector)
            written += write_results(out, video_skeleton, frames, rows, time.perf_counter() - started)
            if args.save_pairs:
                written += save_pairs(args.save_pairs, video_skeleton, frames, rows)
            print(results_table(rows))
            print(temporal_table(rows))
        if args.transfer:
            figures = transfer_figures(args.transfer, detector)
            out.mkdir(parents=True, exist_ok=True)
            written.append(write_json(out / "transfer.json", figures))
            print(transfer_text(figures))
    for path in written:
        print(f"wrote {path}")


def main(argv=None):
    args = parse_args(argv)
    try:
        run(args)
    except (EvaluateError, GeneratorError, CheckpointError, VideoSkeletonError, video_io.VideoError) as error:
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)


if __name__ == "__main__":
    main()
