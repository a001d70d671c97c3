#!/usr/bin/env bash
# Installs the Debian packages hostd and its tests need (the list of `podflare setup`, in
# packages/cli/src/setup.ts, plus g++ and make: npm ci builds better-sqlite3 from source when it
# cannot download a prebuilt binary; flake8, which tests/lint.test.ts runs over the Python;
# chromium: the dashboard's browser tests drive it with puppeteer-core; python3-pydantic: the
# Python SDK's LangChain adapter test builds its tool class on it). Idempotent; quiet when
# all are there.
set -euo pipefail
pkgs=(mmdebstrap btrfs-progs python3 iproute2 nftables util-linux debian-archive-keyring ca-certificates g++ make flake8 chromium python3-pydantic)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-host: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
