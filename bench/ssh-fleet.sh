#!/usr/bin/env bash
# The plan after apply of 30 hosts × 2 certificates over SSH, each host a
# real sshd on loopback (BenchmarkSSHFleet30 in cmd/trustform), against a
# shell loop of `ssh host cat FILE` over the same files and Ansible's stat
# module over the same hosts and files with its default forks. Installs the
# anchor, Debian's ansible-core, when missing (the tests never need it).
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
command -v ansible-playbook >/dev/null || missing+=(ansible-core)
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
CI=true go test -run '^$' -bench 'BenchmarkSSHFleet30' -benchtime "${BENCHTIME:-5x}" ./cmd/trustform
