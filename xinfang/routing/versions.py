"""Routing model versions (模型版本): retrain on the office's confirmed matters, keep every model,
promote a new one only when it is not worse, roll back.

Files, no table: each model is `<versions dir>/<version>.joblib` beside a small `index.json`
(one entry per version: when and on what it was trained, its cross-validated macro-F1 and
automatic-routing threshold, its status, when it was promoted, why it was rejected), the
promotion history (the stack `rollback` pops) and the last actions. The configured model file
(`XINFANG_ROUTING_MODEL`, what `engine.load_model` serves) is always a copy of the current
version, replaced atomically (temporary file + `os.replace`, mode 0600), so every web worker
picks it up by its new mtime. Writers of the index hold an exclusive `flock` on `.lock`; readers
need none (the index is replaced, never rewritten in place).

Training data of a retrain: the office's confirmed matters (`selectors.training_rows`: a
category chosen and the matter routed or closed), the newest `XINFANG_ROUTING_RETRAIN_MAX_ROWS`
(training time grows with the rows: about two minutes for 7,000 on two busy cores). While the office has fewer than
`XINFANG_ROUTING_BASE_BELOW` of them, the shipped labelled data (`XINFANG_ROUTING_BASE_CSV`) is
added in full, each row counting as much as an office row: a few hundred office matters
then shift the model towards the office's wording without the base's seven thousand rows being
thrown away, and from the threshold on the office's own decisions alone decide. (Repeating the
office rows to weigh them more would leak copies across the cross-validation folds and inflate
the very score the promotion compares.)

Promotion: a retrained model replaces the current one only when its cross-validated macro-F1
(`metadata["cv_macro_f1"]`, out-of-fold on its own training data) is not lower than the current
model's; otherwise it is kept as a rejected version with the reason. An administrator may still
promote any kept version by hand, and roll back to the previous one; each action is logged and
recorded in the index with who did it.
A model put into service (promoted, rolled back to, a retrain's) ends a pause of 智能派单 the
old model's measured precision caused: `auto.resume`, counted anew, an event 恢复智能派单.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import multiprocessing
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from xinfang.cases.clocks import LOCAL
from xinfang.routing import classifier, conf, features

log = logging.getLogger(__name__)

INDEX = "index.json"
LOCK = ".lock"
MAX_EVENTS = 200
#: a retrain needs at least this much to learn from (as `xinfang routing train`)
MIN_ROWS, MIN_LABELS = 10, 2

CURRENT, PREVIOUS, REJECTED, TRAINING = "current", "previous", "rejected", "training"
STATUS_LABELS = {CURRENT: "当前使用", PREVIOUS: "曾经使用", REJECTED: "未采用", TRAINING: "训练中"}
ACTION_LABELS = {"adopt": "纳入版本库", "promote": "启用", "rollback": "回退", "retrain": "重训"}
ACTION_LABELS["auto_resume"] = "恢复智能派单"
PRECISION_PAUSE = "准确率"  # in the reason of auto.check_precision's pause (the only kind today)


class VersionError(ValueError):
    """A request about versions that cannot be done (the message is for the user)."""


# ---------------------------------------------------------------- where and how files are written


def versions_dir() -> Path:
    """`XINFANG_ROUTING_VERSIONS_DIR`, or `routing-models/` beside the configured model file."""
    configured = getattr(settings, "XINFANG_ROUTING_VERSIONS_DIR", "")
    return Path(configured) if configured else conf.model_path().parent / "routing-models"


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _replace_with(tmp: Path, target: Path) -> None:
    """Move a finished temporary file over `target` (mode 0600), with an mtime newer than the
    file it replaces: `engine.load_model` reloads on a changed mtime, and two replacements
    within the file system's timestamp granularity must not look like one."""
    os.chmod(tmp, 0o600)
    with contextlib.suppress(OSError):
        floor = target.stat().st_mtime_ns + 1_000_000
        stamp = max(time.time_ns(), floor)
        os.utime(tmp, ns=(stamp, stamp))
    os.replace(tmp, target)


