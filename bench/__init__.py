"""Benchmarks and measurements beyond Evaluate.py, run from the repository root as modules:

    python -m bench.run --quick                # speed of every stage
    python -m bench.detector_limits            # what MediaPipe can read on the real target
    python -m bench.scene_quality --synthetic  # the scene model against ground truth
    python -m bench.transfer_still VIDEO... --out still.png
"""
