"""pingan settings: every knob comes from a PINGAN_* environment variable.

Defaults give a working SQLite install under ./var/. Production (PINGAN_PRODUCTION=1)
refuses to start without real keys.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from pingan.core.env import demo_keys, env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

PRODUCTION = env_bool("PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)

if PRODUCTION:
    _keys = {}
    for _name in ("SECRET_KEY", "FIELD_KEYS", "BLIND_INDEX_KEY"):
        _value = env_str(_name)
        if not _value:
            raise ImproperlyConfigured(f"PINGAN_{_name} is required when PINGAN_PRODUCTION=1")
        if _value.startswith("demo-"):
            raise ImproperlyConfigured(f"PINGAN_{_name} is a demo key; production needs its own")
        _keys[_name] = _value
else:
    _keys = demo_keys(VAR_DIR)
    for _name in ("SECRET_KEY", "FIELD_KEYS", "BLIND_INDEX_KEY"):
        _keys[_name] = env_str(_name) or _keys[_name]

SECRET_KEY = _keys["SECRET_KEY"]
# Comma-separated Fernet keys, newest first (MultiFernet: encrypt with the first, decrypt with any).
FIELD_KEYS = [k.strip() for k in _keys["FIELD_KEYS"].split(",") if k.strip()]
BLIND_INDEX_KEY = _keys["BLIND_INDEX_KEY"]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",  # serves Swagger UI from its own static files, not a CDN (offline intranets)
    "pingan.core",
    "pingan.geo",
    "pingan.accounts",
    "pingan.people",
    "pingan.cases",
    "pingan.events",
    "pingan.disputes",
    "pingan.open311",
    "pingan.web",
    "pingan.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "pingan.core.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pingan.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "pingan.urls"
WSGI_APPLICATION = "pingan.wsgi.application"

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
                "django.template.context_processors.i18n",
                "pingan.web.context.shell",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'pingan.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file test database (instead of in-memory) that other processes can open, e.g. a worker.
    if env_str("TEST_DB_NAME"):
        DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DB_NAME")}
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login lockout: this many failures for one username within the window lock it for the window.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "pingan" / "locale"]
TIME_ZONE = env_str("TIME_ZONE") or "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "pingan" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION

# This installation's own jurisdiction (GB/T 2260 code) and the map tiles (unset: outlines only).
INSTANCE_CODE = env_str("INSTANCE_CODE") or "330800"
TILE_URL = env_str("TILE_URL") or ""

# Working hours for add_working_hours (DOMAIN §2), "HH:MM-HH:MM,HH:MM-HH:MM".
OFFICE_HOURS = env_str("OFFICE_HOURS") or "08:30-12:00,14:00-17:30"

REDIS_URL = env_str("REDIS_URL") or ""

# Background jobs (pingan/celery.py). No Redis: tasks run in-process (eager) and `pingan serve`
# runs the deadline sweep itself; with Redis: `pingan worker` and one `pingan beat`.
SWEEP_SECONDS = env_int("SWEEP_SECONDS", 60)
if SWEEP_SECONDS < 1:
    raise ImproperlyConfigured(f"PINGAN_SWEEP_SECONDS must be at least 1, got {SWEEP_SECONDS}")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_RESULT_EXPIRES = 3600  # results of sweeps nobody reads do not pile up
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies mid-run is delivered again (tasks are idempotent)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep LOGGING below

# Supervision (DOMAIN §2): warn when this share of the allowed time has passed; red card when
# overdue by this share of the allowed time (黄牌 as soon as overdue). Local rules: data, not code.
CASE_WARN_SHARE = env_float("CASE_WARN_SHARE", 0.8)
CASE_RED_SHARE = env_float("CASE_RED_SHARE", 0.5)
# Near-duplicate events (pingan.events.duplicates): same category, this close in metres and
# hours, word-set similarity at least this (0–1).
DUPLICATE_METRES = env_float("DUPLICATE_METRES", 200)
DUPLICATE_HOURS = env_float("DUPLICATE_HOURS", 72)
DUPLICATE_SIMILARITY = env_float("DUPLICATE_SIMILARITY", 0.5)
# Disputes (DOMAIN §4): a key-type 110 call is pushed to mediation within this many hours
# (警调联动); the same parties disputing again within this many days is a 民转刑 risk sign;
# this many people or more make a dispute a group one.
LINKAGE_PUSH_HOURS = env_float("LINKAGE_PUSH_HOURS", 24)
LINKAGE_FEEDBACK_HOURS = env_float("LINKAGE_FEEDBACK_HOURS", 24)
DISPUTE_REPEAT_DAYS = env_int("DISPUTE_REPEAT_DAYS", 90)
DISPUTE_GROUP_SIZE = env_int("DISPUTE_GROUP_SIZE", 5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 50
