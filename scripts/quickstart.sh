#!/usr/bin/env bash
# The quickstart (README.md): copies examples/quickstart to .quickstart/ (so
# the example itself stays pristine), then plans, applies, and plans again.
# Needs only Go: no server runs, the embedded default providers do the work.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.quickstart
if [ -e "$dir" ]; then
  echo "$dir exists: keeping it (delete it to start over)."
else
  cp -r examples/quickstart "$dir"
  rm -rf "$dir/out" "$dir/.trustform"
fi
go build -o "$dir/trustform" ./cmd/trustform
tf() { "$dir/trustform" -chdir="$dir" "$@"; }

echo "== trustform plan"
tf plan
echo
echo "== trustform apply -auto-approve"
tf apply -auto-approve
echo
echo "== trustform plan -detailed-exitcode   (exit 0: nothing left to do)"
tf plan -detailed-exitcode
echo
echo "Done. Look at $dir/out (the server's files) and $dir/example.test.zone (the TLSA records)."
echo "Next: the key rollover walk-through in examples/quickstart/README.md, with -chdir=$dir."
