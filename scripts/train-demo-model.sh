#!/usr/bin/env bash
# Rebuilds the demo model (models/tolk-demo-en-fr-de-es) from scratch, deterministically:
# harvest Debian's gettext catalogs → clean and split → SentencePiece → train with tolk's own
# Transformer (tools/train, LibTorch autograd, bf16 autocast) → score on the test split.
#   scripts/train-demo-model.sh              # the schedule the committed model was trained with
#   STAGES=400 scripts/train-demo-model.sh   # a shorter run (any tolk_train option via TRAIN_ARGS)
# The committed model's schedule has four stages: a cosine over 2,400 steps, then a warm
# restart from that checkpoint with a cosine over 5,600 steps (the learning rate rises to
# 1.3e-3 at step 2,400 and decays to its 1e-4 floor at 5,600), then another with a cosine over
# 8,800 steps (6.9e-4 at step 5,600, 1e-4 at 8,800), then one over 12,000 steps (4.3e-4 at
# step 8,800, 1e-4 at 12,000). STAGES lists each stage's last step.
# Interrupted? Run it again: finished steps are skipped and training resumes from its last
# checkpoint in build/demo-train/. Progress (loss, tokens/s, ETA) is printed while it trains.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cpu-env.sh
MODEL=models/tolk-demo-en-fr-de-es
DATA=build/demo-data
STAGES=${STAGES:-2400 5600 8800 12000}
bash scripts/install-deps.sh >/dev/null
bash scripts/build.sh >/dev/null
bash tools/demo_model/harvest_catalogs.sh
[ -f "$DATA/train.tsv" ] || python3 tools/demo_model/prepare_data.py
[ -f "$MODEL/sentencepiece.bpe.model" ] || python3 tools/demo_model/train_tokenizer.py
# Each stage resumes from the latest checkpoint in build/demo-train; a finished one does nothing.
for STEPS in $STAGES; do
  "${TOLK_BUILD_DIR:-build}/tolk_train" --model-dir "$MODEL" --train "$DATA/train.tsv" \
    --dev "$DATA/dev.tsv" --work build/demo-train --steps "$STEPS" --warmup 300 --lr 2e-3 \
    --batch-tokens 4000 --checkpoint-every 200 --log-every 25 --seed 1 --threads "$(nproc)" \
    ${TRAIN_ARGS:-}
done
python3 tools/demo_model/evaluate.py --model "$MODEL" --json build/demo-train/scores.json
python3 tools/demo_model/evaluate.py --model "$MODEL" --ui-strings --beam 1
