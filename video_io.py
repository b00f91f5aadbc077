"""Video reading and writing shared by every script: frames are uint8 BGR HxWx3 (OpenCV order).

Reading goes through OpenCV. Writing prefers H.264 through PyAV (plays in browsers) and falls
back to OpenCV's `mp4v` when PyAV or its encoder is missing. The labels and image grids that the
scripts show their frames in are drawn here too (`put_label`, `image_grid`).
"""
import atexit
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# FFmpeg's own lines ("moov atom not found" before our "not a readable video"): we report what matters
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET


STOP_TIMEOUT_S = 5  # longest wait for the decoding thread to leave OpenCV when a reader stops early


class VideoError(Exception):
    """A video that cannot be opened or decoded; the message is meant for the user."""


@dataclass
class VideoInfo:
    path: str
    n_frames: int  # as the container reports it; may be off by a few frames
    fps: float
    width: int
    height: int


def open_video(path):
    """Open `path` with OpenCV and check it really is a decodable video."""
    path = str(path)
    if not os.path.isfile(path):
        raise VideoError(f"no such file: {path}")
    if os.path.getsize(path) == 0:
        raise VideoError(f"empty file (0 bytes): {path}")
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise VideoError(f"not a readable video: {path}")
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    if width <= 0 or height <= 0:
        capture.release()
        raise VideoError(f"not a readable video: {path}")
    fps = capture.get(cv2.CAP_PROP_FPS)
    info = VideoInfo(path, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
                     fps if fps and fps > 0 else 25.0, width, height)
    return capture, info


def video_info(path):
    capture, info = open_video(path)
    capture.release()
    return info


def iter_frames(path, every=1, max_frames=None, prefetch=16, start=0):
    """Yield (frame_index, BGR frame) for every `every`-th frame from `start` on, decoded in a
    background thread.

    Skipped frames are only grabbed (demuxed and decoded without colour conversion), and the
    thread lets decoding overlap with whatever the caller does with each frame.
    """
    capture, _ = open_video(path)
    frames = queue.Queue(maxsize=prefetch)
    stop = threading.Event()

    def hand_over(item):
        """Queue `item` unless told to stop first (False then): never waits for good on a full queue."""
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def decode():
        index, kept = 0, 0
        try:
            while max_frames is None or kept < max_frames:
                if index % every == 0 and index >= start:
                    ok, frame = capture.read()
                    if not ok or not hand_over((index, frame)):
                        break
                    kept += 1
                elif stop.is_set() or not capture.grab():
                    break
                index += 1
        finally:
            capture.release()
            hand_over(None)

    def stop_decoding():
        # Only signals and waits, never touches the queue: a Ctrl-C landing just after the consumer
        # took the queue's lock leaves that lock held (bpo-29988), and waiting on it would hang.
        stop.set()
        if thread is not threading.current_thread():
            thread.join(timeout=STOP_TIMEOUT_S)

    thread = threading.Thread(target=decode, daemon=True)
    thread.start()
    # A loop interrupted by Ctrl-C can leave this generator open until the interpreter exits; the
    # thread, still inside OpenCV's decoder then, would abort the process ("FATAL: exception not
    # rethrown"). Exit handlers run while threads still may, so the thread is stopped there too.
    atexit.register(stop_decoding)
    try:
        while (item := frames.get()) is not None:
            yield item
    finally:
        atexit.unregister(stop_decoding)
        stop_decoding()


def read_frames(path, every=1, max_frames=None):
    """All kept frames at once: (frame indices, list of frames). For short clips."""
    indices, frames = [], []
    for index, frame in iter_frames(path, every, max_frames):
        indices.append(index)
        frames.append(frame)
    return indices, frames


