#!/usr/bin/env bash
# The README's Tree-PLV and OREO tables on the built-in model: best-first trees of 100 train problems per built-in
# task, a verifier (train plv) and a value head (train oreo) trained on both tasks' trees, then on each task's fixed
# 1,000-problem test set the verifier's best-of-16 beside majority@16 and greedy, value-guided beam beside greedy and
# plain beam, and the AUCs against gold step labels of a 100-problem best-first run on test problems scored by each.
# Re-running skips what is done (generate resumes, finished models and saved reports are kept).
source "$(dirname "$0")/cli.sh"
problems=${PROBLEMS:-1000}            # test problems per task for best-of-16
beam_problems=${BEAM_PROBLEMS:-$problems}
auc_problems=${AUC_PROBLEMS:-100}      # test problems per task searched with each scorer for the AUCs
beam_tasks=${BEAM_TASKS:-arith logic}

for task in arith logic; do R generate --task "$task" --algo best-first --problems 100 --out "bf-$task-100"; done
[ -f runs/plv-builtin/config.json ] || R train plv bf-arith-100 bf-logic-100 --epochs 3 --out plv-builtin
[ -f runs/oreo-builtin/value_head.safetensors ] || R train oreo bf-arith-100 bf-logic-100 --out oreo-builtin

for task in arith logic; do
  out=runs/eval/plv-best-of-16-$task-n$problems.json
  [ -f "$out" ] || R eval --task "$task" --problems "$problems" --best-of 16 --verifier runs/plv-builtin --out "$out"
done
for task in $beam_tasks; do
  out=runs/eval/oreo-beam-4-$task-n$beam_problems.json
  [ -f "$out" ] || R eval --task "$task" --problems "$beam_problems" --k 1 --beam 4 --value runs/oreo-builtin --out "$out"
done
for task in arith logic; do
  for scorer in plv oreo; do
    run=bf-$task-test-$scorer-n$auc_problems
    R generate --task "$task" --split test --algo best-first --problems "$auc_problems" --verifier "runs/$scorer-builtin" --out "$run"
    R report data "$run" --json "runs/$run/report/data-quality.json" > /dev/null
  done
done
