#!/usr/bin/env bash
# Submits a sharded plan to Slurm: an array of SHARDS tasks
# (plan-shards.slurm), then the merge (plan-merge.slurm) as a job that runs
# after all of them succeed. Prints the two job ids.
#
#   SPEC=job.yaml OUT=/shared/plan-1 [SHARDS=16] deploy/submit-plan.sh [sbatch options...]
#
# Extra arguments go to both sbatch calls (e.g. --partition, or
# --cpus-per-task=1 --mem=1G on a small machine); they override the
# scripts' #SBATCH defaults.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SHARDS=${SHARDS:-16}
SPEC=${SPEC:?set SPEC to a job spec (plan -f)}
OUT=${OUT:?set OUT to a folder on a filesystem every node sees}
mkdir -p "$OUT"
SPEC=$(cd "$(dirname "$SPEC")" && pwd)/$(basename "$SPEC")
array=$(sbatch --parsable --chdir="$OUT" --array="0-$((SHARDS - 1))" \
  --export="ALL,SHARDS=$SHARDS,SPEC=$SPEC,OUT=$OUT" "$@" "$here/plan-shards.slurm")
array=${array%%;*}
merge=$(sbatch --parsable --chdir="$OUT" --dependency="afterok:$array" \
  --export="ALL,OUT=$OUT" "$@" "$here/plan-merge.slurm")
echo "$array ${merge%%;*}"
