#!/usr/bin/env bash
# One prepared GPU check (issue 21): bench/gpu_check.sh [--smoke] OUT_DIR  ->  OUT_DIR/gpu_check.json
# Fits in 8 minutes on one GPU; --smoke runs the same steps on the CPU in under a minute. See bench/gpu_check.py.
# On the lent GPU machine (no venv, no network, ../shared not there) it uses what bench/gpu_prepare.sh put in the
# repo's ignored folders and the device calls carried: .whl (installed to /tmp/site), .data (CIFAR-10), .inc1 + .inc2
# (the FID Inception weights, joined into the cache).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-}
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
# The carried wheels fill in the GPU image's python3; a project venv has everything already.
if [ "$PY" = python3 ] && [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
if [ -f .inc1/part ] && [ -f .inc2/part ]; then
  cache=${SYNTHMIX_CACHE:-$HOME/.cache/synthmix}
  mkdir -p "$cache"
  w=$cache/inception-2015-12-05-from-fid-helper-default_1.pth
  cat .inc1/part .inc2/part > "$w.tmp"
  if [ "$(sha256sum "$w.tmp" | cut -d' ' -f1)" != "$(cat .inc1/SHA256)" ]; then
    rm -f "$w.tmp"; echo "gpu_check: .inc1/.inc2 do not join into the Inception weights; rerun bench/gpu_prepare.sh" >&2
    exit 2
  fi
  mv "$w.tmp" "$w"
fi
export PYTHONUNBUFFERED=1
exec "$PY" bench/gpu_check.py "$@"
