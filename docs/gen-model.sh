#!/usr/bin/env bash
# Writes docs/model.md's generated part from the rows: `docs/gen-model.sh MIGCHAN > docs/model.md`.
set -euo pipefail
migchan=$1
cat "$(dirname "$0")/model.head.md"
for c in $("$migchan" show --list | awk '{print $1}'); do
  echo
  "$migchan" show "$c" --format markdown
done
