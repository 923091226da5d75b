// Runs firmware code under real MicroPython: the WebAssembly port, in Node 20.
//
//   node firmware/tools/mpy/run.mjs tests [MODULE...]   the pure modules' unittest suites; exit 1 on any failure
//   node firmware/tools/mpy/run.mjs heap [BUNDLE] [-v]   heap taken by importing every firmware module
//        (gc.mem_alloc); with BUNDLE (`lamplighter firmware bundle` output) the .mpy files a board runs
//
// The firmware folder (and microdot, for the heap figure) is copied into the port's in-memory
// filesystem, so the code runs exactly as it would from a board's flash. `make test-micropython`
// and `make bench` call this; `npm ci` in this folder installs the port.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import url from "node:url";

const HERE = path.dirname(url.fileURLToPath(import.meta.url));
const FIRMWARE = path.resolve(HERE, "..", "..");
const REPO = path.dirname(FIRMWARE);

// The unittest modules proven under MicroPython: pure, synchronous code only (the port has
// partial asyncio). Socket and simulator tests stay CPython-only (pytest).
const TEST_MODULES = [
  "test_protocol",
  "test_state",
  "test_backoff",
  "test_config",
  "test_log",
  "test_ws_frames",
  "test_wifi",
  "test_buttons",
  "test_provisioning",
  "test_watchdog",
  "test_ed25519",
  "test_ota",
];

// Every module a board imports (the bundle's application), for the heap figure.
const FIRMWARE_MODULES = [
  "firmware.compat",
  "firmware.protocol",
  "firmware.storage",
  "firmware.config",
  "firmware.backoff",
  "firmware.log",
  "firmware.state",
  "firmware.http_client",
  "firmware.ws_client",
  "firmware.hub_client",
  "firmware.wifi",
  "firmware.buttons",
  "firmware.watchdog",
  "firmware.provisioning",
  "firmware.setup_portal",
  "firmware.web",
  "firmware.app",
  "firmware.hal",
  "firmware.hal.esp32",
  "firmware.hal.m5core2",
];
const HEAP_TARGET_BYTES = 64 * 1024;

// micropython-lib's unittest (frozen into the port) lacks a few assertions the suites use;
// they are added here rather than in the tests, so the tests stay plain unittest.TestCase.
const UNITTEST_SHIM = `
import unittest
def _not_in(self, member, container, msg=None):
    if member in container:
        raise AssertionError(msg or "%r unexpectedly found in %r" % (member, container))
def _greater(self, a, b, msg=None):
    if not a > b:
        raise AssertionError(msg or "%r not greater than %r" % (a, b))
def _less(self, a, b, msg=None):
    if not a < b:
        raise AssertionError(msg or "%r not less than %r" % (a, b))
for _name, _function in (("assertNotIn", _not_in), ("assertGreater", _greater), ("assertLess", _less)):
    if not hasattr(unittest.TestCase, _name):
        setattr(unittest.TestCase, _name, _function)
`;

function copyTree(mp, source, target, accept) {
  mp.FS.mkdirTree(target);
  for (const entry of fs.readdirSync(source, { withFileTypes: true })) {
    const from = path.join(source, entry.name);
    const to = target + "/" + entry.name;
    if (entry.isDirectory()) {
      if (entry.name !== "tools" && entry.name !== "node_modules" && entry.name !== "__pycache__") {
        copyTree(mp, from, to, accept);
      }
    } else if (accept(entry.name)) {
      mp.FS.writeFile(to, fs.readFileSync(from));
    }
  }
}

function microdotFolder() {
  // The same microdot the simulator uses (installed in the project's virtualenv).
  const python = path.join(REPO, ".venv", "bin", "python");
  const out = execFileSync(python, ["-c", "import microdot, os; print(os.path.dirname(microdot.__file__))"]);
  return out.toString().trim();
}

async function boot() {
  let output = "";
  const mp = await loadMicroPython({
    heapsize: 2 * 1024 * 1024,
    stdout: (text) => {
      output += text + "\n";
      process.stdout.write(text + "\n");
    },
    stderr: (text) => process.stderr.write(text + "\n"),
  });
  copyTree(mp, FIRMWARE, "/firmware", (name) => name.endsWith(".py") || name.endsWith(".json"));
  return { mp, output: () => output };
}

