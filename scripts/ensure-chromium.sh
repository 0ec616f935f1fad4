#!/usr/bin/env bash
# Browser tests drive Debian's chromium (never a browser downloaded by a test tool); the report's PDF
# test reads the PDF with pdftotext (poppler-utils). Install whichever is missing, once.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "installing Debian's ${missing[*]} for the browser and PDF tests..." >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
command -v chromium >/dev/null && command -v pdftotext >/dev/null