class VideoWriter:
    """Write BGR frames to an mp4: H.264 via PyAV when available, else OpenCV `mp4v`.

    The file is written under a temporary name and renamed on `close()`, so an interrupted run
    never leaves a file that looks complete.
    """

    def __init__(self, path, fps, codec="auto"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.partial_path = self.path.with_name(self.path.stem + ".partial" + self.path.suffix)
        self.fps = float(fps)
        self.codec = codec
        self._container = self._stream = self._cv_writer = None
        self.n_frames = 0

    def _open(self, height, width):
        if self.codec in ("auto", "h264"):
            try:
                import av
                from fractions import Fraction
                self._container = av.open(str(self.partial_path), mode="w")
                rate = Fraction(self.fps).limit_denominator(1001)
                self._stream = self._container.add_stream("libx264", rate=rate)
                self._stream.width, self._stream.height = width - width % 2, height - height % 2
                self._stream.pix_fmt = "yuv420p"
                # tagged BT.601, the matrix the frames are converted with (see `write`), so players decode it alike
                self._stream.options = {"crf": "20", "preset": "veryfast",
                                        "x264-params": "colorprim=smpte170m:transfer=smpte170m:colormatrix=smpte170m"}
                self.codec = "h264"
                return
            except Exception:
                if self._container is not None:
                    self._container.close()
                self._container = None
                if self.codec == "h264":
                    raise
        self._cv_writer = cv2.VideoWriter(str(self.partial_path), cv2.VideoWriter_fourcc(*"mp4v"),
                                          self.fps, (width, height))
        self.codec = "mp4v"

    def write(self, frame):
        if self._container is None and self._cv_writer is None:
            self._open(*frame.shape[:2])
        if self._cv_writer is not None:
            self._cv_writer.write(frame)
        else:
            import av
            even = np.ascontiguousarray(frame[: self._stream.height, : self._stream.width])
            # OpenCV converts to YUV (BT.601, video range), not PyAV: frames read back from PyAV's
            # conversion come out about 2 levels darker (RESULTS.md, the karate1 transfers)
            video_frame = av.VideoFrame.from_ndarray(cv2.cvtColor(even, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
            for packet in self._stream.encode(video_frame):
                self._container.mux(packet)
        self.n_frames += 1

    def close(self):
        """Finish the file and move it to its final name; returns the path written."""
        if self._cv_writer is not None:
            self._cv_writer.release()
        elif self._container is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
        else:
            raise VideoError(f"no frames were written to {self.path}")
        os.replace(self.partial_path, self.path)
        return self.path

    def abort(self):
        """Drop a half-written file (after an error or Ctrl-C)."""
        try:
            if self._cv_writer is not None:
                self._cv_writer.release()
            elif self._container is not None:
                self._container.close()
        except Exception:
            pass
        self.partial_path.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(path, frames, fps, codec="auto"):
    """Write a sequence of BGR frames; returns the path."""
    with VideoWriter(path, fps, codec) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.path


# --- frames shown side by side ------------------------------------------------------------------------
LABEL_BAND = 28  # height of the band of column labels above an image grid


def put_label(image, text, row=0, colour=(255, 255, 255), scale=None):
    """Write `text` on a dark band at the top left of `image` (row 0, 1, ... from the top), in place;
    returns the image. `scale`: the font's, by default one that grows with the image's height."""
    scale = scale or image.shape[0] / 512
    (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    top = 4 + row * (height + baseline + 6)
    cv2.rectangle(image, (2, top), (10 + width, top + height + baseline + 4), (0, 0, 0), -1)
    cv2.putText(image, text, (6, top + height + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
    return image


def image_grid(rows, labels=None):
    """Rows of equally sized uint8 BGR tiles -> one image, with `labels` (one per column) on a dark
    band above the columns."""
    grid = np.concatenate([np.concatenate(row, axis=1) for row in rows], axis=0)
    if not labels:
        return grid
    tile_width = grid.shape[1] // len(labels)
    header = [put_label(np.zeros((LABEL_BAND, tile_width, 3), np.uint8), label, scale=0.5) for label in labels]
    return np.concatenate([np.concatenate(header, axis=1), grid], axis=0)
