import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "node:fs";
import path from "node:path";
const bundle = process.argv[2];
const script = fs.readFileSync(process.argv[3], "utf8");
const romfs = fs.readFileSync(path.join(bundle, "app.romfs"));
const mp = await loadMicroPython({ romfs, heapsize: 2*1024*1024, stdout: (t)=>process.stdout.write(t+"\n"), stderr: (t)=>process.stderr.write(t+"\n") });
mp.FS.mkdirTree("/lib");
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
for (const [n, s] of Object.entries(STAND_INS)) mp.FS.writeFile("/lib/"+n+".py", s);
mp.FS.mkdirTree("/absent");
for (const n of ["inspect","functools"]) mp.FS.writeFile("/absent/"+n+".py", `raise ImportError("no")\n`);
mp.runPython(`import sys, gc, json\nsys.path.insert(0, "/absent")\nimport framebuf\nfor _n in ["machine","network","esp32","binascii","time","os","io"]: __import__(_n)\n`);
mp.runPython(script);
