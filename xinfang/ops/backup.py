"""备份与恢复 / backup and restore: the database and the attachments in one .tar.gz.

An archive holds `manifest.json` (format, database engine, time, the counts of matters, events
and attachments at the moment of the snapshot, and the SHA-256 and size of every other member),
the database (`database.sqlite3`, written with SQLite's online backup API while the site runs;
or `database.pgdump`, `pg_dump -Fc` taken in the same snapshot as the counts) and `media/…`,
every file under MEDIA_ROOT. The manifest carries a checksum of itself.

Restore reads the whole archive and checks every checksum before it touches anything, refuses a
damaged or foreign archive with a Chinese message, writes only into an empty database (no
matters, no users) unless `force`, and checks the counts of the restored database against the
manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from xinfang.cases.models import Attachment, Case, CaseEvent
from xinfang.orgs.models import User

FORMAT = 1
MANIFEST = "manifest.json"
DB_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA = "media"
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or a restore that cannot go on; the message is for the operator (中文)."""


def counts() -> dict[str, int]:
    """What a manifest records and a restore checks: matters, timeline events, attachments."""
    return {
        "matters": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "attachments": Attachment.objects.count(),
    }


def default_path() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.VAR_DIR) / "backups" / f"xinfang-{stamp}.tar.gz"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _pg_env() -> dict[str, str]:
    s = connection.settings_dict
    env = dict(os.environ)
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if s.get(key):
            env[var] = str(s[key])
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    env["PGDATABASE"] = str(s["NAME"])
    return env


