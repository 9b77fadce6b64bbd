#!/usr/bin/env bash
# Issue 11's figures for a model folder (default: the built-in model): on each built-in task's whole 1,000-problem
# difficulty-2 test set, greedy accuracy, pass@16 (and so pass@16 over greedy) and the share of correct greedy
# solutions whose every step is gold-valid (eval); and the self-evaluation AUC against gold validity on the non-terminal
# steps of a 100-problem MCTS run on test problems (report data).
# Re-running keeps saved reports and finished searches. Usage: bash scripts/model-targets.sh [MODEL_DIR]
source "$(dirname "$0")/cli.sh"
model=$(realpath "${1:-models/builtin}")
name=$(basename "$model")
problems=${PROBLEMS:-1000}
search_problems=${SEARCH_PROBLEMS:-100}
out=runs/targets-$name
mkdir -p "$out"

for task in arith logic; do
  report=$out/eval-$task-k16.json
  [ -f "$report" ] || R eval --task "$task" --model "$model" --problems "$problems" --k 16 --out "$report"
  R eval --show "$report"
done
for task in arith logic; do
  run=$out/mcts-$task-test
  R generate --task "$task" --split test --problems "$search_problems" --model "$model" --out "$run"
  R report data "$run" --json "$run/report/data-quality.json"
done
