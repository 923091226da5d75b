#!/usr/bin/env bash
# Heap the firmware takes under real MicroPython (the WebAssembly port in Node) after importing
# every module of the compiled bundle (run in place from its ROMFS image, then loaded from the
# filesystem), as gc.mem_alloc() sees it; target <= 64 KB. Also printed:
# the modules a started device has loaded (steady state), and those plus an update's (OTA peak).
# Usage: bench/firmware_heap.sh   (needs `make install` and `npm ci` in hub/lamplighter/firmware/tools/mpy; `make bench` does both)
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/firmware-bench
.venv/bin/lamplighter firmware bundle --output "$out" >/dev/null
node hub/lamplighter/firmware/tools/mpy/run.mjs heap "$out" -v
