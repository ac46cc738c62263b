#!/usr/bin/env bash
# Regenerates the bundled snapshots in testdata/snapshots from the programs in
# testdata/programs, with the capture agent in internal/agent.
# Usage: testdata/regen.sh [python3]
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-python3}
out=testdata/snapshots
mkdir -p "$out"
for prog in testdata/programs/*.py; do
  echo "running $prog"
  PYTHONPATH=internal/agent "$py" "$prog" "$out"
done
ls -l "$out"
