// Runs firmware code under real MicroPython: the WebAssembly port, in Node 20.
//
//   node hub/lamplighter/firmware/tools/mpy/run.mjs tests [MODULE...]   the pure modules' unittest suites; exit 1 on any failure
//   node hub/lamplighter/firmware/tools/mpy/run.mjs heap [BUNDLE] [-v]   heap taken by importing every firmware module
//        (gc.mem_alloc), then by the modules a started ESP32 device has loaded, and during an update;
//        with BUNDLE (`lamplighter firmware bundle` output) the .mpy files a board runs, from its
//        ROMFS image (app.romfs, in place) and from its filesystem (app/)
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
const REPO = path.resolve(FIRMWARE, "..", "..", "..");

// The unittest modules proven under MicroPython: pure, synchronous code only (the port has
// partial asyncio). Socket and simulator tests stay CPython-only (pytest).
const TEST_MODULES = [
  "test_protocol",
  "test_protocol_lights",
  "test_light_output",
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

// Never imported on a board (CPython only, the unix port's, or run by name): not measured.
const NOT_ON_A_BOARD = [
  "firmware.simulator",
  "firmware.hal.host",
  "firmware.host_control",
  "firmware.unix_main",
  "firmware.micropython_runner",
  "firmware.boot",
  "firmware.main",
];
const HEAP_TARGET_BYTES = 64 * 1024;
// Built into the ESP32 port in C (no heap), but frozen micropython-lib Python wrappers in this
// port (binascii alone builds 7 KB of tables), so they are imported before the baseline.
// asyncio is frozen Python on the ESP32 too, so it stays in the figure.
const PORT_PYTHON_MODULES = ["binascii", "time", "os", "io"];
// Frozen into this port but not into the ESP32's firmware: on a board their import fails, and
// microdot takes its MicroPython branch (no inspect.iscoroutinefunction, no functools.partial).
// Here too, so the figure counts what a board loads.
const NOT_ON_THE_ESP32 = ["inspect", "functools"];

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

// romfs: an image the port holds outside its heap and mounts at /rom (with /rom and /rom/lib
// on sys.path), as a board maps its ROMFS partition. withSource: the firmware's .py files in /firmware.
async function boot(quiet = false, romfs = undefined, withSource = true) {
  let output = "";
  const mp = await loadMicroPython({
    romfs,
    heapsize: 2 * 1024 * 1024,
    stdout: (text) => {
      output += text + "\n";
      if (!quiet) {
        process.stdout.write(text + "\n");
      }
    },
    stderr: (text) => process.stderr.write(text + "\n"),
  });
  if (withSource) {
    copyTree(mp, FIRMWARE, "/firmware", (name) => name.endsWith(".py") || name.endsWith(".json"));
  }
  mp.FS.mkdirTree("/lib");
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

// Tiny stand-ins for the ESP32's machine, network and esp32 modules (C on the board, imported
// before the baseline), so the ESP32 hardware layer can be imported and a device started.
const STAND_INS = {
  machine:
    "class Pin:\n    OUT = 1\n    IN = 0\n    PULL_UP = 2\n    def __init__(self, *a, **k): pass\n" +
    "    def value(self, *a): return 0\n" +
    "class WDT:\n    def __init__(self, *a, **k): pass\n    def feed(self): pass\n" +
    "class SPI:\n    def __init__(self, *a, **k): pass\nclass I2C:\n    def __init__(self, *a, **k): pass\n" +
    "def reset(): pass\n",
  network:
    "STA_IF = 0\nAP_IF = 1\nclass WLAN:\n    PM_NONE = 0\n    PM_PERFORMANCE = 1\n" +
    "    def __init__(self, *a): pass\n    def active(self, *a): return True\n" +
    "    def isconnected(self): return False\n",
  esp32:
    "class Partition:\n    RUNNING = 0\n    BOOT = 1\n    def __init__(self, *a): pass\n" +
    "    def get_next_update(self): return Partition()\n" +
    "    def info(self): return (0, 0, 65536, 1572864, 'ota_0', False)\n" +
    "    @staticmethod\n    def mark_app_valid_cancel_rollback(): pass\n",
};

// The config of a provisioned board, for the steady-state figure.
const BOARD_CONFIG = {
  board: "esp32",
  device_id: "bench",
  secret: "bench-secret",
  name: "hall",
  wifi: { ssid: "home", password: "wifi-password" },
  hubs: ["http://192.168.1.10:8000"],
  lights: [{ room: "Kitchen", light: "Ceiling", pin: 2, button: 39 }],
};
function listModules(folder, suffix, prefix, found = []) {
  for (const entry of fs.readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory()) {
      if (!["tests", "tools", "node_modules", "__pycache__"].includes(entry.name)) {
        listModules(path.join(folder, entry.name), suffix, prefix + "." + entry.name, found);
      }
    } else if (entry.name.endsWith(suffix)) {
      const stem = entry.name.slice(0, -suffix.length);
      found.push(stem === "__init__" ? prefix : prefix + "." + stem);
    }
  }
  return found;
}

function sourceOf(module) {
  const relative = module.split(".").slice(1).join("/");
  const file = path.join(FIRMWARE, relative + ".py");
  return fs.existsSync(file) ? file : path.join(FIRMWARE, relative, "__init__.py");
}

// A `from X import` target as an absolute module name: the firmware imports its own modules
// relatively (`.state`, `..compat`), so that the package runs as `firmware` on a board and as
// `lamplighter.firmware` in the hub.
function absoluteModule(importer, target) {
  const dots = target.match(/^\.*/)[0].length;
  if (dots === 0) {
    return target;
  }
  const isPackage = sourceOf(importer).endsWith("__init__.py");
  const base = importer.split(".").slice(0, isPackage ? undefined : -1);
  const anchor = base.slice(0, base.length - (dots - 1));
  const rest = target.slice(dots);
  return rest ? [...anchor, rest].join(".") : anchor.join(".");
}

// Dependencies first (from each source's top-level imports), so each -v line is the module's own cost.
function dependencyOrder(modules) {
  const known = new Set(modules);
  const ordered = [];
  const visit = (module) => {
    if (ordered.includes(module) || !known.has(module)) {
      return;
    }
    known.delete(module); // guards against import cycles
    const source = module.startsWith("firmware") ? fs.readFileSync(sourceOf(module), "utf8") : "";
    for (const line of source.split("\n")) {
      const match = line.match(/^from ((?:firmware|microdot|\.)[\w.]*) import \(?([\w, ]*)/);
      if (match) {
        const target = absoluteModule(module, match[1]);
        visit(target);
        for (const name of (match[2] || "").split(",")) {
          visit(target + "." + name.trim());
        }
      }
    }
    ordered.push(module);
  };
  // asyncio (frozen Python on the ESP32 too) first, on its own line: firmware.compat imports it.
  [...modules.filter((name) => name === "asyncio"), "firmware", ...modules].forEach(visit);
  return ordered;
}

// Where the modules come from: "romfs" (the bundle's app.romfs, run in place), "flash" (the
// bundle's app/ folder copied to the flash root, as on a board without a ROMFS partition) or
// "source" (the .py files, no bundle).
async function heapVm(bundle, layout) {
  const romfs = layout === "romfs" ? fs.readFileSync(path.join(bundle, "app.romfs")) : undefined;
  const { mp } = await boot(true, romfs, layout === "source");
  if (layout === "flash") {
    copyTree(mp, path.join(bundle, "app"), "/", (name) => name.endsWith(".mpy"));
  } else if (layout === "source") {
    copyTree(mp, microdotFolder(), "/lib/microdot", (name) => name.endsWith(".py"));
  }
  for (const [name, source] of Object.entries(STAND_INS)) {
    mp.FS.writeFile("/lib/" + name + ".py", source);
  }
  mp.FS.mkdirTree("/absent");
  for (const name of NOT_ON_THE_ESP32) {
    mp.FS.writeFile("/absent/" + name + ".py", `raise ImportError("no module named '${name}' on the ESP32")\n`);
  }
  mp.runPython(`
import sys, gc, json
sys.path.insert(0, "/absent")  # ahead of the port's frozen modules
for _name in ${JSON.stringify(NOT_ON_THE_ESP32)}:
    try:
        __import__(_name)
        raise SystemExit(_name + " imported: it must fail as on the ESP32")
    except ImportError:
        pass
if ${layout === "romfs" ? "True" : "False"} and "/rom" not in [_mount[1] for _mount in __import__("vfs").mount()]:
    raise SystemExit("the ROMFS image was not mounted at /rom")
import framebuf
for _name in ${JSON.stringify([...Object.keys(STAND_INS), ...PORT_PYTHON_MODULES])}:
    if not hasattr(__import__(_name), "__file__") and _name in ${JSON.stringify(PORT_PYTHON_MODULES)}:
        raise SystemExit(_name + " is built in here now: drop it from PORT_PYTHON_MODULES")
_known = set(sys.modules)

def _heap_after(names):
    # Heap taken by importing names (gc.mem_alloc after a collection), running total per name.
    # The totals go into a list made before the first figure, as small ints (no heap), so the
    # runner's own bookkeeping is not counted as the firmware's.
    totals = [0] * len(names)
    gc.collect()
    before = gc.mem_alloc()
    for index in range(len(names)):
        __import__(names[index])
        gc.collect()
        totals[index] = gc.mem_alloc() - before
    return list(zip(names, totals))
`);
  return mp;
}

// Imports names in the VM; [[name, heap so far], ...] (JSON crosses to JavaScript as a plain string).
function importSteps(mp, names) {
  mp.runPython(`_steps = json.dumps(_heap_after(${JSON.stringify(names)}))`);
  return JSON.parse(mp.globals.get("_steps"));
}

// The modules a board imports on the way to a running device (main.py's path: the ESP32 hardware
// layer, the config on flash, the Device), then those the first update offer adds.
async function entryModules(bundle, layout) {
  const mp = await heapVm(bundle, layout);
  mp.FS.mkdirTree("/flash");
  mp.FS.writeFile("/flash/config.json", JSON.stringify(BOARD_CONFIG));
  mp.runPython(`
from firmware import app, protocol
from firmware.hal.esp32 import Esp32Hal  # what a board's hal.create() picks (this port is not "esp32")
_device = app.Device(Esp32Hal(flash_root="/flash"))
_steady = sorted(name for name in sys.modules if name not in _known)
# What an update imports (its modules are dropped again after a refusal: OtaAgent.release()).
from firmware import ota_agent
_update = sorted("firmware." + name for name in ota_agent._UPDATE_MODULES)
_entry = json.dumps([_steady, _update])
`);
  return JSON.parse(mp.globals.get("_entry"));
}

function figure(label, heap) {
  return (
    `${label}: ${heap} bytes (${(heap / 1024).toFixed(1)} KB); ` +
    `target ${HEAP_TARGET_BYTES / 1024} KB; ratio ${(heap / HEAP_TARGET_BYTES).toFixed(2)}`
  );
}

// Heap of every module at once ([name, running total] per module), of a started device, and
// of a started device taking an update, with the modules loaded from `layout`.
async function heapFigures(bundle, layout, all) {
  const steps = importSteps(await heapVm(bundle, layout), all);
  const [steady, update] = await entryModules(bundle, layout);
  const mp = await heapVm(bundle, layout);
  const steadyHeap = importSteps(mp, steady).pop()[1];
  const peakHeap = steadyHeap + importSteps(mp, update).pop()[1];
  return { steps, heap: steps[steps.length - 1][1], steady, update, steadyHeap, peakHeap };
}

const LAYOUT_NAMES = {
  romfs: "compiled bundle in a ROMFS partition (app.romfs, run in place)",
  flash: "compiled bundle on the flash filesystem (app/, loaded into RAM)",
  source: "source, .py",
};

async function measureHeap(bundle) {
  const verbose = process.argv.includes("-v");
  const modules = (bundle
    ? listModules(path.join(bundle, "app", "firmware"), ".mpy", "firmware")
    : listModules(FIRMWARE, ".py", "firmware")
  ).filter((name) => !NOT_ON_A_BOARD.includes(name));
  const all = dependencyOrder(["asyncio", ...modules, "microdot"]);
  // The first layout is the headline: the way docs/firmware.md installs a board without PSRAM.
  const layouts = bundle ? ["romfs", "flash"] : ["source"];
  let headline = null;
  for (const layout of layouts) {
    const result = await heapFigures(bundle, layout, all);
    const indent = headline === null ? "" : "  ";
    if (verbose) {
      let last = 0;
      for (const [name, total] of result.steps) {
        console.log(`${indent}  ${name.padEnd(28)} +${String(total - last).padStart(6)}`);
        last = total;
      }
    }
    console.log(
      figure(
        `${indent}firmware heap, ${LAYOUT_NAMES[layout]}, after importing ${modules.length} modules and microdot`,
        result.heap,
      ),
    );
    console.log(figure(`${indent}  steady state (a provisioned ESP32 once started, ${result.steady.length} modules)`, result.steadyHeap));
    console.log(figure(`${indent}  peak during an OTA update (steady state + ${result.update.join(", ")})`, result.peakHeap));
    if (verbose) {
      console.log(`${indent}  steady-state modules: ${result.steady.join(", ")}`);
    }
    headline = headline === null ? result : headline;
  }
  if (headline.heap > HEAP_TARGET_BYTES) {
    console.log("over the target (a figure to track, not a failure: see docs/firmware.md, Memory)");
  } else {
    console.log(`within the target: ${HEAP_TARGET_BYTES - headline.heap} bytes to spare`);
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
