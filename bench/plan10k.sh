#!/usr/bin/env bash
# trustform plan against bare HCL parsing of the same files (bench/hclparse,
# the floor: trustform parses first), as processes: wall time and peak RSS
# (GNU time), the median of RUNS runs each (default 5), the two interleaved,
# on the fleets bench/fleet.sh generates (every SHAPE: web, tlsa, mail, apt,
# foreach) of 200 and 2,000 hosts: 1,000 and 10,000 resources on the
# embedded default (the foreach fleet against parsing the web fleet it
# expands to: its own files are fifty lines). Prints the ratios per shape (goals at 10,000: <= 1.5x the
# time, <= 1.1x the peak memory) and how both grow from 1k to 10k. The Go
# benchmarks in engine/bench_test.go measure the same phases in-process (go
# test -bench 10k ./engine).
# Usage: bench/plan10k.sh [HOSTS...]   (SHAPES="web tlsa" to choose shapes)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/time ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends time >/dev/null
fi
runs=${RUNS:-5}
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
go build -o "$work/trustform" ./cmd/trustform
go build -o "$work/hclparse" ./bench/hclparse

# measure DIR [PARSEDIR]: the median wall time (s) and peak RSS (KiB) of
# RUNS runs of bare parsing (of PARSEDIR, default DIR) and of plan in DIR,
# interleaved: "PARSE_S PARSE_KIB PLAN_S PLAN_KIB".
measure() {
  local i mid=$(((runs + 1) / 2))
  : >"$work/parse"
  : >"$work/plan"
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -o "$work/time" -f "%e %M" "$work/hclparse" "${2:-$1}" >/dev/null 2>&1 || { echo "failed: hclparse ${2:-$1}" >&2; return 1; }
    cat "$work/time" >>"$work/parse"
    /usr/bin/time -o "$work/time" -f "%e %M" "$work/trustform" -chdir="$1" plan -no-color >/dev/null 2>&1 || { echo "failed: plan in $1" >&2; return 1; }
    cat "$work/time" >>"$work/plan"
  done
  local f
  for f in parse plan; do
    printf '%s %s ' "$(cut -d' ' -f1 "$work/$f" | sort -n | sed -n "${mid}p")" "$(cut -d' ' -f2 "$work/$f" | sort -n | sed -n "${mid}p")"
  done
  echo
}

printf '%-8s %9s %9s %10s %9s %10s %7s %7s\n' shape resources "parse s" "parse MiB" "plan s" "plan MiB" "time x" "mem x" | tee "$work/table"
for shape in ${SHAPES:-web tlsa mail apt foreach}; do
  for h in ${@:-200 2000}; do
    bench/fleet.sh "$shape" "$h" "$work/$shape$h"
    anchor="$work/$shape$h"
    if [ "$shape" = foreach ]; then
      # Its files are fifty lines whatever the fleet: the floor is parsing
      # what they expand to, the web fleet of the same hosts.
      anchor="$work/foreach-anchor$h"
      bench/fleet.sh web "$h" "$anchor"
    fi
    read -r pt pm tt tm <<<"$(measure "$work/$shape$h" "$anchor")"
    awk -v s="$shape" -v r=$((h * 5)) -v pt="$pt" -v pm="$pm" -v tt="$tt" -v tm="$tm" 'BEGIN {
      printf "%-8s %9d %9.2f %10.1f %9.2f %10.1f %7.2f %7.2f\n", s, r, pt, pm / 1024, tt, tm / 1024, tt / pt, tm / pm }'
  done
done | tee -a "$work/table"
awk 'NR > 1 { shape = $1; if (!(shape in first)) { first[shape] = NR; order[++n] = shape } last[shape] = NR; r[NR] = $2; t[NR] = $5; m[NR] = $6; tx[NR] = $7; mx[NR] = $8 } END {
  for (k = 1; k <= n; k++) {
    s = order[k]; a = first[s]; z = last[s]
    printf "%s: plan of %d resources: %.2fx the time (goal <= 1.5) and %.2fx the peak memory (goal <= 1.1) of parsing the same files", s, r[z], tx[z], mx[z]
    if (z > a) printf "; from %d to %d resources (x%.0f): plan time x%.1f, peak memory x%.1f", r[a], r[z], r[z] / r[a], t[z] / t[a], m[z] / m[a]
    printf "\n"
  }
}' "$work/table"
