"""Measure the generators of one target, every figure as ../shared/EVALUATION.md defines it.

On the target's held-out validation frames (the last 10 %, never trained on) each generator is
given each frame's own skeleton, and its output is compared with the real crop at the generator's
resolution: SSIM, PSNR, L1, and whether MediaPipe finds the asked pose in it (detection rate, and
joint error in pixels of a 256x256 crop). The real crops go through the same pose check: the
"real" rows are the upper bound, what MediaPipe itself gives on the true images. With --transfer,
the smoothness of a DanceDemo output video: jitter (beside the driving poses') and flicker.

    python Evaluate.py ../shared/data/taichi2.mp4        # every generator that has a default checkpoint
    python Evaluate.py ../shared/data/taichi2.mp4 --gens nearest,gan --checkpoints gan=data/models/taichi2-3a68617516/gan-256.pt
    python Evaluate.py data/cache/taichi2-3a68617516 --gens nearest --max-frames 30 --save-pairs out/pairs
    python Evaluate.py ../shared/data/taichi2.mp4 --gens none --transfer out/karate1_to_taichi2_nearest.mp4

Writes results.json, results.md, comparison.png and metrics.png (and transfer.json) into --out
(default out/eval/<target cache name>/).
"""
import argparse
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
from DanceDemo import GENERATORS, DanceDemoError, generator_name, load_generator, output_paths
from GenNearest import GenNearest
from Skeleton import REDUCED_LANDMARKS, PoseDetector
from training import CheckpointError, load_checkpoint, resize_crop, split_indices
from VideoSkeleton import VideoSkeleton, VideoSkeletonError

POSE_SIZE = 256  # pose figures are in pixels of a 256x256 crop; smaller images are upscaled to it
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


def person_region(segmenter, real_crop):
    """(H, W) bool: EVALUATION.md's person region of a real crop: MediaPipe's segmentation (static
    image mode) of the crop upscaled to 256x256 if smaller, above 0.5, dilated by 1/32 of the side.
    `segmenter` is a PoseDetector(video=False, segmentation=True). All False if nobody is found."""
    size = real_crop.shape[0]
    image = real_crop if size >= POSE_SIZE else cv2.resize(real_crop, (POSE_SIZE, POSE_SIZE), interpolation=cv2.INTER_CUBIC)
    _, mask = segmenter.detect_with_mask(image)
    if mask is None:
        return np.zeros((size, size), bool)
    person = cv2.resize((mask > 0.5).astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
    radius = max(1, int(round(size / 32)))
    return cv2.dilate(person, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)) > 0


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
    if image.shape[0] < POSE_SIZE:
        image = cv2.resize(image, (POSE_SIZE, POSE_SIZE), interpolation=cv2.INTER_CUBIC)
    return detector.detect(image)


def pose_error(given, detected):
    """Mean Euclidean distance over the 13 reduced joints of two skeletons of one square image,
    in pixels of a 256x256 crop."""
    return given.distance(detected) * POSE_SIZE


def jitter(track):
    """Mean over joints and frames of |x[t+1] - 2 x[t] + x[t-1]| (Euclidean) of a (T, J, 2) track.

    Frames with NaN (nobody detected) break the track: only frames whose both neighbours are
    detected count. In the track's own unit; NaN when no three consecutive frames are detected.
    """
    track = np.asarray(track, dtype=np.float64)
    if len(track) < 3:
        return math.nan
    acceleration = np.linalg.norm(track[2:] - 2 * track[1:-1] + track[:-2], axis=-1)  # (T-2, J)
    counted = np.isfinite(acceleration).all(axis=1)
    return float(acceleration[counted].mean()) if counted.any() else math.nan


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
    """The held-out frames (cache indices); with max_frames, that many spread evenly over them."""
    _, validation = split_indices(len(video_skeleton))
    if not validation:
        raise EvaluateError(f"{video_skeleton.name} has too few frames with a person ({len(video_skeleton)}) to hold any out")
    if max_frames and max_frames < len(validation):
        positions = np.linspace(0, len(validation) - 1, max_frames).round().astype(int)
        validation = [validation[p] for p in positions]
    return validation


