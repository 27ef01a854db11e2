#!/usr/bin/env bash
# First run: installs what is missing, builds, then translates TEXT (default "Open the file")
# from English to French (or TARGET_LANG: deu_Latn, spa_Latn) with the demo model.
#   scripts/translate.sh ["TEXT"] [TARGET_LANG]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cpu-env.sh
TEXT=${1:-"Open the file"}
TGT=${2:-fra_Latn}
MODEL=${TOLK_MODEL:-models/tolk-demo-en-fr-de-es}
bash scripts/install-deps.sh >/dev/null
bash scripts/build.sh >/dev/null
exec "${TOLK_BUILD_DIR:-build}/tolk" translate --model "$MODEL" --src eng_Latn --tgt "$TGT" --text "$TEXT"
