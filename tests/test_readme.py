"""RESULTS.md's figures are the ones the code produced: each results table in it is the table
Evaluate.py (or the benchmark) makes from the JSON kept in bench/results/; README.md's summary quotes them."""
import json
import re

import pytest

from conftest import REPO_ROOT
from Evaluate import results_table, temporal_table

README = (REPO_ROOT / "RESULTS.md").read_text()  # where the tables live; the README links to it
RESULTS = sorted((REPO_ROOT / "bench" / "results").glob("*/results.json"))
TRANSFERS = sorted((REPO_ROOT / "bench" / "results").glob("*/transfer.json"))


def test_the_readme_has_results():
    assert RESULTS, "bench/results/*/results.json is missing: the README's table has no source"


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: p.parent.name)
def test_readme_table_matches_results_json(path):
    rows = json.loads(path.read_text())["rows"]
    assert results_table(rows) in README, f"README table differs from {path}: regenerate it with Evaluate.results_table"
    if any("tof" in row for row in rows):  # results written before the temporal figures have no such table
        assert temporal_table(rows) in README, f"README temporal table differs from {path}: see Evaluate.temporal_table"


@pytest.mark.parametrize("path", TRANSFERS, ids=lambda p: p.parent.name)
def test_readme_transfer_figures_match_transfer_json(path):
    figures = json.loads(path.read_text())
    row = re.search(rf"\| {re.escape(path.parent.name)} \|[^\n]*", README)
    assert row, f"no README row for {path.parent.name}"
    cells = [cell.strip() for cell in row.group(0).strip("|").split("|")]
    text = lambda value: "-" if value is None else f"{value:.2f}"  # null: no jitter without detections
    assert cells[1:4] == [text(figures["jitter_ratio"]), text(figures["flicker"]), text(figures["detection_rate"])]
    assert cells[5] == text(figures["background_steadiness"])


def test_readme_detector_limits_match_limits_json():
    from bench.detector_limits import limits_markdown
    results = json.loads((REPO_ROOT / "bench" / "results" / "detector_limits" / "limits.json").read_text())
    for table in limits_markdown(results).split("\n\n"):
        assert table in README, "README detector-limit tables differ from bench/results/detector_limits/limits.json"


def test_readme_scene_table_matches_scene_json():
    from bench.scene_quality import scene_table
    results = [json.loads(path.read_text()) for path in sorted((REPO_ROOT / "bench" / "results" / "scene").glob("*.json"))]
    assert results and scene_table(results) in README, "README scene table differs from bench/results/scene/*.json"


def test_the_readme_is_a_short_guide_with_the_recipe_first():
    guide = (REPO_ROOT / "README.md").read_text().splitlines()
    assert len(guide) <= 200
    first_screen = "\n".join(guide[:60])
    for step in ("VideoSkeleton.py", "GenGAN.py", "DanceDemo.py", "make demo", "make test"):
        assert step in first_screen
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", "\n".join(guide))
    assert images and all((REPO_ROOT / image).is_file() for image in images)


def test_the_user_guide_summary_matches_the_results():
    """README.md's short results table quotes the 256 held-out rows and the karate1 transfers: each of its
    generator rows is the bench/results figures, rounded as printed."""
    guide = (REPO_ROOT / "README.md").read_text()
    rows = {row["name"]: row for row in json.loads((REPO_ROOT / "bench/results/taichi2-256/results.json").read_text())["rows"]}
    for name in ("nearest", "gan"):
        row = re.search(rf"^\| {name} \|[^\n]*", guide, re.MULTILINE)
        assert row, f"no README summary row for {name}"
        cells = [cell.strip() for cell in row.group(0).strip("|").split("|")]
        figures, transfer = rows[name], json.loads((REPO_ROOT / f"bench/results/transfer_{name}/transfer.json").read_text())
        assert cells[1:] == [f"{figures['ssim']:.3f}", f"{figures['ssim_person']:.3f}", f"{figures['ssim_background']:.3f}",
                             f"{figures['detection_rate']:.2f}", f"{figures['joint_error_px']:.1f}",
                             f"{figures['flicker_ratio']:.2f}", f"{transfer['background_steadiness']:.2f}"]