def parse_checkpoints(text):
    """'gan=PATH,vanilla-image=PATH' -> {name: path}."""
    checkpoints = {}
    for item in filter(None, (text or "").split(",")):
        name, separator, path = item.partition("=")
        if not separator or not path:
            raise EvaluateError(f"--checkpoints takes NAME=PATH pairs separated by commas, not {item!r}")
        name = generator_name(name)
        if name == "nearest":
            raise EvaluateError("the nearest-neighbour generator has no checkpoint")
        checkpoints[name] = path
    return checkpoints


def parse_generator_names(text):
    """'nearest,gan' or '1,4' -> ['nearest', 'gan']; 'none' -> []."""
    if text.strip().lower() == "none":
        return []
    names = [generator_name(item) for item in text.split(",") if item.strip()]
    return list(dict.fromkeys(names))


def load_generators(names, video_skeleton, checkpoints, device=None, paint_person=False):
    """{name: generator} for the names asked, skipping with a warning those without a usable
    checkpoint. The nearest-neighbour generator searches the training frames only. paint_person:
    the GAN paints over the person too (GenGAN), and its row is named gan-paint-person."""
    unknown = set(checkpoints) - set(names)
    if unknown:
        raise EvaluateError(f"--checkpoints names {', '.join(sorted(unknown))}, which --gens does not ask for")
    generators = {}
    for name in names:
        if name == "nearest":
            train_frames, _ = split_indices(len(video_skeleton))
            generators[name] = GenNearest(video_skeleton, indices=train_frames)
            continue
        try:
            paints = paint_person and name == "gan"
            generator = load_generator(name, video_skeleton, checkpoints.get(name), device, paints)
            generators["gan-paint-person" if paints else name] = generator
        except DanceDemoError as error:
            print(f"warning: skipping {name}: {error}", file=sys.stderr)
    return generators


def training_budget(generator):
    """What the generator cost to make: epochs, steps, wall time, batch and device from its checkpoint."""
    if isinstance(generator, GenNearest):
        return {"kind": "index", "n_frames_indexed": len(generator.frame_ids)}
    checkpoint = load_checkpoint(generator.checkpoint_path)
    progress, config = checkpoint["progress"], checkpoint["config"]
    return {"kind": "trained", "checkpoint": str(generator.checkpoint_path), "epochs": progress["epoch"],
            "steps": progress["step"], "seconds": round(progress["seconds"], 1), "minutes_limit": config.get("minutes"),
            "epochs_limit": config.get("epochs"), "batch_size": config.get("batch_size"),
            "augment": config.get("augment"), "device": config.get("device"), "torch": checkpoint["versions"].get("torch")}


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


def generate_all(name, generator, skeletons):
    """(N, S, S, 3) uint8 BGR: the generator's image for each skeleton, batch by batch."""
    batches = range(0, len(skeletons), BATCH_SIZE)
    return np.concatenate([np.asarray(generator.generate_batch(skeletons[start:start + BATCH_SIZE]))
                           for start in tqdm(batches, desc=f"generating ({name})", unit="batch", leave=False)])


def image_figures(outputs, references):
    """Per-frame and mean SSIM, PSNR and L1 of generated images against the real ones."""
    per_frame = [{"ssim": ssim(output, reference), "psnr": psnr(output, reference), "l1": l1(output, reference)}
                 for output, reference in zip(outputs, references)]
    means = {key: float(np.mean([frame[key] for frame in per_frame])) for key in ("ssim", "psnr", "l1")}
    return means, per_frame


def pose_figures(images, skeletons, detector, label):
    """Detection rate and mean (and median) joint error (px of 256) of MediaPipe on images, against
    the skeletons given."""
    per_frame = []
    for image, skeleton in zip(tqdm(images, desc=f"detecting poses ({label})", unit="frame", leave=False), skeletons):
        detected = detect_pose(detector, image)
        per_frame.append({"detected": detected is not None,
                          "joint_error_px": None if detected is None else pose_error(skeleton, detected)})
    errors = [frame["joint_error_px"] for frame in per_frame if frame["detected"]]
    # the median beside EVALUATION.md's mean: a few frames read as a person of another size dominate the mean
    means = {"detection_rate": len(errors) / len(per_frame), "joint_error_px": float(np.mean(errors)) if errors else None,
             "median_joint_error_px": float(np.median(errors)) if errors else None}
    return means, per_frame


