#!/usr/bin/env bash
# Loads an HTML report from disk in headless Chromium (installed from Debian's packages when missing), takes
# screenshots at desktop and phone widths and a PDF print, and checks the page logged no console message, asked
# for nothing off the disk (Chromium's net log) and has real content. Usage: scripts/browser-check.sh PAGE.html OUT_DIR
# Exit 0: passed; 1: the page failed a check; 2: bad usage; 77: skipped (no Chromium and it cannot be installed).
set -uo pipefail

page="${1:-}"
out="${2:-}"
if [[ -z "$page" || -z "$out" || ! -f "$page" ]]; then
    echo "usage: $0 PAGE.html OUT_DIR (PAGE.html must exist)" >&2
    exit 2
fi
mkdir -p "$out"
page="$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"
out="$(cd "$out" && pwd)"

find_chromium() {
    command -v chromium || command -v chromium-browser || command -v google-chrome || true
}

browser="$(find_chromium)"
if [[ -z "$browser" ]]; then
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        echo "SKIPPED: chromium is not installed and apt-get as root is not available to install it"
        exit 77
    fi
    echo "browser-check: installing chromium from Debian's packages (apt-get update, apt-get install -y chromium)"
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 900 apt-get update -qq >"$out/apt.log" 2>&1 ||
        ! timeout 900 apt-get install -y -qq chromium >>"$out/apt.log" 2>&1; then
        echo "SKIPPED: chromium could not be installed; see $out/apt.log:"
        tail -n 5 "$out/apt.log"
        exit 77
    fi
    browser="$(find_chromium)"
    if [[ -z "$browser" ]]; then
        echo "SKIPPED: chromium was installed but no chromium binary is on PATH"
        exit 77
    fi
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
log="$out/chromium.log"
: >"$log"

# A proxy on a closed loopback port: any request the page tried to make off the file system would fail and log.
run_chromium() {
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --no-default-browser-check \
        --user-data-dir="$profile" --proxy-server="127.0.0.1:9" --enable-logging=stderr --v=0 --log-level=0 \
        --hide-scrollbars "$@" "file://$page" 2>>"$log"
}

failures=()
run_chromium --window-size=1280,900 --screenshot="$out/desktop-top.png" --log-net-log="$out/netlog.json" >/dev/null ||
    failures+=("desktop screenshot: chromium exited non-zero")
run_chromium --window-size=1280,7000 --screenshot="$out/desktop-long.png" >/dev/null ||
    failures+=("long desktop screenshot: chromium exited non-zero")
run_chromium --window-size=390,2400 --screenshot="$out/phone.png" >/dev/null ||
    failures+=("phone screenshot: chromium exited non-zero")
run_chromium --no-pdf-header-footer --print-to-pdf="$out/print.pdf" >/dev/null ||
    failures+=("print to PDF: chromium exited non-zero")
run_chromium --dump-dom >"$out/dom.html" || failures+=("dump-dom: chromium exited non-zero")

# Chromium logs every console message of the page (console.*, uncaught errors, CSP violations) with a CONSOLE tag.
if grep -E ':CONSOLE[:(]|Uncaught' "$log" >"$out/console-errors.txt"; then
    failures+=("console messages: $(head -n 3 "$out/console-errors.txt" | tr '\n' ' ')")
fi
# The net log keys each request by the page that caused it: the page's own are keyed file://. Chromium's own
# background requests (keyed by their google.com origins) went to the closed proxy port and are not the page's.
if grep '"network_isolation_key":"file://' "$out/netlog.json" | grep -o '"url":"[^"]*"' |
    grep -v '"url":"file:' | sort -u >"$out/external-requests.txt" && [[ -s "$out/external-requests.txt" ]]; then
    failures+=("the page requested URLs off the disk: $(head -n 3 "$out/external-requests.txt" | tr '\n' ' ')")
fi
if [[ ! -s "$out/netlog.json" ]]; then
    failures+=("no net log was written, so requests could not be checked")
fi

for shot in desktop-top desktop-long phone; do
    size=$(stat -c %s "$out/$shot.png" 2>/dev/null || echo 0)
    if ((size < 20000)); then
        failures+=("$shot.png is missing or blank ($size bytes)")
    fi
done
svgs=$(grep -o '<svg' "$out/dom.html" | wc -l)
text_bytes=$(sed -e 's/<[^>]*>//g' "$out/dom.html" | tr -s ' \n' | wc -c)
if ((svgs < 3)); then failures+=("the rendered page has $svgs inline SVG charts"); fi
if ((text_bytes < 2000)); then failures+=("the rendered page has only $text_bytes bytes of text"); fi

echo "browser-check: $browser"
echo "browser-check: screenshots, print.pdf and dom.html in $out; $svgs SVG charts, $text_bytes bytes of text"
if ((${#failures[@]} > 0)); then
    printf 'browser-check: FAILED: %s\n' "${failures[@]}"
    exit 1
fi
echo "browser-check: passed (no console messages, content present)"
