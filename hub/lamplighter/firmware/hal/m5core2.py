"""M5Stack Core2 screen (ILI9342C, 320x240, SPI) as a scrolling text console for log lines.

Part of the hardware layer: only imported on the board. Power comes from the AXP192 PMIC
(I2C 0x34), which must switch the LCD's supply and backlight on first. Lines are drawn with
framebuf's 8x8 font, one band of the screen at a time, so the driver needs only a 5 KB buffer.
"""

import time

import framebuf
import machine
from micropython import const

# Compile-time constants (micropython.const, leading underscore): inlined where used, so they
# take no heap as module globals.
_WIDTH = const(320)
_HEIGHT = const(240)
_LINE_HEIGHT = const(10)
_COLUMNS = const(_WIDTH // 8)
_ROWS = const(_HEIGHT // _LINE_HEIGHT)
_AXP192_ADDRESS = const(0x34)
# M5Core2 wiring.
_PIN_SCK = const(18)
_PIN_MOSI = const(23)
_PIN_CS = const(5)
_PIN_DC = const(15)
_PIN_I2C_SCL = const(22)
_PIN_I2C_SDA = const(21)


class M5Core2Display:
    """A text console: each log line goes on the next row, wrapping to the top when the screen is full."""

    def __init__(self):
        self._i2c = machine.I2C(0, scl=machine.Pin(_PIN_I2C_SCL), sda=machine.Pin(_PIN_I2C_SDA), freq=400000)
        self._spi = machine.SPI(2, baudrate=40000000, sck=machine.Pin(_PIN_SCK), mosi=machine.Pin(_PIN_MOSI))
        self._cs = machine.Pin(_PIN_CS, machine.Pin.OUT, value=1)
        self._dc = machine.Pin(_PIN_DC, machine.Pin.OUT, value=0)
        self._band = bytearray(_WIDTH * _LINE_HEIGHT * 2)
        self._canvas = framebuf.FrameBuffer(self._band, _WIDTH, _LINE_HEIGHT, framebuf.RGB565)
        self._row = 0
        # AXP192: DC3 (backlight) and LDO2 (LCD logic) on, LDO2/3 at 3.3 V, DC3 at about 3.0 V.
        self._i2c.writeto_mem(_AXP192_ADDRESS, 0x28, bytes([0xFF]))
        self._i2c.writeto_mem(_AXP192_ADDRESS, 0x27, bytes([0x6A]))
        enabled = self._i2c.readfrom_mem(_AXP192_ADDRESS, 0x12, 1)[0]
        self._i2c.writeto_mem(_AXP192_ADDRESS, 0x12, bytes([enabled | 0x06]))
        # GPIO4 of the AXP192 drives the LCD reset line: pulse it.
        self._i2c.writeto_mem(_AXP192_ADDRESS, 0x95, bytes([0x84]))
        self._i2c.writeto_mem(_AXP192_ADDRESS, 0x96, bytes([0x00]))
        self._i2c.writeto_mem(_AXP192_ADDRESS, 0x96, bytes([0x02]))
        self._command(0x01)  # software reset
        time.sleep_ms(120)  # at boot, before the event loop: blocking is fine here
        self._command(0x11)  # sleep out
        self._command(0x3A, bytes([0x55]))  # 16 bits per pixel
        self._command(0x36, bytes([0x08]))  # BGR order, landscape as mounted on the Core2
        self._command(0x21)  # inversion on (the Core2's panel needs it)
        self._command(0x29)  # display on
        self.clear()

    def _command(self, command, data=None):
        self._cs.value(0)
        self._dc.value(0)
        self._spi.write(bytes([command]))
        if data:
            self._dc.value(1)
            self._spi.write(data)
        self._cs.value(1)

    def _blit(self, row):
        y = row * _LINE_HEIGHT
        self._command(0x2A, bytes([0, 0, (_WIDTH - 1) >> 8, (_WIDTH - 1) & 0xFF]))
        self._command(0x2B, bytes([y >> 8, y & 0xFF, (y + _LINE_HEIGHT - 1) >> 8, (y + _LINE_HEIGHT - 1) & 0xFF]))
        self._command(0x2C)
        self._cs.value(0)
        self._dc.value(1)
        self._spi.write(self._band)
        self._cs.value(1)

    def clear(self):
        """Blank the screen and start at the top."""
        self._canvas.fill(0)
        for row in range(_ROWS):
            self._blit(row)
        self._row = 0

    def text(self, line):
        """Draw one log line (cut to the screen width) on the next row."""
        self._canvas.fill(0)
        # The line's colour by its level prefix, RGB565 (compared, not a table: a dict is heap).
        level = line.split(" ", 1)[0]
        colour = 0xF800 if level == "ERROR" else 0xFFE0 if level == "WARN" else 0x7BEF if level == "DEBUG" else 0xFFFF
        self._canvas.text(line[:_COLUMNS], 0, 1, colour)
        self._blit(self._row)
        self._row = (self._row + 1) % _ROWS
        # Blank the next row so the newest line is always followed by a gap.
        self._canvas.fill(0)
        self._blit(self._row)
