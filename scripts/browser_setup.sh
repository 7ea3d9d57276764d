#!/bin/sh
# The browser the browser tests and `make screenshots` drive (docs/web.md, "In a browser"):
# Debian's Chromium, and Debian's Noto CJK fonts so that the Chinese and Korean pages render.
# Installed with apt-get when missing (nothing else is downloaded: Playwright's own browser
# download never runs); when both are there, this is two file checks and nothing else.
set -eu
CHROMIUM=/usr/bin/chromium
FONT=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
missing=""
command -v chromium >/dev/null 2>&1 && [ -x "$CHROMIUM" ] || missing="$missing chromium"
[ -f "$FONT" ] || missing="$missing fonts-noto-cjk"
[ -n "$missing" ] || exit 0
missing="${missing# }"

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "browser_setup: installing $missing (for the browser tests) needs root, and this is neither root nor has sudo: run 'apt-get install --no-install-recommends $missing' as root, then make again." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "browser_setup: installing $missing (apt-get)"
# The package lists are fetched only when they do not know a package (a fresh machine).
for package in $missing; do
  if ! apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $as_root apt-get update -qq
    break
  fi
done
# shellcheck disable=SC2086
$as_root apt-get install -y -qq --no-install-recommends $missing
