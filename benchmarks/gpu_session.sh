#!/usr/bin/env bash
# The GPU checks in one call, for a session lent a GPU machine (see the Development section of the
# README). Two plans; everything is logged under $OUT.
#
# PLAN=train (default): benchmarks/train_throughput.py (the MetaMath anchor, then ours at 6.7B and
# 1.1B, each in its own process; about 4 minutes on an H200), then the gpu-marked tests (~40 s).
#
# PLAN=gen (issue 18, about 8 minutes on an H200), in order of what matters most:
#   1. benchmarks/eval_throughput.py at 7B on the 1,319 GSM8K prompts with the anchor in the same
#      run (goal >= 15,000 new tokens/s), plus the augmentation-style run (AnsAug prompts, k=10,
#      t=0.7, top-p 0.95, $AUG_LIMIT questions) with the shared prefix and without (the unshared
#      run is today's path: goal >= 2x its samples/s);
#   2. one FSDP job on one GPU at the 1.1B shape through configs/train/accelerate/fsdp_8gpu.yaml
#      with num_processes=1, beside the same spec in a single process (goal: within 10%);
#   3. CONTINUOUS=1 only: continuous batching against the static path at 1.1B ($CONT_LIMIT prompts);
#   4. the gpu-marked tests.
# DRY=1 runs the same steps on a CPU at shapes that finish in minutes (tiny model, few prompts):
# it checks the script, not the figures.
#
# Prepare on the CPU machine first. ../shared does not travel, so copy the data and the anchor
# into the git-ignored .carry/:
#   mkdir -p .carry && cp -r ../shared/data ../shared/bench .carry/
# Python packages the GPU image lacks travel as wheels in .whl/ (git-ignored), e.g. Liger:
#   python3 -m pip download --no-deps liger-kernel==0.8.5 -d .whl
# Then call the device tool:
#   run(command="TRAIN_TIMEOUT=390 TEST_TIMEOUT=60 bash benchmarks/gpu_session.sh",
#       carry=[".carry", ".whl"], timeout_s=480)
#   run(command="PLAN=gen bash benchmarks/gpu_session.sh", carry=[".carry", ".whl"], timeout_s=600)
# Other training specs as arguments (PLAN=train), e.g. the compiled trainer beside its baseline:
#   SKIP_TESTS=1 bash benchmarks/gpu_session.sh ours:7b:32:auto:::noliger ours:7b:32:auto:::compile
set -uo pipefail
OUT=${OUT:-runs/gpu}
PLAN=${PLAN:-train}
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
    [ -n "${DRY:-}" ] || nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    python3 -c "import torch, transformers, accelerate; print('torch', torch.__version__,
'transformers', transformers.__version__, 'accelerate', accelerate.__version__)"
    python3 -c "from metamath.train.attention import varlen_kernel_check as c; print('varlen', c())"
} 2>&1 | tee "$OUT/env.txt"

if [ "$PLAN" = gen ]; then
    if [ -n "${DRY:-}" ]; then  # CPU shapes: the script's plumbing, not its figures
        EVAL_SIZE=tiny EVAL_ARGS=(--limit 24 --max-tokens 16 --batch-size 8 --no-anchor)
        AUG_LIMIT=${AUG_LIMIT:-2} CONT_SIZE=tiny TRAIN_ARGS=(--tiny)
        FSDP_SPECS=(ours:tiny:8:varlen ours:tiny:8:varlen:::fsdp)
    else
        EVAL_SIZE=7b EVAL_ARGS=(--anchor .carry/bench/anchor_generate.py --anchor-specs 7b:64)
        AUG_LIMIT=${AUG_LIMIT:-64} CONT_SIZE=1b TRAIN_ARGS=(--steps 30)
        FSDP_SPECS=(ours:1b:64:auto ours:1b:64:auto:::fsdp)
    fi
    timeout "${EVAL_TIMEOUT:-360}" python3 benchmarks/eval_throughput.py --sizes "$EVAL_SIZE" \
        "${EVAL_ARGS[@]}" --aug --aug-limit "$AUG_LIMIT" --out "$OUT/eval_throughput.json" 2>&1 \
        | tee "$OUT/eval_throughput.log"
    timeout "${TRAIN_TIMEOUT:-150}" python3 benchmarks/train_throughput.py "${TRAIN_ARGS[@]}" \
        --out "$OUT" "${FSDP_SPECS[@]}" 2>&1 | grep -v "step/s" | tee "$OUT/train_fsdp.log"
    if [ -n "${CONTINUOUS:-}" ]; then
        timeout "${CONT_TIMEOUT:-120}" python3 benchmarks/eval_throughput.py --sizes "$CONT_SIZE" \
            --limit "${CONT_LIMIT:-256}" --no-anchor --continuous \
            ${DRY:+--max-tokens 16 --batch-size 8} --out "$OUT/eval_continuous.json" 2>&1 \
            | tee "$OUT/eval_continuous.log"
    fi
    if [ -z "${SKIP_TESTS:-}" ] && [ -z "${DRY:-}" ]; then
        timeout "${TEST_TIMEOUT:-60}" python3 -m pytest -q -p no:cacheprovider -m gpu \
            tests/test_llm_hf.py tests/test_train_run.py 2>&1 | tee "$OUT/gpu_tests.log"
    fi
    exit 0
fi

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
