"""Where the project reads and writes: folders anchored to the repository, so that every script
runs from any folder, and paths shown as the user would type them."""
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
CACHE_ROOT = REPO_ROOT / "data" / "cache"  # VideoSkeleton caches: data/cache/<video>-<hash>/
MODELS_ROOT = REPO_ROOT / "data" / "models"  # checkpoints: data/models/<target>/<generator>.pt
SYNTHETIC_ROOT = REPO_ROOT / "data" / "synthetic"  # the built-in synthetic videos
OUT_ROOT = REPO_ROOT / "out"  # videos, images and figures
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"  # the sample clips, beside the repository


def shown_path(path):
    """A path as the user would type it: relative to the current folder or absolute, the shorter."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive
        return absolute
    return min(relative, absolute, key=len)


def shown_python():
    """The interpreter running this script, as the user would type it (e.g. .venv/bin/python)."""
    return shown_path(sys.executable) if sys.executable else "python"
