#!/usr/bin/env bash
# The plan after apply of 30 hosts × 2 certificates over SSH, each host a
# real sshd on loopback (BenchmarkSSHFleet30 in cmd/trustform), against a
# shell loop of `ssh host cat FILE` over the same files and Ansible's stat
# module over the same hosts and files with its default forks. Installs
# Debian's ansible-core, when missing, only for that anchor (BENCH=ansible-stat;
# the tests never need it).
# The login user's shell is made slow on purpose while it runs (SLOW_RC=1,
# the default: `sleep 1` at the end of ~/.bashrc, which bash sources for
# every command sshd runs), so that every session that starts a shell pays
# for it; ~/.bashrc is restored on exit. Reports the medians of the plan and
# the loop, interleaved, and their ratio, ratio-vs-ssh-cat (goal <= 0.2).
# BENCH=ansible-stat runs the Ansible anchor instead.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
if [ "${BENCH:-interleaved}" = ansible-stat ]; then
  command -v ansible-playbook >/dev/null || missing+=(ansible-core)
fi
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
if [ ${#missing[@]} -gt 0 ]; then
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    trap '$sudo rm -f $policy' EXIT
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "${SLOW_RC:-1}" = 1 ]; then
  rc="$HOME/.bashrc"
  backup=$(mktemp)
  had=0
  [ -e "$rc" ] && { cp -p "$rc" "$backup"; had=1; }
  trap 'if [ $had = 1 ]; then cp -p "$backup" "$rc"; else rm -f "$rc"; fi; rm -f "$backup"; [ -z "${policy:-}" ] || $sudo rm -f "$policy"' EXIT INT TERM
  printf '\nsleep 1 # trustform bench/ssh-fleet.sh: a slow login shell on purpose\n' >>"$rc"
fi
CI=true go test -v -run '^$' -bench 'BenchmarkSSHFleet30/'"${BENCH:-interleaved}" -benchtime "${BENCHTIME:-5x}" -timeout 120m ./cmd/trustform
