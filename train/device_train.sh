#!/bin/bash
# Trains gpt-oss-nano on a lent CUDA machine (no gossamer binary there): reads the conversations
# this machine rendered (.gpu/data.xz, made by train.py --data) and hands back the compact state
# in $OUT; `train.py --finish $OUT/state ...` here then evaluates and exports it.
#   device run, carry [".gpu"]: bash train/device_train.sh MINUTES [extra train.py args]
set -o pipefail
minutes=${1:-8}
shift
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,clocks.sm --format=csv,noheader
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name())'
python3 train/train.py --data .gpu/data.xz --device cuda --minutes "$minutes" \
  --save-state "$OUT/state" "$@" 2>&1 | tee "$OUT/train.log"