def evaluate(video_skeleton, generators, frames, detector):
    """One row per real resolution and per generator: the figures, per-frame values, and the images."""
    skeletons = [video_skeleton.skeleton(i) for i in frames]
    crops = [video_skeleton.image(i) for i in frames]
    rows = []
    references = {}  # size -> the real crops at that size
    for size in sorted({generator.size for generator in generators.values()}):
        references[size] = np.stack([resize_crop(crop, size) for crop in crops])
        pose, per_frame_pose = pose_figures(references[size], skeletons, detector, f"real {size}")
        rows.append({"name": "real", "size": size, "ssim": None, "psnr": None, "l1": None, **pose, "budget": None,
                     "per_frame": per_frame_pose, "images": references[size]})
    for name, generator in generators.items():
        outputs = generate_all(name, generator, skeletons)
        images, per_frame_images = image_figures(outputs, references[generator.size])
        pose, per_frame_pose = pose_figures(outputs, skeletons, detector, name)
        rows.append({"name": name, "size": generator.size, **images, **pose,
                     "budget": training_budget(generator),
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


def results_table(rows):
    """The markdown table of every row."""
    lines = ["| generator | size | SSIM | PSNR dB | L1 | detection rate | joint error px | median joint error px "
             "| training budget |", "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row_label(row)} | {row['size']} | {figure_text(row['ssim'], 3)} | {figure_text(row['psnr'], 2)} "
                     f"| {figure_text(row['l1'], 4)} | {figure_text(row['detection_rate'], 2)} "
                     f"| {figure_text(row['joint_error_px'], 1)} | {figure_text(row['median_joint_error_px'], 1)} "
                     f"| {budget_text(row['budget'])} |")
    return "\n".join(lines)


def results_markdown(video_skeleton, frames, rows):
    return (f"# Held-out evaluation of {video_skeleton.name}\n\n"
            f"{len(frames)} validation frames (cache indices {frames[0]}-{frames[-1]}, the last 10 % never trained on), "
            f"{time.strftime('%Y-%m-%d %H:%M')}. SSIM, PSNR and L1 against the real crop at the generator's size, "
            f"RGB in [0, 1]; detection rate and joint error (13 joints, px of a 256x256 crop) from MediaPipe Pose on "
            f"the output; definitions in ../shared/EVALUATION.md.\n\n{results_table(rows)}\n")


def put_label(tile, text):
    cv2.putText(tile, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def to_tile(image):
    interpolation = cv2.INTER_AREA if image.shape[0] > TILE else cv2.INTER_CUBIC
    return cv2.resize(image, (TILE, TILE), interpolation=interpolation)


def comparison_image(video_skeleton, frames, rows):
    """A few validation frames, one per row: asked pose | real | each generator, under a label band."""
    generator_rows = [row for row in rows if row["name"] != "real"]
    labels = ["asked pose", f"real {video_skeleton.crop_size}"] + [f"{row['name']} {row['size']}" for row in generator_rows]
    header = np.concatenate([put_label(np.zeros((28, TILE, 3), np.uint8), label) for label in labels], axis=1)
    shown = np.linspace(0, len(frames) - 1, min(N_SHOWN, len(frames))).round().astype(int)
    lines = [header]
    for position in shown:
        index = frames[position]
        tiles = [video_skeleton.skeleton(index).to_image(TILE), to_tile(video_skeleton.image(index))]
        tiles += [to_tile(row["images"][position]) for row in generator_rows]
        lines.append(np.concatenate(tiles, axis=1))
    return np.concatenate(lines, axis=0)


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
        "definitions": "../shared/EVALUATION.md: SSIM/PSNR/L1 against the real crop at the generator's size, RGB in "
                       "[0, 1]; detection rate and joint error (13 joints, px of 256) from MediaPipe Pose "
                       "(static image mode, model complexity 1) on the image upscaled to 256 if smaller",
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
def generated_panels(video_path):
    """The generated target panel of each frame of a DanceDemo video: its rightmost square
    (source | driving pose | generated target, all panels as tall as the frame)."""
    for _, frame in video_io.iter_frames(video_path):
        yield frame[:, -frame.shape[0]:]


def transfer_figures(video_path, detector):
    """Jitter of the pose found in the generated panel beside that of the driving poses, and flicker."""
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
                          desc="detecting poses (transfer)", unit="frame"):
            skeleton = detect_pose(detector, panel)
            detected.append(np.full((len(REDUCED_LANDMARKS), 2), np.nan) if skeleton is None else skeleton.joints())
            panel_sizes.append(panel.shape[0])
            yield panel

    flicker_value = flicker(detecting(generated_panels(video_path)))
    if not detected:
        raise EvaluateError(f"no frame could be decoded from {video_path}")
    n_frames = min(len(detected), len(driving))
    generated_track = np.stack(detected[:n_frames]) * POSE_SIZE  # (T, 13, 2) px of 256
    driving_track = driving[:n_frames, list(REDUCED_LANDMARKS), :2] * POSE_SIZE  # (T, 13, 2)
    generated_jitter, driving_jitter = jitter(generated_track), jitter(driving_track)
    found = np.isfinite(generated_track).all(axis=(1, 2))
    return {
        "video": str(video_path), "skeletons": str(skeletons_path), "generator": flags.get("generator"),
        "generator_size": flags.get("generator_size"), "target": flags.get("target"), "source": flags.get("source"),
        "n_frames": n_frames, "n_video_frames": len(detected), "n_driving_poses": len(driving),
        "panel_size": int(panel_sizes[0]), "detection_rate": float(found.mean()),
        "jitter_generated_px": generated_jitter, "jitter_driving_px": driving_jitter,
        "jitter_ratio": generated_jitter / driving_jitter if driving_jitter > 0 else math.nan,
        "flicker": flicker_value,
        "definitions": "../shared/EVALUATION.md Smoothness: jitter in px of 256 over runs of detected frames "
                       "(MediaPipe static image mode on the generated panel), flicker = mean |frame[t+1] - frame[t]| "
                       "of the generated panel, 0-255",
    }


def transfer_text(figures):
    return (f"transfer {figures['video']} ({figures['generator']} {figures['generator_size']}, {figures['n_frames']} frames): "
            f"pose found in {figures['detection_rate']:.0%} of the generated frames; jitter {figures['jitter_generated_px']:.2f} px "
            f"(driving poses {figures['jitter_driving_px']:.2f} px, ratio {figures['jitter_ratio']:.2f}); "
            f"flicker {figures['flicker']:.2f} (0-255)")


# --- command line ------------------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Measure generators on the target's held-out frames (SSIM, PSNR, L1, pose detection rate "
                    "and joint error) and, with --transfer, the smoothness of a DanceDemo video.",
        epilog="Generators: 1 nearest, 2 vanilla-vector, 3 vanilla-image, 4 gan. Figures are defined in "
               "../shared/EVALUATION.md.")
    parser.add_argument("target", help="target video or its VideoSkeleton cache folder")
    parser.add_argument("--gens", default=",".join(GENERATORS.values()),
                        help="generators to measure, comma-separated, or 'none' (default: all four; those without "
                             "a checkpoint are skipped with a warning)")
    parser.add_argument("--checkpoints", default="", help="NAME=PATH,... checkpoints to use instead of the defaults "
                                                          "data/models/<target>/<name>.pt")
    parser.add_argument("--out", help="folder for the results (default out/eval/<target cache name>)")
    parser.add_argument("--save-pairs", metavar="DIR", help="also write every compared image as PNG, and the skeletons given")
    parser.add_argument("--transfer", metavar="VIDEO", help="a DanceDemo.py output: measure its jitter and flicker")
    parser.add_argument("--max-frames", type=int, help="use only N validation frames, spread evenly (default: all)")
    parser.add_argument("--device", help="cuda, mps or cpu for the network generators (default: the best available)")
    parser.add_argument("--paint-person", action="store_true",
                        help="the GAN paints over the person too, as in training (row gan-paint-person; see GenGAN)")
    args = parser.parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        parser.error("--max-frames must be at least 1")
    return args


def run(args):
    started = time.perf_counter()
    video_skeleton = VideoSkeleton(args.target)
    names = parse_generator_names(args.gens)
    checkpoints = parse_checkpoints(args.checkpoints)
    if not names and not args.transfer:
        raise EvaluateError("nothing to do: --gens none and no --transfer")
    out = Path(args.out or Path("out/eval") / video_skeleton.name)
    written = []
    with PoseDetector(video=False) as detector:
        if names:
            generators = load_generators(names, video_skeleton, checkpoints, args.device, args.paint_person)
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
    except (EvaluateError, DanceDemoError, CheckpointError, VideoSkeletonError, video_io.VideoError) as error:
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        sys.exit("interrupted")


if __name__ == "__main__":
    main()
