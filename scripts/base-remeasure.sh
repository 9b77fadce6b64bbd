#!/usr/bin/env bash
# Issue 11's re-measurements for a base model (default: the built-in model): MCTS and best-first runs of 400 arith
# train problems each with their data-quality tables (report data), step-level DPO trained on each (defaults, starting
# from the base), and each DPO model compared with the base on the whole 1,000-problem arith test set, paired
# (eval --compare, greedy and k = 4 samples). Re-running keeps finished searches, trained models and saved reports.
# Usage: bash scripts/base-remeasure.sh [MODEL_DIR]   (PROBLEMS=N for another search size; EVAL_PROBLEMS=N to
# evaluate on the test set's first N problems only, for a quick check of the script)
source "$(dirname "$0")/cli.sh"
model=$(realpath "${1:-models/builtin}")
name=$(basename "$model")
problems=${PROBLEMS:-400}
evaluated=()
[ -n "${EVAL_PROBLEMS:-}" ] && evaluated=(--problems "$EVAL_PROBLEMS")
out=runs/remeasure-$name
mkdir -p "$out"

base=$out/eval-base-arith-k4.json
[ -f "$base" ] || R eval --task arith --model "$model" --k 4 "${evaluated[@]}" --out "$base"
for algo in mcts best-first; do
  run=$out/$algo-arith-$problems
  R generate --algo "$algo" --problems "$problems" --model "$model" --out "$run"
  R report data "$run" --json "$run/report/data-quality.json"
  [ -f "$out/dpo-$algo/model.safetensors" ] || R train dpo "$run" --model "$model" --out "$out/dpo-$algo" --force
  trained=$out/eval-dpo-$algo-arith-k4.json
  [ -f "$trained" ] || R eval --task arith --model "$out/dpo-$algo" --k 4 "${evaluated[@]}" --out "$trained"
  R eval --compare "$base" "$trained" --out "$out/compare-dpo-$algo.json"
done
