#!/usr/bin/env bash
# RESULTS.md's quality and smoothness figures, reproduced: train every generator on the real target
# for the same wall-clock budget, evaluate on its held-out frames, transfer the real source onto it
# with each generator (smoothing on and off), and measure the transfers.
#
#   bash bench/quality.sh            # everything (about 80 minutes on a 2-core CPU)
#   bash bench/quality.sh evaluate   # only the measurements, from the checkpoints already trained
#
# Results land in out/eval/ (copied into bench/results/ for RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
TARGET=../shared/data/taichi2.mp4
SOURCE=../shared/data/karate1.mp4
MINUTES=${MINUTES:-20}        # per generator at 128x128
MINUTES_256=${MINUTES_256:-15}  # the GAN at 256x256
MODELS=$($PY -c "from VideoSkeleton import VideoSkeleton; print('data/models/' + VideoSkeleton('$TARGET', verbose=False).name)")

if [ "${1:-all}" = all ]; then
  $PY GenVanillaNN.py $TARGET --variant vector --size 128 --minutes "$MINUTES"
  $PY GenVanillaNN.py $TARGET --variant image --size 128 --minutes "$MINUTES"
  $PY GenGAN.py $TARGET --size 128 --minutes "$MINUTES"
  $PY GenGAN.py $TARGET --size 256 --minutes "$MINUTES_256" --augment --checkpoint "$MODELS/gan-256.pt"
fi

# Held-out quality: the four generators at 128 (nearest at the cache's 256), then the GAN at 256;
# and the GAN painting over the person too, as in training (--paint-person), at both sizes.
$PY Evaluate.py $TARGET --out out/eval/taichi2-128
$PY Evaluate.py $TARGET --gens nearest,gan --checkpoints "gan=$MODELS/gan-256.pt" --out out/eval/taichi2-256
$PY Evaluate.py $TARGET --gens gan --paint-person --out out/eval/taichi2-128-paint-person
$PY Evaluate.py $TARGET --gens gan --paint-person --checkpoints "gan=$MODELS/gan-256.pt" --out out/eval/taichi2-256-paint-person

# Transfers of the karate source onto the tai chi target, smoothing on and off, and their smoothness.
for gen in nearest vanilla-vector vanilla-image gan; do
  for smoothing in smooth raw; do
    video=out/transfer/karate1_to_taichi2_${gen}_${smoothing}.mp4
    flag=$([ $smoothing = raw ] && echo --no-smooth || true)
    $PY DanceDemo.py $SOURCE --target $TARGET --gen $gen --out "$video" $flag
    $PY Evaluate.py $TARGET --gens none --transfer "$video" --out "out/eval/transfer_${gen}_${smoothing}"
  done
done
# ... the GAN at 256x256 (the checkpoint of the held-out table's second part), and the GAN 128 painting the person
for smoothing in smooth raw; do
  video=out/transfer/karate1_to_taichi2_gan-256_${smoothing}.mp4
  flag=$([ $smoothing = raw ] && echo --no-smooth || true)
  $PY DanceDemo.py $SOURCE --target $TARGET --gen gan --checkpoint "$MODELS/gan-256.pt" --out "$video" $flag
  $PY Evaluate.py $TARGET --gens none --transfer "$video" --out "out/eval/transfer_gan-256_${smoothing}"
  video=out/transfer/karate1_to_taichi2_gan-paint-person_${smoothing}.mp4
  $PY DanceDemo.py $SOURCE --target $TARGET --gen gan --paint-person --out "$video" $flag
  $PY Evaluate.py $TARGET --gens none --transfer "$video" --out "out/eval/transfer_gan-paint-person_${smoothing}"
done

# What MediaPipe can read on the real target: the jitter of the real video, the knife-edge detection.
$PY bench/detector_limits.py $TARGET --out out/eval/detector_limits

# RESULTS.md's still: the same two frames of the nearest-neighbour and GAN transfers.
$PY bench/transfer_still.py out/transfer/karate1_to_taichi2_nearest_smooth.mp4 \
  out/transfer/karate1_to_taichi2_gan_smooth.mp4 --frames 40,100 --out out/eval/transfer_karate1_to_taichi2.png
