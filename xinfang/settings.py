"""Settings, all from the environment, with defaults that run with zero set-up.

Every variable is read here, once, through the typed readers of `xinfang.env`: a bad value stops
the process at start with a Chinese ImproperlyConfigured message, not later in a request or in
the worker loop. The apps read `settings.X` (through their small `conf` modules). Every variable
is listed in `.env.example`; tests/test_settings_env.py keeps the two in step.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import secrets
from pathlib import Path

import dj_database_url

from xinfang.env import (
    PROFILES,
    SettingError,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_json,
    env_list,
    env_proxy_ssl_header,
    env_secret_key,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# 运行环境 / profile. "production" is the default of the web entry points (xinfang/wsgi.py and
# `xinfang serve`): it refuses to start without a strong SECRET_KEY or with DEBUG, and turns on
# secure cookies, HTTPS redirect and HSTS. "development" (every other command, the tests, and
# `make run`, which sets it) generates a key into var/ and serves plain http on loopback.
XINFANG_PROFILE = env_choice("XINFANG_PROFILE", "development", PROFILES)
PRODUCTION = XINFANG_PROFILE == "production"
VAR_DIR = Path(env_str("XINFANG_VAR_DIR", str(BASE_DIR / "var")))
# var/ holds the database, the key, attachments and exports: this user's only (0700; files are
# 0600 through the entry points' umask, xinfang/cli.py and xinfang/wsgi.py).
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment (required and strong in production), or in development
    a key generated once into var/secret_key, readable by this user only (0600)."""
    key = env_secret_key("SECRET_KEY", production=PRODUCTION)
    if key:
        return key
    key_file = VAR_DIR / "secret_key"
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with contextlib.suppress(OSError):  # not ours to change: read it as it is
            os.chmod(key_file, 0o600)  # made world-readable by an older version
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise SettingError(
        "配置错误：生产环境（XINFANG_PROFILE=production）不能设置 DEBUG=true："
        "出错页面会向访问者显示源代码和配置"
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' Swagger UI from its own static files, not from a CDN
    "csp",  # django-csp: the Content-Security-Policy header (CONTENT_SECURITY_POLICY below)
    "xinfang.orgs",
    "xinfang.cases",
    "xinfang.routing",
    "xinfang.answers",  # 答复知识库: similar past replies, draft checks, monthly report
    "xinfang.notify",
    "xinfang.portal",
    "xinfang.api",
    "xinfang.backlog",
    "xinfang.reception",
    "xinfang.reports",
    "xinfang.supervision",
    "xinfang.exports",
    "xinfang.assessment",
    "xinfang.ledger",
    "xinfang.worker",
    "xinfang.ops",  # backup/restore, the audit viewer, retention (运维)
    "xinfang.demo",  # the demo generator (`xinfang demo`), outside the runtime apps
]

# What follows every timeline entry (CaseEvent), in this order, inside the transaction that
# records it (xinfang/cases/reactions.py). Each reads only the event and its matter and writes
# its own rows; none reads another's, so the order is the reading order, kept stable on purpose.
CASE_EVENT_REACTIONS = [
    "xinfang.notify.reactions.REACTION",  # 通知信访人: outbox rows for a public step
    "xinfang.backlog.reactions.REACTION",  # 积案: units in step, 反弹 reopen, repeat flag, 回避
    "xinfang.reception.reactions.REACTION",  # 集体访: the 2-hour leader-reception clock starts
    "xinfang.routing.reactions.REACTION",  # 智能分派: settle the suggestion when routed
    "xinfang.routing.reactions.AUTO",  # 智能派单: route a new matter once registered (news only)
    "xinfang.answers.reactions.REACTION",  # 答复知识库: a reply enters it with its checks
]

