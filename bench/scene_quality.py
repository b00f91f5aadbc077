"""How well VideoSkeleton's scene model fits a target video: the figures of the scene issue.

1. Background: for each held-out frame (the last 10 %, never used to build the background), the
   background rendered from the mosaic in that frame's own camera and crop box, against the real
   crop: SSIM over the background region of ../shared/EVALUATION.md section 1 (outside MediaPipe's
   dilated segmentation of the real crop). Beside it, a still plate that ignores the camera (the
   reference view rendered at the same crop box), and the same figure on training frames.
2. Scale: the median torso-to-crop ratio (shoulder centre to hip centre over the crop side) of the
   training and the held-out frames, with the crops as cached and with one crop side for the
   whole video (the behaviour before the crops followed the zoom).
3. With a synthetic moving camera (ground truth beside the video): the registration error (mean
   displacement of the frame's corners against the true camera, relative to the reference frame)
   and the mosaic's mean absolute error against the true empty room, over the pixels it saw.

    python -m bench.scene_quality ../shared/data/taichi2.mp4           # results in out/eval/scene/
    python -m bench.scene_quality --synthetic                          # the built-in moving-camera target
"""
import argparse
import json
from pathlib import Path

import numpy as np

import SyntheticDancer
from Evaluate import mosaic_error, person_region, region_ssim, registration_errors
from paths import OUT_ROOT, shown_path
from Skeleton import PoseDetector, Skeleton, torso_lengths
from VideoSkeleton import CROP_MARGIN, VideoSkeleton, person_box, split_indices


def background_figures(video_skeleton, positions, segmenter):
    """Mean background SSIM over positions: (rendered in each frame's camera, still plate)."""
    scene_model = video_skeleton.scene()
    reference = scene_model.cameras[video_skeleton.meta["frame_indices"].index(scene_model.reference)]
    own, still = [], []
    for i in positions:
        camera, box, real = scene_model.cameras[i], video_skeleton.crop_box(i), video_skeleton.image(i)
        if not np.isfinite(camera).all():
            continue
        person = person_region(segmenter, real)
        own.append(region_ssim(scene_model.render(camera, box, video_skeleton.crop_size), real, person)[1])
        still.append(region_ssim(scene_model.render(reference, box, video_skeleton.crop_size), real, person)[1])
    return float(np.nanmean(own)), float(np.nanmean(still)), len(own)


def torso_ratios(video_skeleton):
    """Median torso-to-crop ratio of training and held-out frames: (as cached), (one fixed side)."""
    train, validation = split_indices(len(video_skeleton))
    torsos = torso_lengths(video_skeleton.skeletons)  # (N,) in crop sides
    sides = np.array([video_skeleton.crop_box(i)[2] for i in range(len(video_skeleton))])
    torsos_px = torsos * sides
    # One side for the whole video, as before: the person's extent in 98 % of frames x the margin.
    frame_size = video_skeleton.meta["frame_size"]
    extents = []
    for i in range(len(video_skeleton)):
        x0, y0, side = video_skeleton.crop_box(i)
        landmarks = video_skeleton.skeletons[i].copy()
        landmarks[:, :2] = (landmarks[:, :2] * side + (x0, y0)) / frame_size  # back to the frame
        box = person_box(Skeleton(landmarks), frame_size)
        extents.append(max(box[2] - box[0], box[3] - box[1]))
    fixed_side = np.percentile(extents, 98) * CROP_MARGIN
    cached = (float(np.median(torsos[train])), float(np.median(torsos[validation])))
    fixed = (float(np.median(torsos_px[train]) / fixed_side), float(np.median(torsos_px[validation]) / fixed_side))
    return cached, fixed


def synthetic_figures(video_skeleton, video_path):
    """(registration error px mean, max, max as % of width; mosaic MAE 0-255, share compared)."""
    truth = SyntheticDancer.load_camera(video_path)[video_skeleton.meta["frame_indices"]]  # (N, 3, 3)
    room = SyntheticDancer.room_image(SyntheticDancer.scene_of(video_path))
    scene_model = video_skeleton.scene()
    reference = video_skeleton.meta["frame_indices"].index(scene_model.reference)
    errors = registration_errors(scene_model.cameras, truth, reference, scene_model.frame_size)
    mae, share = mosaic_error(scene_model.background, scene_model.never_seen, scene_model.cameras[reference],
                              truth[reference], room)
    return float(errors.mean()), float(errors.max()), 100 * float(errors.max()) / scene_model.frame_size[0], mae, share


