#!/usr/bin/env bash
# The README's main job on the embedded default (no servers): version a small dataset in a
# throwaway git repository and walk through add, status, checkout and gc.
set -euo pipefail
cairn="$(cd "$(dirname "$0")/.." && pwd)/bin/cairn"
work="$(mktemp -d "${TMPDIR:-/tmp}/cairn-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
export XDG_CONFIG_HOME="$work/.config"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

git init -q && git config user.email demo@cairn.invalid && git config user.name demo
step "$cairn" init
mkdir -p data/images
for i in $(seq 1 200); do printf 'image %d\n' "$i" > "data/images/$i.txt"; done
printf 'label\ncat\ndog\n' > data/labels.csv
step "$cairn" add data
step cat data.dvc
git add data.dvc .gitignore .cairn/.gitignore .cairn/config.yaml && git commit -qm "track data"
printf 'label\ncat\ndog\nbird\n' > data/labels.csv
step "$cairn" status
step "$cairn" checkout --force data
step "$cairn" status
step "$cairn" gc

# The pipeline: examples/quickstart (Iris, softmax regression, ONNX export) in its own repo.
project="$(dirname "$(dirname "$cairn")")"
cp -r "$project/examples/quickstart" "$work/quickstart"
cd "$work/quickstart"
git init -q && git config user.email demo@cairn.invalid && git config user.name demo
step "$cairn" init
step "$cairn" dag
step "$cairn" repro
step cat eval/metrics.json
step "$cairn" repro
sed -i 's/epochs: 200/epochs: 300/' params.yaml
step "$cairn" status
step "$cairn" repro
printf '\nThe demo repository was %s (removed on exit).\n' "$work"