# What can be exported as a background job (导出任务): each app declares its own kind, and
# xinfang/exports reads this list, so it imports none of the apps whose rows it writes.
EXPORT_KINDS = [
    "xinfang.ledger.exporting.EXPORT_KIND",  # 信访事项台帐 (the queue's 导出)
    "xinfang.reports.exporting.RATE_MATTERS",  # 统计指标明细 (the matters behind a rate)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "xinfang.urls"
WSGI_APPLICATION = "xinfang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "xinfang" / "templates"],
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


def _database() -> dict:
    url = env_str("DATABASE_URL", "") or f"sqlite:///{VAR_DIR / 'xinfang.sqlite3'}"
    try:
        return dict(
            dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0))
        )
    except ValueError as exc:  # dj-database-url's words for an unknown scheme or a bad port
        raise SettingError(f"配置错误：环境变量 DATABASE_URL 无法识别：{exc}") from None


DATABASES = {"default": _database()}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and a writer work at once; a busy timeout makes a second
    # writer wait instead of failing with "database is locked".
    # wal_autocheckpoint: the commit that finds the log past this many pages copies it into the
    # database (a checkpoint, with an fsync): at a million matters tens of milliseconds, paid by
    # every ~10th registration with SQLite's default of 1,000. `xinfang worker` checkpoints
    # about every second (maintenance.checkpoint_wal), so a request meets this bound (4 KiB
    # pages) only when no worker runs or while it is in a long pass.
    SQLITE_AUTOCHECKPOINT = env_int("XINFANG_SQLITE_AUTOCHECKPOINT", 10000, minimum=0)
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT};",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

# One cache for all of a deployment's processes (web workers and `xinfang worker`): rate limits
# count across processes, and the worker's precomputed hot-issue page reaches the web.
# XINFANG_CACHE_DIR= (empty) keeps a per-process memory cache instead.
_CACHE_DIR = env_str("XINFANG_CACHE_DIR", str(VAR_DIR / "cache"))
_CACHE_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _cache(url: str) -> dict:
    """XINFANG_CACHE_URL: `db://[table]` (the database cache, after `xinfang createcachetable`),
    `redis://…` (needs the redis package), `file:///abs/dir`, `memory://`; empty: the file
    cache in XINFANG_CACHE_DIR. The file cache keeps 300 entries and culls a third at random
    past them, rate-limit counters included: a deployment open to the internet wants db or redis.
    """
    file_cache = "django.core.cache.backends.filebased.FileBasedCache"
    if not url:
        if not _CACHE_DIR:
            return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        return {"BACKEND": file_cache, "LOCATION": _CACHE_DIR}
    scheme, sep, rest = url.partition("://")
    expected = "db://表名、redis://主机:端口/库号、file:///绝对路径 或 memory://"
    if scheme == "db" and sep and _CACHE_TABLE.fullmatch(rest.strip("/") or "xinfang_cache"):
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": rest.strip("/") or "xinfang_cache",
        }
    if scheme in ("redis", "rediss") and sep and rest:
        if importlib.util.find_spec("redis") is None:
            raise SettingError(
                "配置错误：环境变量 XINFANG_CACHE_URL 指定了 Redis，但未安装 redis 包"
                "（pip install redis），或改用 db:// 数据库缓存"
            )
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme == "file" and sep and rest.startswith("/"):
        return {"BACKEND": file_cache, "LOCATION": rest}
    if scheme == "memory" and sep and not rest:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    raise SettingError(f"配置错误：环境变量 XINFANG_CACHE_URL 应为{expected}，实际为 {url!r}")


CACHES = {"default": _cache(env_str("XINFANG_CACHE_URL", ""))}

