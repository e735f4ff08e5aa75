#!/bin/bash
# A softcal sweep as a Slurm job array. Each array task runs its share of the units into ONE
# shared folder (on a file system every node sees); the task that completes the grid writes the
# aggregates. Submit from a clone where `npm ci` has run (the job starts in the submit folder):
#   sbatch docs/recipes/slurm-array.sh                      # run all --seeds 100 → results/
#   SEEDS=20 OUT=sweep FLAGS=--no-figures sbatch docs/recipes/slurm-array.sh
# --shard auto: index = SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN + 1, count =
# SLURM_ARRAY_TASK_COUNT, so --array alone sets the split (keep it contiguous: 0-3, not 0-6:2).
# A requeued task (scontrol requeue, preemption, a node failure) starts again from the top and
# --resume runs only its units not yet on disk.
#SBATCH --job-name=softcal-sweep
#SBATCH --array=0-3
#SBATCH --cpus-per-task=1
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=softcal-%A_%a.log
set -euo pipefail
# FLAGS: more `softcal run` flags, split on spaces (e.g. "--no-figures --root-seed 7").
# shellcheck disable=SC2086
exec node dist/src/cli/main.js run all --seeds "${SEEDS:-100}" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
  --shard auto --out "${OUT:-results}" --resume ${FLAGS:-}