def main(argv=None):
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.split("\n\n")[0])
    parser.add_argument("target", nargs="?",
                        help="target video, or its cache folder (default with --synthetic: the built-in moving target)")
    parser.add_argument("--synthetic", action="store_true", help="the built-in moving-camera target, with ground truth")
    parser.add_argument("--crop-size", type=int, default=256)
    parser.add_argument("--force", action="store_true", help="rebuild the cache even if one exists")
    parser.add_argument("--out", default=shown_path(OUT_ROOT / "eval" / "scene"),
                        help="folder for scene.json (default out/eval/scene)")
    args = parser.parse_args(argv)
    video = Path(args.target) if args.target else SyntheticDancer.default_target_moving()
    video_skeleton = VideoSkeleton(video, crop_size=args.crop_size, force=args.force)
    print(video_skeleton.summary())
    train, validation = split_indices(len(video_skeleton))
    results = {"video": str(video), "crop_size": args.crop_size, "scene": video_skeleton.meta["scene"]}
    with PoseDetector(video=False, segmentation=True) as segmenter:
        held_out, still, n = background_figures(video_skeleton, validation, segmenter)
        spread = np.linspace(0, len(train) - 1, min(len(train), 90)).round().astype(int)
        trained, _, _ = background_figures(video_skeleton, [train[p] for p in spread], segmenter)
    results.update(background_ssim_held_out=held_out, background_ssim_still_plate=still,
                   background_ssim_training=trained, held_out_frames_registered=n)
    print(f"background SSIM, held-out ({n} frames): {held_out:.3f} in each frame's camera, "
          f"{still:.3f} as a still plate; training frames: {trained:.3f}")
    (train_ratio, held_ratio), (fixed_train, fixed_held) = torso_ratios(video_skeleton)
    results.update(torso_ratio_training=train_ratio, torso_ratio_held_out=held_ratio,
                   torso_ratio_fixed_side_training=fixed_train, torso_ratio_fixed_side_held_out=fixed_held)
    print(f"torso / crop side, median: training {train_ratio:.3f}, held-out {held_ratio:.3f} "
          f"({100 * (held_ratio / train_ratio - 1):+.0f} %); one fixed side: {fixed_train:.3f}, {fixed_held:.3f} "
          f"({100 * (fixed_held / fixed_train - 1):+.0f} %)")
    if SyntheticDancer.camera_path(video).is_file():
        mean_px, max_px, max_percent, mae, share = synthetic_figures(video_skeleton, video)
        results.update(registration_error_px=mean_px, registration_error_max_px=max_px,
                       registration_error_max_percent_width=max_percent, mosaic_mae=mae, mosaic_compared_share=share)
        print(f"registration error: mean {mean_px:.2f} px, max {max_px:.2f} px ({max_percent:.2f} % of the width); "
              f"mosaic MAE {mae:.2f} (0-255) over {100 * share:.0f} % of it")
    out = Path(args.out) / f"{video.stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(scene_table([results]))
    print(f"wrote {out}")


def scene_table(results):
    """The markdown table of scene figures, one row per results dict (what RESULTS.md shows)."""
    change = lambda held_out, training: f"{100 * (held_out / training - 1):+.0f} %"
    rows = ["| target | camera | registered frames | background SSIM held-out, own camera / still plate "
            "| torso / crop, held-out vs training: crops following the zoom / one side "
            "| registration error max, % of width | background MAE (0-255) |",
            "|---|---|---|---|---|---|---|"]
    for r in results:
        cells = [Path(r["video"]).name, r["scene"]["camera"], f"{r['scene']['registered']} / {r['scene']['frames']}",
                 f"{r['background_ssim_held_out']:.3f} / {r['background_ssim_still_plate']:.3f}",
                 f"{change(r['torso_ratio_held_out'], r['torso_ratio_training'])} / "
                 f"{change(r['torso_ratio_fixed_side_held_out'], r['torso_ratio_fixed_side_training'])}"]
        if "mosaic_mae" in r:  # a synthetic target: the truth is known
            cells += [f"{r['registration_error_max_percent_width']:.2f}", f"{r['mosaic_mae']:.2f}"]
        else:
            cells += ["-", "-"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
