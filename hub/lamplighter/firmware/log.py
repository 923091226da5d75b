"""A levelled logger to the serial console, the hardware display and the hub; secrets are masked.

Lines for the hub wait in a bounded ring buffer (LogBuffer) that the hub link drains as
log.batch messages while it is connected; the oldest lines go first when it is full.
"""

DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
LEVEL_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARN", ERROR: "ERROR"}
MASK = "***"
DEFAULT_BUFFER_LINES = 64
MAX_LINE_LENGTH = 200  # protocol.MAX_LOG_LINE_LENGTH; not imported, so the logger stays dependency-free


class LogBuffer:
    """The last `capacity` log lines for the hub, each with a sequence number; counts what it dropped."""

    def __init__(self, capacity=DEFAULT_BUFFER_LINES):
        self.capacity = capacity
        self.lines = []  # [seq, uptime, level name, text]
        self.next_seq = 0
        self.dropped = 0
        self.listener = None  # called after each new line (the hub link wakes up to send it)

    def append(self, level_name, text, uptime=0):
        """Keep one (already masked) line, dropping the oldest when full."""
        self.lines.append([self.next_seq, uptime, level_name, text[:MAX_LINE_LENGTH]])
        self.next_seq += 1
        if len(self.lines) > self.capacity:
            del self.lines[0]
            self.dropped += 1
        if self.listener is not None:
            self.listener()

    def take(self, limit):
        """Remove and return up to `limit` oldest lines and the count dropped since the last take."""
        taken = self.lines[:limit]
        self.lines = self.lines[limit:]
        dropped = self.dropped
        self.dropped = 0
        return taken, dropped

    def put_back(self, lines, dropped):
        """Return lines that could not be sent to the front (what does not fit is counted as dropped)."""
        self.lines = lines + self.lines
        self.dropped += dropped
        while len(self.lines) > self.capacity:
            del self.lines[0]
            self.dropped += 1


class Logger:
    """Writes "LEVEL name: message" lines; any registered secret is replaced by ***."""

    def __init__(self, name, hal=None, level=INFO, secrets=(), echo=True, buffer=None):
        self.name = name
        self.hal = hal
        self.level = level
        self.echo = echo
        self.buffer = buffer if buffer is not None else LogBuffer()
        self._secrets = []
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret):
        """Never print this value (a device secret, a Wi-Fi password, a LAN token)."""
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets.append(secret)
            # Longest first, so a secret containing another is masked whole.
            self._secrets.sort(key=len, reverse=True)

    def redact(self, text):
        """text with every registered secret masked."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def log(self, level, message):
        """Write one line if level is enabled."""
        if level < self.level:
            return
        level_name = LEVEL_NAMES.get(level, "INFO")
        line = self.redact(level_name + " " + self.name + ": " + str(message))
        if self.echo:
            print(line)
        uptime = 0
        if self.hal is not None:
            self.hal.display(line)
            uptime = self.hal.uptime() if hasattr(self.hal, "uptime") else 0
        self.buffer.append(level_name, line, uptime)

    def debug(self, message):
        """Detail for development."""
        self.log(DEBUG, message)

    def info(self, message):
        """Normal operation."""
        self.log(INFO, message)

    def warning(self, message):
        """Something went wrong and was handled."""
        self.log(WARNING, message)

    def error(self, message):
        """Something went wrong and needs a person."""
        self.log(ERROR, message)