async function runTests(only) {
  const modules = only.length ? only : TEST_MODULES;
  const { mp } = await boot();
  mp.runPython(UNITTEST_SHIM);
  mp.runPython(`
import sys
sys.path.insert(0, "/")
import unittest
print("MicroPython", ".".join(str(part) for part in sys.implementation.version[:3]), sys.implementation._machine)
suite = unittest.TestSuite("firmware")
for _name in ${JSON.stringify(modules)}:
    _module = __import__("firmware.tests." + _name)
    for _part in ("tests", _name):
        _module = getattr(_module, _part)
    suite._load_module(_module)
_result = unittest.TextTestRunner().run(suite)
_lamplighter_result = (_result.testsRun, _result.failuresNum, _result.errorsNum, _result.skippedNum)
`);
  const [run, failures, errors, skipped] = mp.globals.get("_lamplighter_result");
  const passed = run - failures - errors - skipped;
  console.log(`MicroPython tests: ${run} run in ${modules.length} modules`);
  console.log(`${passed} passed, ${failures + errors} failed, ${skipped} skipped`);
  if (failures + errors > 0 || run === 0) {
    process.exitCode = 1;
  }
}

async function measureHeap(bundle) {
  const { mp } = await boot();
  if (bundle) {
    // The compiled bundle replaces the source: exactly what a board imports.
    copyTree(mp, path.join(bundle, "firmware"), "/bundle/firmware", (name) => name.endsWith(".mpy"));
    copyTree(mp, path.join(bundle, "lib", "microdot"), "/lib/microdot", (name) => name.endsWith(".mpy"));
  } else {
    copyTree(mp, microdotFolder(), "/lib/microdot", (name) => name.endsWith(".py"));
  }
  const root = bundle ? "/bundle" : "/";
  // Stand-ins for the ESP32's machine and network modules (tiny, imported before the baseline),
  // so the ESP32 hardware layer itself is part of the figure.
  mp.FS.writeFile(
    "/lib/machine.py",
    "class Pin:\n    OUT = 1\n    IN = 0\n    PULL_UP = 2\n    def __init__(self, *a, **k): pass\n" +
      "class WDT:\n    def __init__(self, *a, **k): pass\n    def feed(self): pass\n" +
      "class SPI:\n    def __init__(self, *a, **k): pass\nclass I2C:\n    def __init__(self, *a, **k): pass\n" +
      "def reset(): pass\n",
  );
  mp.FS.writeFile("/lib/network.py", "STA_IF = 0\nAP_IF = 1\nclass WLAN:\n    PM_NONE = 0\n    PM_PERFORMANCE = 1\n    def __init__(self, *a): pass\n");
  mp.runPython(`
import sys, gc
sys.path.insert(0, "${root}")
import machine, network, framebuf
gc.collect()
_before = gc.mem_alloc()
_steps = []
for _name in ${JSON.stringify(FIRMWARE_MODULES)}:
    __import__(_name)
    gc.collect()
    _steps.append((_name, gc.mem_alloc() - _before))
import microdot
gc.collect()
if "-v" in ${JSON.stringify(process.argv)}:
    _last = 0
    for _name, _total in _steps:
        print("  %-28s +%6d" % (_name, _total - _last))
        _last = _total
_lamplighter_heap = gc.mem_alloc() - _before
`);
  const heap = mp.globals.get("_lamplighter_heap");
  const ratio = heap / HEAP_TARGET_BYTES;
  console.log(
    `firmware heap (${bundle ? "compiled bundle, .mpy" : "source, .py"}) after importing ` +
      `${FIRMWARE_MODULES.length} modules and microdot: ${heap} bytes ` +
      `(${(heap / 1024).toFixed(1)} KB); target ${HEAP_TARGET_BYTES / 1024} KB; ratio ${ratio.toFixed(2)}`,
  );
  if (heap > HEAP_TARGET_BYTES) {
    console.log("over the target (a figure to track, not a failure: see docs/firmware.md, Memory)");
  }
}

const mode = process.argv[2] || "tests";
try {
  if (mode === "tests") {
    await runTests(process.argv.slice(3));
  } else if (mode === "heap") {
    await measureHeap(process.argv.slice(3).find((arg) => !arg.startsWith("-")));
  } else {
    console.error("usage: node run.mjs tests [MODULE...] | heap");
    process.exitCode = 2;
  }
} catch (error) {
  // A Python exception outside the test runner (an import failed): its traceback, not the port's source.
  console.error(String(error && error.message ? error.message : error));
  process.exitCode = 1;
}
