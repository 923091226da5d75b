"""Hub settings: every value comes from the environment here, with safe defaults for the demo."""

import os
import secrets
from pathlib import Path

import dj_database_url


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ValueError(f"{name} must be an integer, got {value!r}") from error


DATA_DIR = Path(os.environ.get("LAMPLIGHTER_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The env's key, else one generated once and kept (mode 0600) in the data directory."""
    if os.environ.get("LAMPLIGHTER_SECRET_KEY"):
        return os.environ["LAMPLIGHTER_SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


PRODUCTION = os.environ.get("LAMPLIGHTER_ENV", "development") == "production"
SECRET_KEY = _secret_key()
DEBUG = _env_bool("LAMPLIGHTER_DEBUG", False)
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("LAMPLIGHTER_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("LAMPLIGHTER_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "lamplighter.accounts",
    "lamplighter.homes",
    "lamplighter.devices",
    "lamplighter.lights",
    "lamplighter.dashboard",
    "lamplighter.automations",
    "lamplighter.adaptive",
    "lamplighter.mqtt_bridge",
    "lamplighter.ota",
    "lamplighter.backup",
    "lamplighter.serving",
]

# Async from end to end (lamplighter.serving.middleware: Django's classes with their hooks on the event
# loop): every HTTP request, the device poll, health and metrics included, goes through this chain.
MIDDLEWARE = [
    "lamplighter.serving.middleware.SecurityMiddleware",
    # Static files straight from the apps (no build step, no CDN); a proxy may serve STATIC_ROOT instead.
    "servestatic.middleware.ServeStaticMiddleware",
    "lamplighter.serving.middleware.SessionMiddleware",
    # The browser's language (Accept-Language, or the language cookie); the user's choice below wins.
    "lamplighter.serving.middleware.LocaleMiddleware",
    "lamplighter.serving.middleware.CommonMiddleware",
    "lamplighter.serving.middleware.CsrfViewMiddleware",
    "lamplighter.serving.middleware.AuthenticationMiddleware",
    "lamplighter.accounts.middleware.user_language_middleware",
    "lamplighter.serving.middleware.MessageMiddleware",
    "lamplighter.serving.middleware.XFrameOptionsMiddleware",
    "lamplighter.serving.middleware.DatabaseUnavailableMiddleware",
]

# Django's checks for its own SecurityMiddleware, XFrameOptionsMiddleware and CsrfViewMiddleware
# paths; the chain holds on-loop subclasses of them, checked as lamplighter.W001-W003 instead.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

ROOT_URLCONF = "lamplighter.urls"
ASGI_APPLICATION = "lamplighter.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'lamplighter.sqlite3'}")
_SQLITE = _DATABASE_URL.startswith("sqlite:")
DATABASES = {
    "default": dj_database_url.parse(
        _DATABASE_URL,
        # SQLite: keep each thread's connection (opening one costs ~0.4 ms, more than a query);
        # PostgreSQL: connections come from a pool instead (below), which needs 0 here.
        conn_max_age=_env_int("LAMPLIGHTER_DB_CONN_MAX_AGE", 600 if _SQLITE else 0),
    )
}
_POOL_SIZE = _env_int("LAMPLIGHTER_DB_POOL_SIZE", 20)  # 0: no pool (then CONN_MAX_AGE applies)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and _POOL_SIZE:
    # psycopg's pool: every database_sync_to_async and request thread borrows a connection.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": _POOL_SIZE,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a write is in progress; the timeout rides out short locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": _env_int("LAMPLIGHTER_DB_TIMEOUT", 5),  # seconds a write waits for a lock
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-lamplighter.sqlite3")}
    # Django's SQLite backend, with each statement's placeholders converted once.
    DATABASES["default"]["ENGINE"] = "lamplighter.infra.sqlite_backend"

# Messages a channel holds before the layer drops what comes next (Channels' default: 100). A
# dashboard's channel takes a presence event per device that connects: a connect storm's
# batch of 200 committed together overflowed it. Dashboard events go 100 to a message
# (realtime.HOME_EVENTS_PER_MESSAGE), so this is ample; a stuck socket holds at most this many.
CHANNEL_CAPACITY = 1000

if os.environ.get("REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # A consumer waits for its next message with BZPOPMIN for 5 s (channels_redis'
                # brpop_timeout), and redis-py 8 reads with a 5 s socket timeout by default: the
                # empty answer and the timeout raced, and the loser was a TimeoutError that killed
                # the consumer (an idle device or dashboard socket dropped without a close frame).
                "hosts": [{"address": os.environ["REDIS_URL"], "socket_timeout": 30}],
                # Hubs (or test runs) sharing one Redis keep apart by prefix.
                "prefix": os.environ.get("LAMPLIGHTER_REDIS_PREFIX", "lamplighter"),
                "capacity": CHANNEL_CAPACITY,
            },
        }
    }
