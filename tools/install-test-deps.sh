#!/usr/bin/env bash
# System packages the test suite needs beyond Node: Debian's Chromium for the
# browser tests (playwright-core drives /usr/bin/chromium; nothing is downloaded).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "installing chromium (Debian package) for the browser tests" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
