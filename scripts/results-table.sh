#!/usr/bin/env bash
# The results table (README, "Which trainer to use"): on the built-in model, MCTS trees of TRAIN_PROBLEMS train
# problems per built-in task (four steps sampled per expansion, so that nodes have the three or more children TPO's
# lists need); every policy trainer (DPO, TPO, TRPA, ONPO, OREO) trained with each of SEEDS on the arith
# and logic trees together and evaluated greedily on both 1,000-problem test sets; the table of mean, spread and paired
# difference to the base and to step-DPO (report trainers); the Tree-PLV verifier's best-of-16 against majority@16 and
# OREO's value-guided beam against greedy; the data quality of the trees; one and two rounds of iterate
# for step-DPO and for the best trainer, with the plot of accuracy against round.
#
# Every stage skips what is done: re-running after a stop continues (generate, train and iterate resume their own
# work; a saved evaluation is kept). Wall time per stage is appended to runs/table/timing.tsv.
# Cut TRAIN_PROBLEMS (and ROUND_PROBLEMS) to fit the time; the test sets and the seeds stay whole.
source "$(dirname "$0")/cli.sh"

train_problems=${TRAIN_PROBLEMS:-100}      # train problems searched per task for the trainers' trees
round_problems=${ROUND_PROBLEMS:-50}      # train problems per iterate round
test_problems=${TEST_PROBLEMS:-1000}       # the fixed test sets, whole
seeds=${SEEDS:-1 2 3}
trainers=${TRAINERS:-dpo tpo trpa onpo oreo}
tasks=${TASKS:-arith logic}
iterate_tasks=${ITERATE_TASKS:-arith}   # rounds on arith only, so that the run stays near 2.5 hours (the previous built-in model was at chance on logic)
generate_args=${GENERATE_ARGS:--k 4 --workers 4}  # the trees' search settings, also every iterate round's
results=${RESULTS:-docs/results}           # where the table and the plot are written for the README
T=${TABLE_DIR:-runs/table}                # every artifact of the run
mkdir -p "$T/eval" "$T/eval-search" "$results"

timed() { # stage name, command…: runs it and records its wall time
  local name=$1 start=$SECONDS; shift
  "$@"
  printf '%s\t%s\t%d\n' "$(date -u +%FT%TZ)" "$name" $((SECONDS - start)) >> "$T/timing.tsv"
}

# A trainer's output folder is finished when it holds a model; an unfinished one (a checkpoint) resumes.
train() { # trainer, output folder, args…
  local trainer=$1 out=$2; shift 2
  [ -f "$out/config.json" ] || [ -f "$out/adapter_config.json" ] && return 0
  local resume=(); [ -d "$out/checkpoint" ] && resume=(--resume)
  timed "train $trainer → $out" R train "$trainer" "$@" --out "$out" "${resume[@]}"
}

evaluate() { # report path, eval args…
  local out=$1; shift
  [ -f "$out" ] || timed "eval → $out" R eval --problems "$test_problems" --out "$out" "$@"
}

# 1. The trees every trainer learns from, and their data quality against the gold step labels.
runs=()
for task in $tasks; do
  # shellcheck disable=SC2086
  timed "generate $task" R generate --task "$task" --problems "$train_problems" $generate_args --out "$T/trees-$task"
  R report data "$T/trees-$task" --json "$T/trees-$task/report/data-quality.json" | sed "s#$PWD/##g" > "$results/data-quality-$task.txt"
  runs+=("$T/trees-$task")
done

# 2. The base and every trainer × seed, greedy on each test set (--k 0: greedy alone, what the table pairs).
for task in $tasks; do evaluate "$T/eval/builtin-$task.json" --task "$task" --k 0; done
for trainer in $trainers; do
  extra_var="$(echo "$trainer" | tr '[:lower:]' '[:upper:]')_ARGS"   # e.g. TRPA_ARGS="--lr 1e-5"
  for seed in $seeds; do
    # shellcheck disable=SC2086
    train "$trainer" "$T/$trainer-s$seed" "${runs[@]}" --seed "$seed" ${!extra_var:-}
    for task in $tasks; do evaluate "$T/eval/$trainer-s$seed-$task.json" --task "$task" --k 0 --model "$T/$trainer-s$seed"; done
  done
done
reports=("$T"/eval/*.json)
R report trainers "${reports[@]}" --against dpo --markdown "$results/table.md"
best=$(R report trainers "${reports[@]}" --best)
echo "best trainer by mean greedy accuracy: $best"

# 3. The verifier (one model, trained on the same trees) reranking 16 samples, and OREO's value-guided beam (its first
#    seed's policy and value head) beside greedy (--value-only: the beam on the model's own self-evaluation is left out).
train plv "$T/plv" "${runs[@]}" --epochs 3
for task in $tasks; do
  evaluate "$T/eval-search/plv-best-of-16-$task.json" --task "$task" --best-of 16 --verifier "$T/plv"
  if [[ " $trainers " == *" oreo "* ]]; then
    first_seed=${seeds%% *}
    evaluate "$T/eval-search/oreo-beam-4-$task.json" --task "$task" --k 0 --beam 4 --value-only --model "$T/oreo-s$first_seed" --value "$T/oreo-s$first_seed"
  fi
done

# 4. One and two rounds of the on-policy loop for step-DPO and for the best trainer, on each task.
iterated=()
for trainer in $(printf '%s\n' dpo "$best" | awk '!seen[$0]++'); do
  for task in $iterate_tasks; do
    timed "iterate $trainer $task" R iterate --trainer "$trainer" --rounds 2 --task "$task" --problems "$round_problems" \
      --eval-problems "$test_problems" --eval-k 0 --generate-args "$generate_args" --out "$T/iterate-$trainer-$task"
    iterated+=("$T/iterate-$trainer-$task")
  done
done
R report rounds "${iterated[@]}" --plot "$results/rounds.png"

for task in $tasks; do
  R eval --show "$T/eval-search/plv-best-of-16-$task.json"
  [ -f "$T/eval-search/oreo-beam-4-$task.json" ] && R eval --show "$T/eval-search/oreo-beam-4-$task.json"
done
echo "table → $results/table.md, data quality → $results/data-quality-*.txt, plot → $results/rounds.png, wall time per stage → $T/timing.tsv"
