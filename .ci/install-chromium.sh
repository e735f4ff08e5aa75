#!/usr/bin/env bash
# Installs Debian's chromium for the real-browser test (properties/report.browser.test.ts) when
# /usr/bin/chromium is missing. Never uses `npx playwright install` (no network for that; the
# test drives the system chromium through playwright-core). Exits non-zero, loudly, on failure.
set -uo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "chromium present: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi

fail() {
  echo "" >&2
  echo "!!! install-chromium.sh: $1" >&2
  echo "!!! The real-browser test needs $CHROMIUM (Debian package 'chromium'); it will FAIL in CI without it." >&2
  exit 1
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "not root and no sudo: cannot apt-get install chromium"
  SUDO="sudo"
fi
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found (not a Debian/Ubuntu system): install chromium at $CHROMIUM yourself"

echo "chromium missing: installing the Debian package (about 480 MB, ~1.5 min once)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update || fail "apt-get update failed"
$SUDO apt-get install -y --no-install-recommends chromium || fail "apt-get install chromium failed"
[ -x "$CHROMIUM" ] || fail "apt-get install chromium succeeded but $CHROMIUM is still missing"
echo "chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
