#!/usr/bin/env bash
# RESULTS.md's quality and transfer figures, reproduced: train the network generators on the real
# target, evaluate every generator on its held-out frames, transfer the real source onto it with each
# generator and measure the transfers.
#
#   bash bench/quality.sh            # everything (about three hours on an idle 2-core CPU)
#   bash bench/quality.sh evaluate   # only the measurements, from the checkpoints already trained
#
# Results land in out/eval/ (copied into bench/results/ for RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
TARGET=../shared/data/taichi2.mp4
SOURCE=../shared/data/karate1.mp4
MODELS=$($PY -c "from VideoSkeleton import VideoSkeleton; print(VideoSkeleton('$TARGET', verbose=False).cache_dir.name)")
MODELS=data/models/$MODELS

if [ "${1:-all}" = all ]; then
  $PY GenVanillaNN.py $TARGET --variant vector --size 128 --epochs 40
  $PY GenVanillaNN.py $TARGET --variant image --size 128 --epochs 20
  $PY GenGAN.py $TARGET --size 256 --epochs 8 --augment --checkpoint "$MODELS/gan-256.pt"
  $PY GenGAN.py $TARGET --size 256 --epochs 8 --augment --seed 1 --checkpoint "$MODELS/gan-256-seed1.pt"
  $PY GenGAN.py $TARGET --size 256 --epochs 8 --augment --seed 2 --checkpoint "$MODELS/gan-256-seed2.pt"
  $PY GenGAN.py $TARGET --size 256 --epochs 8 --augment --seed 3 --checkpoint "$MODELS/gan-256-seed3.pt"
  # the temporal GAN, the same 808 steps of 8 judged frames (4 epochs of 4 runs of 3 consecutive frames per step),
  # and the same trained on pairs only (the first of each pair generated on its own)
  $PY GenGAN.py $TARGET --size 256 --epochs 4 --augment --temporal --checkpoint "$MODELS/gan-256-temporal.pt"
  $PY GenGAN.py $TARGET --size 256 --epochs 4 --augment --temporal --seed 1 --checkpoint "$MODELS/gan-256-temporal-seed1.pt"
  $PY GenGAN.py $TARGET --size 256 --epochs 4 --augment --temporal --seed 2 --checkpoint "$MODELS/gan-256-temporal-seed2.pt"
  $PY GenGAN.py $TARGET --size 256 --epochs 4 --augment --temporal --temporal-run 2 --checkpoint "$MODELS/gan-256-temporal-pairs.pt"
fi

# Held-out quality: nearest neighbour and the GAN at 256, the vanilla networks at 128.
$PY Evaluate.py $TARGET --gen nearest --gen gan --checkpoint "gan=$MODELS/gan-256.pt" --out out/eval/taichi2-256
$PY Evaluate.py $TARGET --gen gan --checkpoint "$MODELS/gan-256-seed1.pt" --out out/eval/taichi2-256-seed1
$PY Evaluate.py $TARGET --gen gan --checkpoint "$MODELS/gan-256-seed2.pt" --out out/eval/taichi2-256-seed2
$PY Evaluate.py $TARGET --gen gan --checkpoint "$MODELS/gan-256-seed3.pt" --out out/eval/taichi2-256-seed3
$PY Evaluate.py $TARGET --gen vanilla-vector --gen vanilla-image --out out/eval/taichi2-128
$PY Evaluate.py $TARGET --gen nearest --gen gan --checkpoint "gan=$MODELS/gan-256-temporal.pt" --out out/eval/taichi2-256-temporal
$PY Evaluate.py $TARGET --gen gan --checkpoint "$MODELS/gan-256-temporal-pairs.pt" --out out/eval/taichi2-256-temporal-pairs
# two more seeds of the temporal GAN (quoted in RESULTS' text, not copied to bench/results)
$PY Evaluate.py $TARGET --gen gan --checkpoint "$MODELS/gan-256-temporal-seed1.pt" --out out/eval/taichi2-256-temporal-seed1
$PY Evaluate.py $TARGET --gen gan --checkpoint "$MODELS/gan-256-temporal-seed2.pt" --out out/eval/taichi2-256-temporal-seed2

# DanceDemo's generator options for a run name: a generator, or gan[-temporal][-seedN] for a GAN checkpoint.
generator_options() {
  case $1 in
    gan) echo "--gen gan --checkpoint $MODELS/gan-256.pt" ;;
    gan-*) echo "--gen gan --checkpoint $MODELS/gan-256-${1#gan-}.pt" ;;
    *) echo "--gen $1" ;;
  esac
}

# Transfers of the karate source onto the tai chi target, and their smoothness.
# (the GANs' other seeds are quoted in RESULTS' text, not copied to bench/results)
for run in nearest vanilla-vector vanilla-image gan gan-temporal gan-seed1 gan-seed2 gan-seed3 gan-temporal-seed1 gan-temporal-seed2; do
  video=out/transfer/karate1_to_taichi2_${run}.mp4
  $PY DanceDemo.py $SOURCE --target $TARGET $(generator_options $run) --out "$video"
  $PY Evaluate.py $TARGET --gen none --transfer "$video" --out "out/eval/transfer_${run}"
done

# The same GAN checkpoints with exemplars from the frames alone, not their mirror images too
# (RESULTS: "Mirror images as exemplars"; quoted in its text, not copied to bench/results).
for run in gan gan-seed1 gan-seed2 gan-seed3 gan-temporal; do
  video=out/transfer/karate1_to_taichi2_${run}-no-mirror.mp4
  $PY DanceDemo.py $SOURCE --target $TARGET $(generator_options $run) --no-mirror --out "$video"
  $PY Evaluate.py $TARGET --gen none --transfer "$video" --out "out/eval/transfer_${run}-no-mirror"
done

# The built-in synthetic source (facing the camera throughout, no turns) onto the same target.
$PY SyntheticDancer.py data/synthetic/source.mp4 --preset source
for run in nearest gan gan-seed1 gan-seed2 gan-seed3; do
  video=out/transfer/source_to_taichi2_${run}.mp4
  $PY DanceDemo.py data/synthetic/source.mp4 --target $TARGET $(generator_options $run) --out "$video"
  $PY Evaluate.py $TARGET --gen none --transfer "$video" --out "out/eval/transfer_synthetic_${run}"
done
$PY DanceDemo.py data/synthetic/source.mp4 --target $TARGET $(generator_options gan) --no-mirror \
  --out out/transfer/source_to_taichi2_gan-no-mirror.mp4
$PY Evaluate.py $TARGET --gen none --transfer out/transfer/source_to_taichi2_gan-no-mirror.mp4 \
  --out out/eval/transfer_synthetic_gan-no-mirror

# What MediaPipe can read on the real target: the jitter of the real video, the knife-edge detection.
$PY -m bench.detector_limits $TARGET --out out/eval/detector_limits

# The README's still: two frames of the GAN transfer (source | driving pose | the scene).
$PY -m bench.transfer_still out/transfer/karate1_to_taichi2_gan.mp4 --frames 40,100 --width 900 \
  --out out/eval/scene_karate1_to_taichi2.png
