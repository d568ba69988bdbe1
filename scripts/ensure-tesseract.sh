#!/usr/bin/env bash
# Tesseract (Debian's packages, with English and Simplified Chinese data) for the local
# provider's OCR (image-ocr, /task/pic/ocr). Without it OCR tasks fail with a clear reason and
# every other tool works, so `make run` needs nothing; the tests want it. Nothing is started.
set -euo pipefail
if command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx chi_sim \
    && [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "tesseract is not installed; run as root or: apt-get install tesseract-ocr" \
        "tesseract-ocr-eng tesseract-ocr-chi-sim fonts-wqy-microhei" >&2
    exit 1
fi
echo "installing tesseract-ocr (Debian packages) for the local OCR tool" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-eng \
    tesseract-ocr-chi-sim fonts-wqy-microhei >/dev/null  # the font: Chinese for the OCR test
