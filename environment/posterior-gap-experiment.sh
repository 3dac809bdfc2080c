#!/usr/bin/env bash
# The inference gap per posterior family on dynamically binarised Fashion-MNIST (docs/results.md, "Richer posteriors"):
# Cremer, Li and Duvenaud's setting as far as it goes here: latent 50, decoder 50-200-200-784, the encoder 784-200-200 and a
# larger 784-500-500, a diagonal Gaussian against flows (a planar flow, whose every parameter q* fits per example, then an
# inverse autoregressive flow, whose MADE weights q* keeps shared). Trains each model (`vaelab train`), then splits its gap on
# the first test images (`vaelab gap`), model after model; a rerun skips what is done. Logs and checkpoints go to $OUT
# (default results/posterior-gap, ignored by git). Run it alone on the machine: two torch processes on two cores slow each
# other about tenfold. Settings by environment: EPOCHS, EXAMPLES, DISTRIBUTIONS, CHAINS, MODELS (encoder width:family pairs).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/posterior-gap}
EPOCHS=${EPOCHS:-50}
EXAMPLES=${EXAMPLES:-1000}
DISTRIBUTIONS=${DISTRIBUTIONS:-250}
CHAINS=${CHAINS:-4}
MODELS=${MODELS:-"200:Diagonal 200:Planar:8 500:Diagonal 500:Planar:8 200:Iaf:2 500:Iaf:2"}
mkdir -p "$OUT"
dotnet build src/VaeLab.Cli -c Release -v q -nologo > /dev/null
vaelab() { dotnet run --project src/VaeLab.Cli -c Release --no-build -- "$@"; }
for model in $MODELS; do
    encoder=${model%%:*}
    posterior=${model#*:}
    name="enc${encoder}-${posterior/:/}"
    if [ ! -f "$OUT/$name.trained" ]; then
      /usr/bin/time -f "%e s wall, %M KB peak" -o "$OUT/$name.train-time" \
        bash -c "$(declare -f vaelab); vaelab train --seed 1 --binarization Dynamic --latent 50 --hidden 200 200 --encoder-hidden $encoder $encoder \
          --posterior $posterior --epochs $EPOCHS --checkpoint $OUT/$name.ckpt --resume --importance-samples 0" > "$OUT/$name.train.log"
      touch "$OUT/$name.trained"
    fi
    if [ ! -f "$OUT/$name.gap.done" ]; then
      /usr/bin/time -f "%e s wall, %M KB peak" -o "$OUT/$name.gap-time" \
        bash -c "$(declare -f vaelab); vaelab gap --checkpoint $OUT/$name.ckpt --examples $EXAMPLES --distributions $DISTRIBUTIONS --chains $CHAINS --seed 1" > "$OUT/$name.gap.log"
      touch "$OUT/$name.gap.done"
    fi
    echo "$name: trained ($(cat "$OUT/$name.train-time")), gap ($(cat "$OUT/$name.gap-time"))"
done