def _tmp_beside(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def _write_json(path: Path, data: dict) -> None:
    tmp = _tmp_beside(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    _replace_with(tmp, path)


def _install(source: Path, target: Path) -> None:
    """Copy a version file over the configured model file, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_beside(target)
    shutil.copyfile(source, tmp)
    _replace_with(tmp, target)


@contextlib.contextmanager
def _locked() -> Iterator[dict]:
    """The index, read under an exclusive lock and written back when the block ends cleanly."""
    folder = _private_dir(versions_dir())
    with open(folder / LOCK, "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            index = _read_index()
            yield index
            _write_json(folder / INDEX, index)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_index() -> dict:
    try:
        with open(versions_dir() / INDEX, encoding="utf-8") as handle:
            index = json.load(handle)
    except FileNotFoundError:
        index = {}
    index.setdefault("versions", [])
    index.setdefault("history", [])  # promoted versions, oldest first; the last is current
    index.setdefault("events", [])
    return index


def _entry(index: dict, version: str) -> dict | None:
    return next((e for e in index["versions"] if e["version"] == version), None)


def _listed(index: dict, version: str) -> dict:
    """The entry of a version this process has just listed (a KeyError if not: a bug)."""
    entry = _entry(index, version)
    if entry is None:
        raise KeyError(version)
    return entry


def _event(index: dict, action: str, version: str, by: str, detail: str = "") -> None:
    at = timezone.now().isoformat(timespec="seconds")
    index["events"] = [
        *index["events"][-(MAX_EVENTS - 1) :],
        {"at": at, "action": action, "version": version, "by": by, "detail": detail},
    ]
    log.info("分派模型 %s：%s（%s）%s", action, version, by, detail)


# ---------------------------------------------------------------- reading


def _installed_metadata() -> dict | None:
    from xinfang.routing import engine

    model = engine.load_model()
    return dict(model.metadata) if model is not None else None


def _score(meta: dict, name: str) -> float | None:
    value = meta.get(name)
    return round(float(value), 4) if isinstance(value, int | float) else None


def list_versions() -> list[dict]:
    """Every kept version, newest first, the one the pages use marked current.

    A model file written straight by `xinfang routing train` (not through this module) shows as
    the current version until the next retrain, promotion or rollback takes it into the index.
    """
    index = _read_index()
    installed = _installed_metadata()
    current = _version_of(installed) if installed else ""
    rows = []
    for e in reversed(index["versions"]):
        status = e["status"]
        if e["version"] == current:
            status = CURRENT
        elif status == CURRENT:
            status = PREVIOUS  # the file was replaced behind the index's back
        rows.append({**e, "status": status, "status_label": STATUS_LABELS[status]})
    if installed and not _entry(index, current):
        rows.insert(0, {**_from_metadata(installed, file=None), "status": CURRENT})
        rows[0]["status_label"] = STATUS_LABELS[CURRENT] + "（未入版本库）"
    return rows


def rollback_target() -> str | None:
    """The version a plain rollback returns to (read only; None when there is none)."""
    history = _read_index()["history"]
    installed = _installed_metadata()
    if installed and (not history or history[-1] != _version_of(installed)):
        return history[-1] if history else None  # the file was replaced behind the index's back
    return history[-2] if len(history) > 1 else None


def events(limit: int = 20) -> list[dict]:
    """The last actions on versions, newest first."""
    return [
        {**e, "action_label": ACTION_LABELS.get(e["action"], e["action"])}
        for e in reversed(_read_index()["events"][-limit:])
    ]


def may_manage(user) -> bool:
    """Model versions are the administrators' (系统管理员) business only."""
    from xinfang.orgs.models import Role  # not at the top: the training child has no Django

    return bool(
        getattr(user, "is_authenticated", False)
        and (user.is_superuser or getattr(user, "role", "") == Role.ADMIN)
    )


def _version_of(meta: dict) -> str:
    return _safe(str(meta.get("version") or meta.get("trained_at") or "unknown"))


def _from_metadata(meta: dict, *, file: str | None) -> dict:
    return {
        "version": _version_of(meta),
        "file": file,
        "trained_at": meta.get("trained_at"),
        "source": meta.get("source", ""),
        "n_train": meta.get("n_train"),
        "n_office": meta.get("n_office"),
        "n_base": meta.get("n_base"),
        "cv_macro_f1": _score(meta, "cv_macro_f1"),
        "auto_threshold": _score(meta, "auto_threshold"),
        "labels": list(meta.get("labels") or []),
        "status": PREVIOUS,
        "promoted_at": None,
        "reason": "",
    }


def _safe(version: str) -> str:
    return re.sub(r"[^\w.-]", "_", version)[:80] or "unknown"


# ---------------------------------------------------------------- promotion and rollback


def _adopt_installed(index: dict, by: str) -> str | None:
    """Take the installed model file into the index when it is not there (a model trained by
    `xinfang routing train` before the first retrain), so that a rollback can return to it; its
    file is copied in by `_keep_installed` before anything replaces it. Returns the current
    version, None without a readable model file."""
    installed = _installed_metadata() if conf.model_path().exists() else None
    if installed is None:  # none or unreadable: nothing to keep, the next promotion replaces it
        return None
    version = _version_of(installed)
    if not _entry(index, version):
        entry = _from_metadata(installed, file=f"{version}.joblib")
        entry.update(status=CURRENT, promoted_at=installed.get("trained_at"))
        index["versions"].append(entry)
        _event(index, "adopt", version, by, "已有模型文件纳入版本库")
    if not index["history"] or index["history"][-1] != version:
        index["history"].append(version)
        for e in index["versions"]:
            if e["status"] == CURRENT and e["version"] != version:
                e["status"] = PREVIOUS
        _listed(index, version)["status"] = CURRENT
    return version


def _keep_installed(index: dict, current: str | None) -> None:
    """Copy the installed model into the versions folder if its version's file is not there."""
    entry = _entry(index, current) if current else None
    if entry and entry.get("file") and not (versions_dir() / entry["file"]).is_file():
        _install(conf.model_path(), versions_dir() / entry["file"])


def _make_current(
    index: dict, version: str, current: str | None, *, by: str, action: str, detail: str = ""
) -> dict:
    entry = _entry(index, version)
    if entry is None:
        raise VersionError(f"没有版本 {version}")
    source = versions_dir() / (entry.get("file") or "")
    if not entry.get("file") or not source.is_file():
        raise VersionError(f"版本 {version} 的模型文件已不在（已清理）")
    _keep_installed(index, current)
    _install(source, conf.model_path())
    for e in index["versions"]:
        if e["status"] == CURRENT:
            e["status"] = PREVIOUS
    entry.update(status=CURRENT, promoted_at=timezone.now().isoformat(timespec="seconds"))
    _event(index, action, version, by, detail)
    return entry


def _known(version: str) -> None:
    """Refuse an unknown version before taking the lock (nothing is written for it)."""
    if not _entry(_read_index(), version):
        raise VersionError(f"没有版本 {version}")


def promote(version: str, *, by: str) -> dict:
    """Make a kept version current (an administrator's decision, also for a rejected one)."""
    _known(version)
    with _locked() as index:
        current = _adopt_installed(index, by)
        if version == current:
            raise VersionError(f"版本 {version} 已是当前使用的模型")
        entry = _make_current(index, version, current, by=by, action="promote", detail="手动启用")
        index["history"].append(version)
        promoted = dict(entry)
    return {**promoted, "auto_resumed": _resume_auto_routing(version, by=by)}


def rollback(to_version: str | None = None, *, by: str) -> dict:
    """Return to the version promoted before the current one, or to `to_version` (one that was
    current before). The versions promoted after it leave the history (a second rollback goes
    further back, it does not bounce back)."""
    if to_version is not None:
        _known(to_version)
    with _locked() as index:
        current = _adopt_installed(index, by)
        history = index["history"]
        if to_version is None:
            if len(history) < 2:
                raise VersionError("没有可回退的上一版本")
            to_version = history[-2]
        if to_version == current:
            raise VersionError(f"版本 {to_version} 已是当前使用的模型")
        if to_version not in history:
            raise VersionError(f"版本 {to_version} 不在可回退的启用记录中（可用“启用”）")
        entry = _make_current(
            index, to_version, current, by=by, action="rollback", detail=f"从 {current} 回退"
        )
        del history[len(history) - history[::-1].index(to_version) :]
        restored = dict(entry)
    return {**restored, "auto_resumed": _resume_auto_routing(to_version, by=by)}


def _resume_auto_routing(version: str, *, by: str) -> str:
    """End a precision pause (module text); what was recorded, or "". A failure is logged."""
    from django.db import DatabaseError

    from xinfang.orgs.models import User
    from xinfang.routing import auto

    try:
        reason = auto.paused_reason()
        if not reason or PRECISION_PAUSE not in reason:
            return ""
        admin = by.startswith("user:") and User.objects.filter(username=by[5:]).first()
        auto.resume(by=admin or None)
    except DatabaseError:
        log.exception("启用分派模型 %s 后未能恢复智能派单", version)
        return ""
    note = f"模型 {version} 投入使用，智能派单已恢复，准确率自此重新计算（原暂停原因：{reason}）"
    with _locked() as index:
        _event(index, "auto_resume", version, by, note)
    return note


# ---------------------------------------------------------------- retraining


@dataclass
class RetrainResult:
    """What a retrain did: `status` is promoted, rejected, skipped or timeout."""

    status: str
    reason: str
    version: str = ""
    cv_macro_f1: float | None = None
    current_cv_macro_f1: float | None = None
    n_office: int = 0
    n_base: int = 0
    seconds: float = 0.0
    auto_resumed: str = ""  # a pause of 智能派单 the promotion ended (what was recorded)

    def summary(self) -> str:
        said = {"promoted": "已启用", "rejected": "未采用", "skipped": "未训练", "timeout": "超时"}
        head = f"智能分派重训：{said.get(self.status, self.status)}"
        if self.version:
            head += f" {self.version}"
        return f"{head}（{self.reason}）" + ("；智能派单已恢复" if self.auto_resumed else "")

    def as_dict(self) -> dict:
        return {**vars(self), "summary": self.summary()}


def base_rows() -> list[features.Row]:
    """The shipped labelled data (`XINFANG_ROUTING_BASE_CSV`), read at run time; none when the
    setting is empty or the file is not there."""
    path = getattr(settings, "XINFANG_ROUTING_BASE_CSV", "")
    if not path or not Path(path).is_file():
        return []
    return [r for r in features.read_csv(path) if r.label]


def training_set() -> tuple[list[features.Row], int, int, str]:
    """(rows, n_office, n_base, source) of a retrain: see the module's docstring."""
    from xinfang.routing import selectors

    office = [
        features.Row(*r) for r in selectors.training_rows(settings.XINFANG_ROUTING_RETRAIN_MAX_ROWS)
    ]
    base = base_rows() if len(office) < settings.XINFANG_ROUTING_BASE_BELOW else []
    source = "cases"
    if base:
        source += f"+base:{Path(settings.XINFANG_ROUTING_BASE_CSV).name}"
    return office + base, len(office), len(base), source


def _train_to(rows: list[features.Row], path: str, metadata: dict) -> None:
    """Train and save (run in a child process when time-bounded: no Django here)."""
    started = time.perf_counter()
    model = classifier.train(rows)
    metadata = {**metadata, "train_seconds": round(time.perf_counter() - started, 1)}
    classifier.save(model, path, metadata)


def _train_bounded(rows: list[features.Row], path: Path, metadata: dict, seconds: int) -> bool:
    """Train into `path`, in a child process stopped after `seconds` (0: in this process, no
    limit). False when it ran out of time or the child failed."""
    if not seconds:
        _train_to(rows, str(path), metadata)
        return True
    # spawn, not fork: the worker holds database connections and threads a fork would copy
    child = multiprocessing.get_context("spawn").Process(
        target=_train_to, args=(rows, str(path), metadata), daemon=True
    )
    child.start()
    child.join(seconds)
    if child.is_alive():
        child.terminate()
        child.join(10)
        return False
    return child.exitcode == 0 and path.is_file()


def _new_version_name(index: dict, now: dt.datetime) -> str:
    base = f"{timezone.localtime(now, LOCAL):%Y%m%d-%H%M%S}-retrain"
    taken = {e["version"] for e in index["versions"]}
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def retrain(
    now: dt.datetime | None = None, *, by: str = "worker", seconds: int | None = None
) -> RetrainResult:
    """Train on the office's confirmed matters (and the shipped base while they are few), keep
    the model as a new version and make it current when its cross-validated macro-F1 is not
    lower than the current model's. `seconds` bounds the training (default
    `XINFANG_ROUTING_RETRAIN_SECONDS`; 0: no bound, in this process)."""
    now = now or timezone.now()
    rows, n_office, n_base, source = training_set()
    labels = {r.label for r in rows}
    if len(rows) < MIN_ROWS or len(labels) < MIN_LABELS:
        return RetrainResult(
            "skipped",
            f"训练数据不足：{len(rows)} 条、{len(labels)} 个类别",
            n_office=n_office,
            n_base=n_base,
        )
    folder = _private_dir(versions_dir())
    with _locked() as index:  # reserve the name; the training itself runs without the lock
        _adopt_installed(index, by)
        version = _new_version_name(index, now)
        index["versions"].append(
            {**_from_metadata({"version": version}, file=None), "status": TRAINING}
        )
    tmp = folder / f".{version}.joblib.tmp"
    metadata = {
        "version": version,
        "source": source,
        "n_train": len(rows),
        "n_office": n_office,
        "n_base": n_base,
        "label_counts": {label: sum(r.label == label for r in rows) for label in sorted(labels)},
        "trained_at": now.isoformat(timespec="seconds"),
    }
    limit = settings.XINFANG_ROUTING_RETRAIN_SECONDS if seconds is None else seconds
    started = time.perf_counter()
    ok = _train_bounded(rows, tmp, metadata, limit)
    took = round(time.perf_counter() - started, 1)
    if not ok:
        tmp.unlink(missing_ok=True)
        reason = f"训练超过 {limit} 秒或失败，已停止" if limit else "训练失败"
        with _locked() as index:
            _listed(index, version).update(status=REJECTED, reason=reason)
            _event(index, "retrain", version, by, reason)
        return RetrainResult("timeout", reason, version, n_office=n_office, n_base=n_base)
    meta = classifier.load(tmp).metadata
    _replace_with(tmp, folder / f"{version}.joblib")
    with _locked() as index:
        current = _adopt_installed(index, by)
        current_entry = _entry(index, current) if current else None
        entry = _listed(index, version)
        entry.update(_from_metadata(meta, file=f"{version}.joblib"))
        new_cv, old_cv = (
            entry["cv_macro_f1"],
            current_entry["cv_macro_f1"] if current_entry else None,
        )
        promote_it, reason = _decide(new_cv, old_cv, has_current=current is not None)
        result = RetrainResult(
            "promoted" if promote_it else "rejected",
            reason,
            version,
            new_cv,
            old_cv,
            n_office,
            n_base,
            took,
        )
        entry["reason"] = reason
        entry["status"] = REJECTED
        _keep_installed(index, current)
        if promote_it:
            _make_current(index, version, current, by=by, action="retrain", detail=reason)
            index["history"].append(version)
        else:
            _event(index, "retrain", version, by, reason)
        _prune(index)
    if promote_it:
        result.auto_resumed = _resume_auto_routing(version, by=by)
    return result


def _decide(new: float | None, old: float | None, *, has_current: bool) -> tuple[bool, str]:
    """Whether a retrained model replaces the current one, and why (in the user's words)."""
    if not has_current:
        return True, "此前没有可用模型"
    if new is None:
        return False, "新模型没有交叉验证分数，不自动启用"
    if old is None:
        return True, f"交叉验证 macro-F1 {new:.4f}；当前模型没有交叉验证分数"
    if new >= old:
        return True, f"交叉验证 macro-F1 {new:.4f} 不低于当前 {old:.4f}"
    return False, f"交叉验证 macro-F1 {new:.4f} 低于当前 {old:.4f}"


def _prune(index: dict) -> None:
    """Keep the files of the current version, the versions a rollback can reach and the newest
    `XINFANG_ROUTING_KEEP_VERSIONS`; older files go (their entries stay, marked 已清理)."""
    keep_n = settings.XINFANG_ROUTING_KEEP_VERSIONS
    newest = {e["version"] for e in index["versions"][-keep_n:]}
    reachable = set(index["history"][-keep_n:])
    for e in index["versions"]:
        if e.get("file") and e["version"] not in newest | reachable and e["status"] != CURRENT:
            (versions_dir() / e["file"]).unlink(missing_ok=True)
            e["file"] = None
    index["history"] = index["history"][-keep_n * 2 :]


# ---------------------------------------------------------------- the schedule


def confirmed_since_last() -> int:
    """Matters confirmed (routed or closed with a category) since the newest retrain began
    (the weekly retrain's condition: `xinfang/worker/daily.py`)."""
    from django.db.models import Q

    from xinfang.routing import selectors

    retrained = [
        e["trained_at"] for e in _read_index()["versions"] if e.get("n_office") is not None
    ]
    confirmed = selectors.confirmed_cases()
    if retrained:
        since = dt.datetime.fromisoformat(retrained[-1])
        confirmed = confirmed.filter(Q(routed_at__gte=since) | Q(closed_at__gte=since))
    return confirmed.count()


def describe(entry: dict[str, Any]) -> str:
    """One line for the command line."""
    cv = entry.get("cv_macro_f1")
    return (
        f"{entry['version']}\t{STATUS_LABELS.get(entry['status'], entry['status'])}\t"
        f"cv_macro_f1={cv if cv is not None else '—'}\tn_train={entry.get('n_train') or '—'}\t"
        f"{entry.get('reason') or ''}"
    )
