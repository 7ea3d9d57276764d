#!/bin/sh
# The Debian packages the tests use, installed with apt-get when missing (nothing else is
# downloaded; when all are there, this is a few file checks and nothing else):
# - chromium and fonts-noto-cjk: the browser tests and `make screenshots` drive Debian's
#   Chromium (Playwright's own browser download never runs); the CJK fonts so that the
#   Chinese and Korean pages render (docs/web.md, "In a browser");
# - postgresql: the server the trace index's tests start on loopback (docs/operations.md,
#   "A shared index"); its programs in /usr/lib/postgresql/<version>/bin;
# - wrk: the HTTP load generator of `make bench-web` (docs/web.md, "Under load").
set -eu
CHROMIUM=/usr/bin/chromium
FONT=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
missing=""
command -v chromium >/dev/null 2>&1 && [ -x "$CHROMIUM" ] || missing="$missing chromium"
[ -f "$FONT" ] || missing="$missing fonts-noto-cjk"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
[ -n "$missing" ] || exit 0
missing="${missing# }"

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "debian_setup: installing $missing (for the tests) needs root, and this is neither root nor has sudo: run 'apt-get install --no-install-recommends $missing' as root, then make again." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "debian_setup: installing $missing (apt-get)"
# The package lists are fetched only when they do not know a package (a fresh machine).
for package in $missing; do
  if ! apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $as_root apt-get update -qq
    break
  fi
done
# shellcheck disable=SC2086
$as_root apt-get install -y -qq --no-install-recommends $missing
