#!/usr/bin/env bash
# Loads an HTML report from disk in headless Chromium (installed from Debian's packages when missing, and poppler's
# pdftotext likewise), takes screenshots of the first screen at desktop (1280x800) and phone (390x844) sizes and a
# PDF print, and checks: no console message, nothing asked off the disk (Chromium's net log), real content; the first
# screen at 1280x800 holds the answer table and the claims table; with every <details> closed the page is at most
# MAX_CLOSED_HEIGHT px tall at 1280 px; the PDF print holds every figure's title. The layout is measured on a copy
# of the page (measure.html) with a script added, since the page itself has none.
# Usage: scripts/browser-check.sh PAGE.html OUT_DIR. Prints "heights: closed N px, open M px" for the record.
# Exit 0: passed; 1: the page failed a check; 2: bad usage; 77: skipped (Chromium or pdftotext missing and not
# installable). Under CI=true a skip is a failure (exit 1): CI must run the check.
set -uo pipefail

MAX_CLOSED_HEIGHT=${MAX_CLOSED_HEIGHT:-8000}

skip() {
    echo "SKIPPED: $*"
    if [[ "${CI:-}" == "true" ]]; then
        echo "browser-check: FAILED: a skipped browser check fails under CI=true"
        exit 1
    fi
    exit 77
}

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
        skip "chromium is not installed and apt-get as root is not available to install it"
    fi
    echo "browser-check: installing chromium from Debian's packages (apt-get update, apt-get install -y chromium)"
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 900 apt-get update -qq >"$out/apt.log" 2>&1 ||
        ! timeout 900 apt-get install -y -qq chromium >>"$out/apt.log" 2>&1; then
        tail -n 5 "$out/apt.log"
        skip "chromium could not be installed; see $out/apt.log"
    fi
    browser="$(find_chromium)"
    if [[ -z "$browser" ]]; then
        skip "chromium was installed but no chromium binary is on PATH"
    fi
fi

if ! command -v pdftotext >/dev/null; then
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        skip "pdftotext (poppler-utils) is not installed and apt-get as root is not available to install it"
    fi
    echo "browser-check: installing poppler-utils from Debian's packages for pdftotext"
    if ! DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq poppler-utils >>"$out/apt.log" 2>&1 ||
        ! command -v pdftotext >/dev/null; then
        skip "pdftotext (poppler-utils) could not be installed; see $out/apt.log"
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
        --hide-scrollbars "$@" "file://${target_page:-$page}" 2>>"$log"
}

# The layout, measured by a script in a copy of the page: where the first screen's two tables end, and the page's
# height with every <details> closed and with every one open. Prints the JSON it wrote into the copy's DOM.
measure="$out/measure.html"
measure_script='<script>(function () {
  function bottom(selector) {
    var element = document.querySelector(selector);
    return element ? Math.ceil(element.getBoundingClientRect().bottom + window.scrollY) : -1;
  }
  var details = document.querySelectorAll("details");
  details.forEach(function (d) { d.open = false; });
  var result = { width: Math.round(document.documentElement.getBoundingClientRect().width), details: details.length,
    answer: bottom("#answer table"), claims: bottom("#claims-table table"),
    closed: document.documentElement.scrollHeight };
  details.forEach(function (d) { d.open = true; });
  result.open = document.documentElement.scrollHeight;
  details.forEach(function (d) { d.open = false; });
  var pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
})();</script>'
page_text=$(<"$page")
# Chromium's --dump-dom window is at least 500 px wide and its height includes the window's frame, so the copy pins
# the page's width itself; heights are page coordinates, independent of the window's height.
measure_at() {
    local width=$1 window=$(($1 > 500 ? $1 : 500))
    local pinned="<style>html { width: ${width}px; }</style>${measure_script}</body>"
    printf '%s\n' "${page_text/<\/body>/${pinned}}" >"$measure"
    target_page="$measure" run_chromium --window-size="$window,900" --dump-dom 2>/dev/null |
        sed -n 's/.*<pre id="measure">\([^<]*\)<\/pre>.*/\1/p' | sed 's/&quot;/"/g'
}
json_field() {
    sed -n "s/.*\"$2\":\(-\?[0-9]*\).*/\1/p" <<<"$1"
}

failures=()
run_chromium --window-size=1280,800 --screenshot="$out/desktop-top.png" --log-net-log="$out/netlog.json" >/dev/null ||
    failures+=("desktop screenshot: chromium exited non-zero")
run_chromium --window-size=390,844 --screenshot="$out/phone-top.png" >/dev/null ||
    failures+=("phone first-screen screenshot: chromium exited non-zero")
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

desktop=$(measure_at 1280)
phone=$(measure_at 390)
echo "$desktop" >"$out/measure-desktop.json"
echo "$phone" >"$out/measure-phone.json"
closed=$(json_field "$desktop" closed)
opened=$(json_field "$desktop" open)
if [[ -z "$closed" || -z "$opened" ]]; then
    failures+=("the layout could not be measured (measure.html printed: ${desktop:-nothing})")
else
    echo "browser-check: heights at 1280 px: closed $closed px, open $opened px ($(json_field "$desktop" details) <details>)"
    echo "browser-check: heights at 390 px: closed $(json_field "$phone" closed) px, open $(json_field "$phone" open) px;" \
        "the answer table ends at $(json_field "$phone" answer) px, the claims table at $(json_field "$phone" claims) px"
    viewport=800
    for table in answer claims; do
        end=$(json_field "$desktop" "$table")
        if ((end < 0)); then
            failures+=("the $table table is missing")
        elif ((end > viewport)); then
            failures+=("the $table table ends at $end px, below the first screen (1280x${viewport})")
        fi
    done
    if ((closed > MAX_CLOSED_HEIGHT)); then
        failures+=("with every <details> closed the page is $closed px tall at 1280 px, over $MAX_CLOSED_HEIGHT")
    fi
fi

# The print: every figure's title (its figcaption) must be in the PDF's text, the folded ones too.
pdftotext -layout "$out/print.pdf" "$out/print.txt" 2>/dev/null || failures+=("pdftotext could not read print.pdf")
decode() { sed 's/&amp;/\&/g; s/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&#39;/'"'"'/g'; }
squeeze() { tr -s ' \n\t' ' ' | decode; }
squeeze_lines() { sed 's/[[:space:]]\+/ /g' | decode; }
printed=$(squeeze <"$out/print.txt")
figures=0
missing_figures=()
while IFS= read -r title; do
    [[ -z "$title" ]] && continue
    figures=$((figures + 1))
    [[ "$printed" == *"$title"* ]] || missing_figures+=("$title")
done < <(grep -o '<figcaption>[^<]*</figcaption>' "$out/dom.html" | sed 's/<[^>]*>//g' | squeeze_lines)
if ((${#missing_figures[@]} > 0)); then
    failures+=("the PDF print lacks ${#missing_figures[@]} of $figures figures: ${missing_figures[*]:0:3}")
else
    echo "browser-check: the PDF print holds all $figures figures"
fi

for shot in desktop-top desktop-long phone phone-top; do
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
