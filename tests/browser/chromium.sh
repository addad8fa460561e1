#!/usr/bin/env bash
# Headless Chromium for the report's browser test (Debian/Ubuntu).
#
#   tests/browser/chromium.sh    print the path of a Chromium binary, installing
#                                Debian's `chromium` with apt-get first if there is none
#
# The test drives the browser over the DevTools protocol on a pipe
# (--remote-debugging-pipe), so no WebDriver and no Python package is needed.
# Exit codes: 0 ok (path on stdout), 1 failure, 3 cannot run here (no Chromium, and not
# root or no apt-get to install it): a caller may skip on 3.
set -euo pipefail

say() { echo "chromium.sh: $*" >&2; }
cannot_run() {
    say "cannot run here: $*"
    exit 3
}

find_chromium() {
    local name
    for name in chromium chromium-browser google-chrome-stable google-chrome; do
        if command -v "$name" >/dev/null; then
            command -v "$name"
            return 0
        fi
    done
    return 1
}

if find_chromium; then exit 0; fi
[[ $(uname -s) == Linux ]] || cannot_run "Chromium is not installed (install it, or run on Debian/Ubuntu)"
command -v apt-get >/dev/null || cannot_run "Chromium is not installed and there is no apt-get to install it"
((EUID == 0)) || cannot_run "Chromium is not installed and installing it with apt-get needs root"
LOG=${TMPDIR:-/tmp}/ltm-chromium-apt.log
say "installing chromium with apt-get (log: $LOG)"
if ! {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
} >"$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2
    say "error: apt-get install failed (log: $LOG)"
    exit 1
fi
find_chromium || {
    say "error: apt-get installed chromium but no binary is on PATH"
    exit 1
}
