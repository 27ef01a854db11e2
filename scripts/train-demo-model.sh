#!/usr/bin/env bash
# Rebuilds the demo model (models/tolk-demo-en-fr-de-es) from scratch, deterministically:
# harvest Debian's gettext catalogs → clean and split → SentencePiece → train with tolk's own
# Transformer (tools/train, LibTorch autograd, bf16 autocast) → score on the test split.
#   scripts/train-demo-model.sh            # the settings the committed model was trained with
#   STEPS=400 scripts/train-demo-model.sh  # a shorter run (any tolk_train option via TRAIN_ARGS)
# Interrupted? Run it again: finished steps are skipped and training resumes from its last
# checkpoint in build/demo-train/. Progress (loss, tokens/s, ETA) is printed while it trains.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cpu-env.sh
MODEL=models/tolk-demo-en-fr-de-es
DATA=build/demo-data
STEPS=${STEPS:-2400}
bash scripts/install-deps.sh >/dev/null
bash scripts/build.sh >/dev/null
bash tools/demo_model/harvest_catalogs.sh
[ -f "$DATA/train.tsv" ] || python3 tools/demo_model/prepare_data.py
[ -f "$MODEL/sentencepiece.bpe.model" ] || python3 tools/demo_model/train_tokenizer.py
"${TOLK_BUILD_DIR:-build}/tolk_train" --model-dir "$MODEL" --train "$DATA/train.tsv" \
  --dev "$DATA/dev.tsv" --work build/demo-train --steps "$STEPS" --warmup 300 --lr 2e-3 \
  --batch-tokens 4000 --checkpoint-every 200 --log-every 25 --seed 1 --threads "$(nproc)" \
  ${TRAIN_ARGS:-}
python3 tools/demo_model/evaluate.py --model "$MODEL" --json build/demo-train/scores.json
python3 tools/demo_model/evaluate.py --model "$MODEL" --ui-strings --beam 1