else:
    # One process: Channels' in-memory layer, with expiry per channel (see the module).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "lamplighter.infra.channel_layer.LazyInMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_CAPACITY},
        }
    }

# Throttling counts live in the cache: Redis when workers share it, process memory otherwise.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "lamplighter.infra.cache.SharedRedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": os.environ.get("LAMPLIGHTER_REDIS_PREFIX", "lamplighter"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "lamplighter.infra.cache.InProcessCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The dashboard's languages (each user picks one; the browser's is the default). Names in their own language.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
# One catalogue for the hub: the dashboard's strings and the service messages it shows (`make messages`).
LOCALE_PATHS = [Path(__file__).resolve().parent / "dashboard" / "locale"]
TIME_ZONE = os.environ.get("LAMPLIGHTER_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # ServeStatic warns when it is missing
# Serve from the apps' static folders, so neither the demo nor the tests need collectstatic.
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = DEBUG
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:index"
LOGOUT_REDIRECT_URL = "login"

# Bodies larger than this are refused before a view sees them.
DATA_UPLOAD_MAX_MEMORY_SIZE = _env_int("LAMPLIGHTER_MAX_BODY_BYTES", 64 * 1024)

# Device presence: a device is offline after this many heartbeat intervals without contact.
LAMPLIGHTER_HEARTBEAT_INTERVAL = _env_int("LAMPLIGHTER_HEARTBEAT_INTERVAL", 15)
LAMPLIGHTER_MISSED_HEARTBEATS = _env_int("LAMPLIGHTER_MISSED_HEARTBEATS", 3)
# Failed logins: a user name, or a client address, is refused (429) for the window after this many.
LAMPLIGHTER_LOGIN_MAX_FAILURES = _env_int("LAMPLIGHTER_LOGIN_MAX_FAILURES", 5)
LAMPLIGHTER_LOGIN_MAX_FAILURES_PER_ADDRESS = _env_int("LAMPLIGHTER_LOGIN_MAX_FAILURES_PER_ADDRESS", 30)
LAMPLIGHTER_LOGIN_WINDOW_SECONDS = _env_int("LAMPLIGHTER_LOGIN_WINDOW_SECONDS", 15 * 60)
# Failed device authentications per client address before it is refused (429) for the window.
LAMPLIGHTER_DEVICE_AUTH_MAX_FAILURES = _env_int("LAMPLIGHTER_DEVICE_AUTH_MAX_FAILURES", 20)
LAMPLIGHTER_DEVICE_AUTH_WINDOW_SECONDS = _env_int("LAMPLIGHTER_DEVICE_AUTH_WINDOW_SECONDS", 5 * 60)

# Timeout of a LAN push to a device's /control_led, in seconds.
LAMPLIGHTER_LAN_PUSH_TIMEOUT = _env_int("LAMPLIGHTER_LAN_PUSH_TIMEOUT", 3)

# Schedules: how often the scheduler looks for due events, and how late (after downtime) an
# event may still fire; older missed events are skipped.
LAMPLIGHTER_SCHEDULE_TICK = _env_int("LAMPLIGHTER_SCHEDULE_TICK", 10)
LAMPLIGHTER_SCHEDULE_CATCH_UP = _env_int("LAMPLIGHTER_SCHEDULE_CATCH_UP", 15 * 60)
# Adaptive white: how often (seconds) the planner looks again at the curve and the adaptive lights,
# besides waking at each planned fade's end (docs/adaptive.md).
LAMPLIGHTER_ADAPTIVE_REPLAN_SECONDS = _env_int("LAMPLIGHTER_ADAPTIVE_REPLAN_SECONDS", 60)

# MQTT bridge to Home Assistant: off unless MQTT_URL is set (mqtt://user:pass@host:1883, mqtts://...).
MQTT_URL = os.environ.get("MQTT_URL", "")
MQTT_CA_FILE = os.environ.get("MQTT_CA_FILE", "")  # CA bundle for mqtts://; the system's when empty
MQTT_DISCOVERY_PREFIX = os.environ.get("MQTT_DISCOVERY_PREFIX", "homeassistant")
MQTT_BASE_TOPIC = os.environ.get("MQTT_BASE_TOPIC", "lamplighter")
MQTT_LEASE_SECONDS = _env_int("MQTT_LEASE_SECONDS", 30)  # a worker leads the bridge this long unrenewed
MQTT_RESYNC_SECONDS = _env_int("MQTT_RESYNC_SECONDS", 60)  # full discovery re-check (deleted lights)
# Colour temperature on the wire to Home Assistant: kelvin (HA 2025.2 and later) or mireds (2024.4 on).
MQTT_COLOR_TEMP_UNIT = os.environ.get("MQTT_COLOR_TEMP_UNIT", "kelvin").strip().lower() or "kelvin"
if MQTT_COLOR_TEMP_UNIT not in ("kelvin", "mireds"):
    raise ValueError(f"MQTT_COLOR_TEMP_UNIT must be kelvin or mireds, got {MQTT_COLOR_TEMP_UNIT!r}")

# OTA firmware updates (docs/ota.md): artifacts live under <data dir>/firmware/.
LAMPLIGHTER_FIRMWARE_DIR = Path(os.environ.get("LAMPLIGHTER_FIRMWARE_DIR") or DATA_DIR / "firmware").resolve()
LAMPLIGHTER_FIRMWARE_MAX_BYTES = _env_int("LAMPLIGHTER_FIRMWARE_MAX_BYTES", 4 * 1024 * 1024)
# Unsigned artifacts are refused unless this is set (development only).
LAMPLIGHTER_ALLOW_UNSIGNED_FIRMWARE = _env_bool("LAMPLIGHTER_ALLOW_UNSIGNED_FIRMWARE", False)
# Ed25519 public keys (hex, comma-separated) the hub checks uploaded signatures against; devices check anyway.
LAMPLIGHTER_FIRMWARE_PUBLIC_KEYS = [
    key.strip() for key in os.environ.get("LAMPLIGHTER_FIRMWARE_PUBLIC_KEYS", "").split(",") if key.strip()
]
LAMPLIGHTER_OTA_TICK = float(os.environ.get("LAMPLIGHTER_OTA_TICK", "2"))  # seconds between rollout checks
LAMPLIGHTER_OTA_JOB_TIMEOUT = _env_int("LAMPLIGHTER_OTA_JOB_TIMEOUT", 600)  # a job silent this long fails
LAMPLIGHTER_OTA_PUSH_TIMEOUT = _env_int("LAMPLIGHTER_OTA_PUSH_TIMEOUT", 120)  # one LAN push, whole image

# Backups (docs/deploy.md): scheduled ones go to this folder, the newest KEEP kept; INTERVAL 0: none.
LAMPLIGHTER_BACKUP_DIR = Path(os.environ.get("LAMPLIGHTER_BACKUP_DIR") or DATA_DIR / "backups").resolve()
LAMPLIGHTER_BACKUP_INTERVAL = _env_int("LAMPLIGHTER_BACKUP_INTERVAL", 24 * 3600)  # seconds between backups
LAMPLIGHTER_BACKUP_KEEP = _env_int("LAMPLIGHTER_BACKUP_KEEP", 7)
# A file whose first line is the passphrase scheduled backups are encrypted with; none: not encrypted.
LAMPLIGHTER_BACKUP_PASSPHRASE_FILE = os.environ.get("LAMPLIGHTER_BACKUP_PASSPHRASE_FILE", "")

# /metrics (Prometheus) answers these client addresses or networks, and anyone sending this bearer token.
LAMPLIGHTER_METRICS_ALLOWED_ADDRESSES = [
    network.strip()
    for network in os.environ.get("LAMPLIGHTER_METRICS_ALLOWED_ADDRESSES", "127.0.0.1,::1").split(",")
    if network.strip()
]
LAMPLIGHTER_METRICS_TOKEN = os.environ.get("LAMPLIGHTER_METRICS_TOKEN", "")

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_bool("LAMPLIGHTER_SSL_REDIRECT", True)
    # Answered over plain HTTP as well, as before they went through this chain: probes and
    # scrapers that know only the address, and the seed's poll (its firmware speaks plain HTTP).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$", r"^lights_status/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _env_int("LAMPLIGHTER_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOG_LEVEL = os.environ.get("LAMPLIGHTER_LOG_LEVEL", "INFO").strip().upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ValueError(
        f"LAMPLIGHTER_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
