"""Shared test fixtures: the repository on the import path, the sample clips, a private cache root.

The sample clips live outside the repository in ../shared/data/; tests that need them are skipped
with a clear reason when that folder is absent.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
sys.path.insert(0, str(REPO_ROOT))

import video_io  # noqa: E402  (needs the repository on the path first)


def sample_clip(name):
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"sample clip {name} not found in {SHARED_DATA} (the ../shared checkout)")
    return path


@pytest.fixture(scope="session")
def karate1():
    """192 frames, 640x360; frames ~129-151 are a transition graphic with no full-size person."""
    return sample_clip("karate1.mp4")


@pytest.fixture(scope="session")
def taichi2():
    """901 frames, 960x720, one woman doing tai chi."""
    return sample_clip("taichi2.mp4")


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    """A cache root private to one test module, so tests never touch data/cache."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def no_person_video(tmp_path_factory):
    """A real, decodable 20-frame video of plain colour frames: nobody in it."""
    frames = [np.full((120, 160, 3), (40 + 5 * i, 90, 160), dtype=np.uint8) for i in range(20)]
    return video_io.write_video(tmp_path_factory.mktemp("videos") / "no_person.mp4", frames, fps=10)


@pytest.fixture(scope="session")
def synthetic_target(tmp_path_factory):
    """A short built-in synthetic target (60 frames) and its VideoSkeleton with 64-pixel crops."""
    import SyntheticDancer
    from VideoSkeleton import VideoSkeleton
    folder = tmp_path_factory.mktemp("synthetic")
    video = SyntheticDancer.default_target(folder / "target.mp4", n_frames=60, size=(256, 192))
    return VideoSkeleton(video, crop_size=64, cache_root=folder / "cache", verbose=False)
