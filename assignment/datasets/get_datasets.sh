#!/usr/bin/env bash
# Download CIFAR-10 (python version) next to this script, as datasets/cifar-10-batches-py.
#
# Without it the assignment runs on its built-in synthetic dataset; run this once on a machine
# with network access to train on real images instead (about 170 MB). Alternatively set
# CIFAR10_DIR to a folder that already holds data_batch_1..5 and test_batch.
set -euo pipefail

URL="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5="c58f30108f718f92721af3b95e74349a"
ARCHIVE="cifar-10-python.tar.gz"

cd "$(dirname "$0")"

if [ -d cifar-10-batches-py ]; then
    echo "cifar-10-batches-py already exists in $(pwd); nothing to do."
    exit 0
fi

if command -v curl >/dev/null 2>&1; then
    curl -fL --retry 3 -o "$ARCHIVE" "$URL"
elif command -v wget >/dev/null 2>&1; then
    wget -O "$ARCHIVE" "$URL"
else
    echo "Neither curl nor wget is available; download $URL by hand into $(pwd)." >&2
    exit 1
fi

if command -v md5sum >/dev/null 2>&1; then
    echo "$MD5  $ARCHIVE" | md5sum -c - || { rm -f "$ARCHIVE"; exit 1; }
elif command -v md5 >/dev/null 2>&1; then
    [ "$(md5 -q "$ARCHIVE")" = "$MD5" ] || { echo "MD5 mismatch" >&2; rm -f "$ARCHIVE"; exit 1; }
fi

tar -xzf "$ARCHIVE"
rm -f "$ARCHIVE"
echo "CIFAR-10 is in $(pwd)/cifar-10-batches-py"