def _run(args: list[str], what: str) -> None:
    try:
        done = subprocess.run(args, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(
            f"找不到 {args[0]}：请安装与数据库服务器版本相同的 PostgreSQL 客户端"
        ) from None
    if done.returncode != 0:
        raise BackupError(
            f"{what}失败（{args[0]} 退出码 {done.returncode}）：{done.stderr.strip()}"
        )


def _snapshot_sqlite(target: Path) -> dict[str, int]:
    """Copy the live database with SQLite's online backup API; count in the copy."""
    connection.ensure_connection()
    raw = connection.connection
    dest = sqlite3.connect(target)
    try:
        raw.backup(dest)
        found = {}
        for key, table in (
            ("matters", Case._meta.db_table),
            ("events", CaseEvent._meta.db_table),
            ("attachments", Attachment._meta.db_table),
        ):
            found[key] = dest.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
    finally:
        dest.close()
    return found


def _snapshot_pg(target: Path) -> dict[str, int]:
    """`pg_dump -Fc` of the very snapshot in which the counts are taken."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        found = counts()
        _run(
            ["pg_dump", "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
             "-f", str(target)],
            "备份数据库",
        )  # fmt: skip
    return found


def _media_files() -> list[tuple[str, Path]]:
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found.append((f"{MEDIA}/{path.relative_to(root).as_posix()}", path))
    return found


def backup_create(path: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """Write one archive (0600) of the database and the attachments; return it and its manifest."""
    engine = connection.vendor
    if engine not in DB_MEMBER:
        raise BackupError(f"不支持备份 {engine} 数据库")
    path = Path(path) if path else default_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        db_file = Path(tmp) / DB_MEMBER[engine]
        found = _snapshot_sqlite(db_file) if engine == "sqlite" else _snapshot_pg(db_file)
        members = [(DB_MEMBER[engine], db_file), *_media_files()]
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "engine": engine,
            "created_at": timezone.now().isoformat(),
            "counts": found,
            "files": {
                name: {"sha256": _sha256_file(p), "size": p.stat().st_size} for name, p in members
            },
        }
        manifest["checksum"] = _manifest_checksum(manifest)
        partial = Path(tmp) / "archive.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(data), 0o600, int(timezone.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
            for name, p in members:
                info = tar.gettarinfo(str(p), arcname=name)
                info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
                with p.open("rb") as f:
                    tar.addfile(info, f)
        os.replace(partial, path)
    return path, manifest


def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and bool(p.parts)


def _read(path: Path, out_dir: Path | None) -> dict[str, Any]:
    """Read the whole archive, check it, and (with `out_dir`) write its members there."""
    damaged = "备份文件已损坏或不是 xinfang 的备份"
    if not path.is_file():
        raise BackupError(f"找不到备份文件：{path}")
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise BackupError(f"{damaged}：缺少 {MANIFEST}")
            stream = tar.extractfile(first)
            if stream is None:
                raise BackupError(f"{damaged}：无法读取 {MANIFEST}")
            manifest = json.loads(stream.read().decode())
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise BackupError(f"{damaged}：不认识的备份格式")
            if manifest.get("checksum") != _manifest_checksum(manifest):
                raise BackupError(f"{damaged}：清单校验值不符")
            expected: dict[str, Any] = dict(manifest["files"])
            for member in tar:
                if member is first:
                    continue
                name = member.name
                if name not in expected or not member.isfile() or not _safe_name(name):
                    raise BackupError(f"{damaged}：多出不明内容 {name!r}")
                digest = hashlib.sha256()
                src = tar.extractfile(member)
                if src is None:
                    raise BackupError(f"{damaged}：无法读取 {name}")
                sink = None
                if out_dir is not None:
                    target = out_dir / name
                    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    sink = target.open("wb")
                try:
                    while chunk := src.read(CHUNK):
                        digest.update(chunk)
                        if sink:
                            sink.write(chunk)
                finally:
                    if sink:
                        sink.close()
                if digest.hexdigest() != expected.pop(name)["sha256"]:
                    raise BackupError(f"{damaged}：{name} 的校验值不符")
            if expected:
                raise BackupError(f"{damaged}：缺少 {'、'.join(sorted(expected))}")
    except BackupError:
        raise
    except (
        tarfile.TarError,
        EOFError,
        OSError,
        zlib.error,
        ValueError,
        KeyError,
        TypeError,
    ) as exc:
        raise BackupError(f"{damaged}：{exc}") from None
    return manifest


def backup_verify(path: Path) -> dict[str, Any]:
    """Read every member and check every checksum; the manifest, or BackupError."""
    return _read(Path(path), None)


def database_contents() -> dict[str, int]:
    """Matters and users in the current database (nothing when it has no tables yet)."""
    tables = connection.introspection.table_names()
    if Case._meta.db_table not in tables:
        return {"matters": 0, "users": 0}
    return {"matters": Case.objects.count(), "users": User.objects.count()}


def _restore_sqlite(db_file: Path) -> None:
    connection.ensure_connection()
    src = sqlite3.connect(db_file)
    try:
        src.backup(connection.connection)
    finally:
        src.close()


def _restore_pg(db_file: Path) -> None:
    for conn in connections.all():
        conn.close()
    _run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
         "--single-transaction", "--exit-on-error", "-d", str(connection.settings_dict["NAME"]),
         str(db_file)],
        "恢复数据库",
    )  # fmt: skip


def backup_restore(path: Path, *, force: bool = False) -> dict[str, Any]:
    """Restore an archive into this database and MEDIA_ROOT; return its manifest."""
    path = Path(path)
    manifest = backup_verify(path)  # nothing is touched before the whole archive checks out
    engine = connection.vendor
    if manifest["engine"] != engine:
        raise BackupError(
            f"这是 {manifest['engine']} 数据库的备份，当前数据库是 {engine}，不能直接恢复"
        )
    present = database_contents()
    if not force and (present["matters"] or present["users"]):
        raise BackupError(
            f"当前数据库不是空的（{present['matters']} 件事项、{present['users']} 个用户），"
            "恢复将覆盖其中全部数据。确认覆盖请加 --force"
        )
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=media_root.parent) as tmp:
        out = Path(tmp)
        _read(path, out)
        db_file = out / DB_MEMBER[engine]
        if engine == "sqlite":
            _restore_sqlite(db_file)
        else:
            _restore_pg(db_file)
        staged = out / MEDIA
        if staged.is_dir():
            for src in sorted(staged.rglob("*")):
                if src.is_file():
                    target = media_root / src.relative_to(staged)
                    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    shutil.move(str(src), target)
                    target.chmod(0o600)
    found = counts()
    if found != manifest["counts"]:
        raise BackupError(f"恢复后的数据与备份清单不符：清单 {manifest['counts']}，数据库 {found}")
    return manifest
