#!/usr/bin/env bash
# The GPU checks in one call, for a session lent a GPU machine (see the Development section of the
# README). Runs benchmarks/train_throughput.py (the MetaMath anchor, then ours at 6.7B and 1.1B,
# each in its own process, in the same call; about 4 minutes on an H200), then the gpu-marked
# tests (about 40 s). Everything is logged under $OUT.
#
# Prepare on the CPU machine first. ../shared does not travel, so copy the data and the anchor
# into the git-ignored .carry/:
#   mkdir -p .carry && cp -r ../shared/data ../shared/bench .carry/
# Python packages the GPU image lacks travel as wheels in .whl/ (git-ignored), e.g. Liger:
#   python3 -m pip download --no-deps liger-kernel==0.8.5 -d .whl
# Then call the device tool:
#   run(command="TRAIN_TIMEOUT=390 TEST_TIMEOUT=60 bash benchmarks/gpu_session.sh",
#       carry=[".carry", ".whl"], timeout_s=480)
# Other specs as arguments, e.g. the compiled trainer (config compile=true) beside its baseline:
#   SKIP_TESTS=1 bash benchmarks/gpu_session.sh ours:7b:32:auto:::noliger ours:7b:32:auto:::compile
set -uo pipefail
OUT=${OUT:-runs/gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export DATA=${DATA:-.carry/data}
export METAMATH_DATA=$DATA
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD/src:$PWD/benchmarks:${PYTHONPATH:-}
{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    python3 -c "import torch, transformers, accelerate; print('torch', torch.__version__,
'transformers', transformers.__version__, 'accelerate', accelerate.__version__)"
    python3 -c "from metamath.train.attention import varlen_kernel_check as c; print('varlen', c())"
} 2>&1 | tee "$OUT/env.txt"

# Specs can be given as arguments; by default the ones the README's table reports.
SPECS=("$@")
# (Liger is used where its wheel was carried; noliger measures without it)
[ ${#SPECS[@]} -eq 0 ] && SPECS=(anchor:7b:4 anchor:1b:4 ours:7b:32:auto ours:7b:32:auto:::noliger
                                ours:7b:16:auto ours:1b:64:auto ours:1b:64:auto:::noliger
                                ours:7b:32:auto:::compile)
timeout "${TRAIN_TIMEOUT:-400}" python3 benchmarks/train_throughput.py --steps 30 \
    --anchor .carry/bench/anchor_train_throughput.py --out "$OUT" "${SPECS[@]}" 2>&1 \
    | grep -v "step/s" | tee "$OUT/train_throughput.log"

# The gpu-marked tests after the benchmark, so a slow start cannot cost the figures.
if [ -z "${SKIP_TESTS:-}" ]; then
    timeout "${TEST_TIMEOUT:-100}" python3 -m pytest -q -p no:cacheprovider -m gpu tests/test_train_attention.py \
        tests/test_train_run.py \
        tests/test_llm_hf.py 2>&1 | tee "$OUT/gpu_tests.log"
fi

