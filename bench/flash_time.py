"""How long `lamplighter flash` takes, on the board stand-in (the unix port behind a pty, the real mpremote).

`make bench-flash` (or `.venv/bin/python bench/flash_time.py`). Each run is a fresh board:
- a PSRAM board: the application as files onto its filesystem;
- a plain ESP32 with a ROMFS partition: the image into the partition.
The time is from the command's start (bundle build included) until the device shows its setup
network (no config: no hub needed), and, for the second figure, a second flash of the same
board. A pty has no baud rate: a real board's USB serial at 115,200 baud takes longer to copy.
"""

import io
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "hub")]

from lamplighter.firmware.tests.board_standin import PLAIN_ESP32_HEAP, PSRAM_HEAP, BoardStandin  # noqa: E402
from lamplighter.tools import flashing  # noqa: E402

ROMFS_PARTITION = 128 * 1024


def timed(board: BoardStandin) -> float:
    started = time.perf_counter()
    flashing.flash(board.port, None, out=io.StringIO())
    return time.perf_counter() - started


def main() -> None:
    """Print the figures."""
    for label, heap, romfs in (
        ("PSRAM board, files", PSRAM_HEAP, None),
        ("plain ESP32, ROMFS image", PLAIN_ESP32_HEAP, ROMFS_PARTITION),
    ):
        with (
            tempfile.TemporaryDirectory() as folder,
            BoardStandin(folder, heap=heap, romfs_size=romfs) as board,
        ):
            first = timed(board)
            second = timed(board)
        print(f"{label}: first flash {first:.1f} s, again {second:.1f} s")


if __name__ == "__main__":
    main()