AUTH_USER_MODEL = "orgs.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:queue"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "xinfang" / "static"]
MEDIA_ROOT = Path(env_str("XINFANG_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# Attachments and their folders: this user's only, whatever the umask.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# Large exports written by the worker (private: served only to their owner, files 0600).
XINFANG_EXPORT_DIR = Path(env_str("XINFANG_EXPORT_DIR", str(VAR_DIR / "exports")))
# `xinfang worker` writes one export a pass; false when `xinfang export run --loop` runs apart.
XINFANG_WORKER_EXPORTS = env_bool("XINFANG_WORKER_EXPORTS", True)
# `xinfang serve` (xinfang/worker/management/commands/serve.py): the address gunicorn listens
# on and how many web processes it runs; --host/--port/--workers override them.
XINFANG_HOST = env_str("XINFANG_HOST", "127.0.0.1")
XINFANG_PORT = env_int("XINFANG_PORT", 8000, minimum=1, maximum=65535)
XINFANG_WEB_WORKERS = env_int("XINFANG_WEB_WORKERS", 2, minimum=1, maximum=64)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# 附件限制 / attachment limits
XINFANG_MAX_ATTACHMENT_BYTES = env_int("XINFANG_MAX_ATTACHMENT_MB", 20, minimum=1) * 1024 * 1024
XINFANG_ATTACHMENT_TYPES = env_list(
    "XINFANG_ATTACHMENT_TYPES", ["pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "txt"]
)
DATA_UPLOAD_MAX_MEMORY_SIZE = XINFANG_MAX_ATTACHMENT_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# 时限提醒：到期前多少天显示"即将到期" / days before a deadline that count as "due soon"
XINFANG_DUE_SOON_DAYS = env_int("XINFANG_DUE_SOON_DAYS", 3, minimum=0)
# 信访机构名称，用于文书落款 / the office name printed on notices
XINFANG_OFFICE_NAME = env_str("XINFANG_OFFICE_NAME", "示范县信访局")
XINFANG_CLOCKS = env_json("XINFANG_CLOCKS", {})
XINFANG_ROUTING_MODEL = env_str("XINFANG_ROUTING_MODEL", str(VAR_DIR / "routing-model.joblib"))
# 台帐导入：不超过此行数的文件在一个事务中导入 / ledgers up to this many rows import in one transaction
XINFANG_IMPORT_ATOMIC_ROWS = env_int("XINFANG_IMPORT_ATOMIC_ROWS", 100_000, minimum=0)

# 智能分派 / routing (xinfang/routing/conf.py)
XINFANG_SIMILAR_DAYS = env_int("XINFANG_SIMILAR_DAYS", 365, minimum=1)
XINFANG_SIMILAR_MIN_SCORE = env_int("XINFANG_SIMILAR_MIN_SCORE", 45, minimum=0, maximum=100)
XINFANG_HOT_THRESHOLD = env_int("XINFANG_HOT_THRESHOLD", 25, minimum=1, maximum=100)  # percent
# 智能派单 (xinfang/routing/auto.py): on, it routes a new matter whose top-1 category reaches the
# model's stored threshold; a model without a threshold routes nothing. It pauses itself when
# the precision of the last WINDOW_DAYS (at least MIN_SAMPLE decided routes) is below target.
XINFANG_AUTO_ROUTE = env_bool("XINFANG_AUTO_ROUTE", True)
XINFANG_AUTO_ROUTE_WINDOW_DAYS = env_int("XINFANG_AUTO_ROUTE_WINDOW_DAYS", 30, minimum=1)
XINFANG_AUTO_ROUTE_MIN_SAMPLE = env_int("XINFANG_AUTO_ROUTE_MIN_SAMPLE", 30, minimum=1)
# 模型版本与定期重训 / model versions and the scheduled retrain (xinfang/routing/versions.py)
XINFANG_ROUTING_VERSIONS_DIR = env_str("XINFANG_ROUTING_VERSIONS_DIR", "")  # "" = beside the model
_SHIPPED_TRAIN_CSV = BASE_DIR.parent / "shared" / "data" / "complaints" / "train.csv"
XINFANG_ROUTING_BASE_CSV = env_str(
    "XINFANG_ROUTING_BASE_CSV", str(_SHIPPED_TRAIN_CSV) if _SHIPPED_TRAIN_CSV.is_file() else ""
)
XINFANG_ROUTING_BASE_BELOW = env_int("XINFANG_ROUTING_BASE_BELOW", 3000, minimum=0)
XINFANG_ROUTING_RETRAIN_WEEKDAY = env_int(
    "XINFANG_ROUTING_RETRAIN_WEEKDAY", 7, minimum=0, maximum=7
)
XINFANG_ROUTING_RETRAIN_MIN_NEW = env_int("XINFANG_ROUTING_RETRAIN_MIN_NEW", 100, minimum=1)
# under the daily jobs' RETRY_AFTER (1 h): a longer run would be taken up again by another worker
XINFANG_ROUTING_RETRAIN_SECONDS = env_int(
    "XINFANG_ROUTING_RETRAIN_SECONDS", 1800, minimum=0, maximum=3000
)
XINFANG_ROUTING_RETRAIN_MAX_ROWS = env_int("XINFANG_ROUTING_RETRAIN_MAX_ROWS", 30_000, minimum=10)
XINFANG_ROUTING_KEEP_VERSIONS = env_int("XINFANG_ROUTING_KEEP_VERSIONS", 10, minimum=1)

# 答复知识库 / the reply knowledge base (xinfang/answers/conf.py): the starter replies are read
# from the shared data set at run time (never copied into the project)
_SHIPPED_REPLIES_CSV = BASE_DIR.parent / "shared" / "data" / "complaints" / "replies.csv"
XINFANG_REPLIES_CSV = env_str(
    "XINFANG_REPLIES_CSV", str(_SHIPPED_REPLIES_CSV) if _SHIPPED_REPLIES_CSV.is_file() else ""
)
XINFANG_ANSWERS_INDEX_MAX = env_int("XINFANG_ANSWERS_INDEX_MAX", 20_000, minimum=1)
# the similarity index saved for the next process to load (xinfang/answers/index.py); empty: none
XINFANG_ANSWERS_INDEX_DIR = env_str("XINFANG_ANSWERS_INDEX_DIR", str(VAR_DIR / "answers-index"))

# 消息 / notifications (xinfang/notify/conf.py)
SMS_BACKENDS = ("console", "http", "file", "memory")
XINFANG_SMS_BACKEND = env_choice("XINFANG_SMS_BACKEND", "console", SMS_BACKENDS)
XINFANG_SMS_GATEWAY_URL = env_url("XINFANG_SMS_GATEWAY_URL")
XINFANG_SMS_GATEWAY_TOKEN = env_str("XINFANG_SMS_GATEWAY_TOKEN", "")
XINFANG_SMS_TIMEOUT = env_int("XINFANG_SMS_TIMEOUT", 10, minimum=1)
XINFANG_SMS_FILE = env_str("XINFANG_SMS_FILE", "") or str(VAR_DIR / "sms-outbox.jsonl")
XINFANG_SMS_FILE_DELAY = env_float("XINFANG_SMS_FILE_DELAY", 0.0, minimum=0)
XINFANG_EMAIL_BACKEND = env_str("XINFANG_EMAIL_BACKEND", "") or (
    "django.core.mail.backends.console.EmailBackend"
)
XINFANG_EMAIL_FROM = env_str("XINFANG_EMAIL_FROM", "")
XINFANG_NOTIFY_MAX_ATTEMPTS = env_int("XINFANG_NOTIFY_MAX_ATTEMPTS", 6, minimum=1)
XINFANG_NOTIFY_BACKOFF_SECONDS = env_int("XINFANG_NOTIFY_BACKOFF_SECONDS", 60, minimum=1)
XINFANG_NOTIFY_LEASE_SECONDS = env_int("XINFANG_NOTIFY_LEASE_SECONDS", 300, minimum=1)
XINFANG_NOTIFY_BATCH = env_int("XINFANG_NOTIFY_BATCH", 200, minimum=1)
XINFANG_PORTAL_URL = env_url("XINFANG_PORTAL_URL", "http://127.0.0.1:8000/portal/")
XINFANG_DIGEST_HOUR = env_int("XINFANG_DIGEST_HOUR", 8, minimum=0, maximum=23)  # Beijing hour

# 群众门户 / portal (xinfang/portal/conf.py)
XINFANG_PORTAL_OFFICE = env_str("XINFANG_PORTAL_OFFICE", "").strip()
XINFANG_PORTAL_RATE_LIMIT = env_int("XINFANG_PORTAL_RATE_LIMIT", 10, minimum=1)
XINFANG_PORTAL_RATE_WINDOW = env_int("XINFANG_PORTAL_RATE_WINDOW", 900, minimum=1)  # seconds
# A number that many addresses keep getting wrong is braked (each address one try a window),
# never locked: its owner always gets a try.
XINFANG_PORTAL_LOOKUP_BRAKE = env_int("XINFANG_PORTAL_LOOKUP_BRAKE", 30, minimum=1)
# 网上提交限频: per client address, and per contact (phone or e-mail) so nobody is SMS-bombed
XINFANG_PORTAL_SUBMIT_LIMIT = env_int("XINFANG_PORTAL_SUBMIT_LIMIT", 10, minimum=1)
XINFANG_PORTAL_SUBMIT_WINDOW = env_int("XINFANG_PORTAL_SUBMIT_WINDOW", 3600, minimum=1)
XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT = env_int("XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT", 3, minimum=1)
XINFANG_PORTAL_SUBMIT_CONTACT_WINDOW = env_int(
    "XINFANG_PORTAL_SUBMIT_CONTACT_WINDOW", 86400, minimum=1
)
# 每个手机号码每日（北京时间）最多发送的短信条数；超出的记为“未发送”并注明原因 (xinfang/notify)
XINFANG_SMS_DAILY_LIMIT = env_int("XINFANG_SMS_DAILY_LIMIT", 5, minimum=1)

# 登录限制 / staff login throttling (xinfang/orgs/throttle.py): failures per account and per
# client address within the window; past the limit, locked for XINFANG_LOGIN_LOCKOUT seconds.
XINFANG_LOGIN_ACCOUNT_LIMIT = env_int("XINFANG_LOGIN_ACCOUNT_LIMIT", 5, minimum=1)
XINFANG_LOGIN_ADDRESS_LIMIT = env_int("XINFANG_LOGIN_ADDRESS_LIMIT", 20, minimum=1)
XINFANG_LOGIN_WINDOW = env_int("XINFANG_LOGIN_WINDOW", 900, minimum=1)
XINFANG_LOGIN_LOCKOUT = env_int("XINFANG_LOGIN_LOCKOUT", 900, minimum=1)
# Reverse proxies in front of the app that append the client to X-Forwarded-For (0: none, the
# client is REMOTE_ADDR). The limits above count per client address (xinfang/orgs/http.py).
XINFANG_PROXY_COUNT = env_int("XINFANG_PROXY_COUNT", 0, minimum=0, maximum=5)

# 领导接访 / reception (xinfang/reception/conf.py)
XINFANG_ROTA_WARN_DAYS = env_int("XINFANG_ROTA_WARN_DAYS", 10, minimum=0)
# An event recorded more than this many days after it happened (a ledger of past years) is
# history: no message to the citizen, no reception clock (xinfang/cases/reactions.py).
XINFANG_HISTORY_DAYS = env_int("XINFANG_HISTORY_DAYS", 30, minimum=1)
XINFANG_GROUP_VISIT_SIZE = env_int("XINFANG_GROUP_VISIT_SIZE", 5, minimum=2)
XINFANG_GROUP_VISIT_RECEIVE_HOURS = env_int("XINFANG_GROUP_VISIT_RECEIVE_HOURS", 2, minimum=1)
XINFANG_INSTRUCTION_DAYS = env_int("XINFANG_INSTRUCTION_DAYS", 15, minimum=1)
XINFANG_BOOKING_RATE_LIMIT = env_int("XINFANG_BOOKING_RATE_LIMIT", 5, minimum=1)
XINFANG_BOOKING_DAYS_AHEAD = env_int("XINFANG_BOOKING_DAYS_AHEAD", 30, minimum=1)

# 积案化解 / backlog (xinfang/backlog/conf.py)
BACKLOG_RULE_KEYS = ("open_days", "repeat", "reviewed")
XINFANG_BACKLOG_RULES = env_json("XINFANG_BACKLOG_RULES", {})
if set(XINFANG_BACKLOG_RULES) - set(BACKLOG_RULE_KEYS):
    raise SettingError(
        "配置错误：环境变量 XINFANG_BACKLOG_RULES 只能包含 " + "、".join(BACKLOG_RULE_KEYS)
    )
XINFANG_BACKLOG_STUCK_DAYS = env_int("XINFANG_BACKLOG_STUCK_DAYS", 30, minimum=1)
XINFANG_BACKLOG_PLAN_DAYS = env_int("XINFANG_BACKLOG_PLAN_DAYS", 60, minimum=1)

# 开放接口 / Open311 (xinfang/api/conf.py)
XINFANG_OPEN311_OFFICE = env_str("XINFANG_OPEN311_OFFICE", "").strip()
XINFANG_OPEN311_MAX_RECORDS = env_int("XINFANG_OPEN311_MAX_RECORDS", 1000, minimum=1)
XINFANG_OPEN311_MAX_DAYS = env_int("XINFANG_OPEN311_MAX_DAYS", 90, minimum=1)
XINFANG_OPEN311_KINDS = env_json("XINFANG_OPEN311_KINDS", {})
if not all(isinstance(v, str) for v in XINFANG_OPEN311_KINDS.values()):
    raise SettingError("配置错误：环境变量 XINFANG_OPEN311_KINDS 的值应为事项类型代码（字符串）")
XINFANG_OPEN311_RESPOND_WITH_TOKEN = env_bool("XINFANG_OPEN311_RESPOND_WITH_TOKEN", False)
XINFANG_OPEN311_CONTACT = env_str("XINFANG_OPEN311_CONTACT", "").strip()

# 运维 / operations (xinfang/ops): 个人信息查看记录至少保存 180 天；办结事项满 N 年匿名化（0 为不匿名化）
XINFANG_AUDIT_RETENTION_DAYS = env_int("XINFANG_AUDIT_RETENTION_DAYS", 365, minimum=180)
XINFANG_RETENTION_YEARS = env_int("XINFANG_RETENTION_YEARS", 0, minimum=0, maximum=100)

SESSION_COOKIE_HTTPONLY = True
# Flash messages live in the server-side session, never in a cookie: some carry a query code
# (a staff registration's 查询码) and a signed cookie is readable by whoever holds it.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
X_FRAME_OPTIONS = "DENY"
# HTTPS. Behind a reverse proxy that ends TLS, SECURE_PROXY_SSL_HEADER names the header it sets
# (and strips from clients), e.g. "X-Forwarded-Proto: https"; without it every request would
# look like plain http and be redirected. HSTS is sent on HTTPS responses only.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SILENCED_SYSTEM_CHECKS = [
    # HSTS for every subdomain (W005) and the browsers' preload list (W021) bind the whole
    # government domain, other sites included, for a year or more: the office decides, at its
    # proxy, not this application.
    "security.W005",
    "security.W021",
]
# Content-Security-Policy (django-csp): scripts only from our own static files (no inline
# script, no on*= attribute: the pages' JavaScript lives in static/*.js). Inline *styles* stay
# allowed: ECharts writes style attributes into its tooltips and a few templates carry
# style="..."; a style cannot run code. The API docs (Swagger UI) and the admin are ours too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice(
            "LOG_LEVEL", "warning", ("debug", "info", "warning", "error", "critical")
        ).upper(),
    },
}
