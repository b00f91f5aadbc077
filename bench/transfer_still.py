"""One still of several DanceDemo videos: the same frames of each, stacked (RESULTS.md's transfer figure).

    python -m bench.transfer_still out/transfer/a.mp4 out/transfer/b.mp4 --frames 40,100 --out still.png
"""
import argparse
import sys

import cv2
import numpy as np

import video_io


def frames_of(video, wanted):
    """The frames of `video` at the indices in `wanted`, in that order."""
    found = {index: frame for index, frame in video_io.iter_frames(video, max_frames=max(wanted) + 1) if index in wanted}
    missing = [index for index in wanted if index not in found]
    if missing:
        sys.exit(f"error: {video} has no frame {missing[0]}")
    return [found[index] for index in wanted]


def main(argv=None):
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="+", help="DanceDemo output videos")
    parser.add_argument("--frames", default="40,100", help="frame indices, comma-separated (default 40,100)")
    parser.add_argument("--width", type=int, default=726, help="width of the still (default 726)")
    parser.add_argument("--out", required=True, help="PNG to write")
    args = parser.parse_args(argv)
    wanted = [int(f) for f in args.frames.split(",")]
    rows = [frame for video in args.videos for frame in frames_of(video, wanted)]
    rows = [cv2.resize(row, (args.width, round(row.shape[0] * args.width / row.shape[1])), interpolation=cv2.INTER_AREA)
            for row in rows]
    cv2.imwrite(args.out, np.concatenate(rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
