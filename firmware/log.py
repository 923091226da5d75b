"""A levelled logger to the serial console and the hardware display; secrets are masked."""

DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
LEVEL_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARN", ERROR: "ERROR"}
MASK = "***"


class Logger:
    """Writes "LEVEL name: message" lines; any registered secret is replaced by ***."""

    def __init__(self, name, hal=None, level=INFO, secrets=(), echo=True):
        self.name = name
        self.hal = hal
        self.level = level
        self.echo = echo
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
        line = self.redact(LEVEL_NAMES.get(level, str(level)) + " " + self.name + ": " + str(message))
        if self.echo:
            print(line)
        if self.hal is not None:
            self.hal.display(line)

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
