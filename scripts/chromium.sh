#!/usr/bin/env bash
# Installs Debian's chromium package for the call-list web page's browser
# test (cmd/robinscreen-screen, TestWebBrowser) when it is not there yet.
# scripts/test.sh calls it before the tests; CI runs as root. Without root
# (a developer's own machine) it says so and leaves the test to skip.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "chromium.sh: chromium is not installed and this is not root: the browser test will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Other installs on the same machine may hold dpkg's lock for a while.
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium
