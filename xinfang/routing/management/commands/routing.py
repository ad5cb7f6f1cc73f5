"""`xinfang routing train|evaluate|predict|report|hot`: the routing model and its reports."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from xinfang.cases.clocks import LOCAL
from xinfang.routing import classifier, conf, features, hot

#: training figures of automatic routing printed by `routing train` (classifier.train)
AUTO_TRAIN_KEYS = (
    "cv_macro_f1",
    "auto_target",
    "auto_threshold",
    "auto_cv_precision",
    "auto_cv_coverage",
)


class Command(BaseCommand):
    help = "智能分派：训练、评估、预测分类模型；建议采纳情况月报；热点问题聚类"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="训练分类模型（默认用本机构已分类的事项）")
        train.add_argument("--csv", help="UTF-8 CSV，列 title, content, label")
        train.add_argument("--model", help=f"模型文件（默认 {conf.model_path()}）")
        train.add_argument("--limit", type=int, default=200_000, help="最多使用多少条已办事项")
        train.add_argument(
            "--target-precision",
            type=float,
            default=features.Config.target_precision,
            help="智能派单的目标准确率（默认 0.98）：在训练数据的交叉验证上选出达到它的置信度阈值",
        )
        evaluate = sub.add_parser("evaluate", help="在带标签的 CSV 上评估，输出一行 JSON")
        evaluate.add_argument("csv")
        evaluate.add_argument("--model")
        predict = sub.add_parser(
            "predict", help="从标准输入读取文本（首行标题，其余为内容），输出前三个分类"
        )
        predict.add_argument("--model")
        predict.add_argument("--top", type=int, default=3)
        sub.add_parser("versions", help="列出模型版本、交叉验证分数和当前使用的版本")
        promote = sub.add_parser("promote", help="启用一个已保存的模型版本")
        promote.add_argument("version")
        rollback = sub.add_parser("rollback", help="回退到上一个（或指定的曾用）模型版本")
        rollback.add_argument("version", nargs="?")
        retrain = sub.add_parser(
            "retrain", help="用本机构已确认的事项重训，不低于当前模型的交叉验证分数才启用"
        )
        retrain.add_argument(
            "--seconds", type=int, help="训练最多用时（秒，0=不限；默认同定期重训）"
        )
        report = sub.add_parser("report", help="建议采纳情况月报（JSON）")
        report.add_argument("--month", help="YYYY-MM（默认本月）")
        hot_cmd = sub.add_parser(
            "hot", help="热点问题聚类（CSV：title, content, time，可含 likes, against, user）"
        )
        hot_cmd.add_argument("--csv", required=True)
        hot_cmd.add_argument("--top", type=int, default=10)
        hot_cmd.add_argument("--month", help="YYYY-MM：只看这个月（与上月比增长）；默认整份文件")
        hot_cmd.add_argument("--threshold", type=float, help="聚类相似度阈值（默认 0.25）")
        hot_cmd.add_argument("--json", action="store_true", help="每个热点输出一行 JSON")
        hot_cmd.add_argument("--xlsx", help="同时导出 Excel 到该文件")

    def handle(self, *args, **options) -> None:
        getattr(self, f"do_{options['action']}")(options)

    # ------------------------------------------------------------------ model

    def _model_path(self, options) -> Path:
        return Path(options.get("model") or conf.model_path())

    def _load(self, options) -> classifier.Model:
        path = self._model_path(options)
        if not path.exists():
            raise CommandError(f"模型文件 {path} 不存在，请先运行 xinfang routing train")
        try:
            return classifier.load(path)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    def _read(self, path: str) -> list[features.Row]:
        try:
            return features.read_csv(path)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取 {path}：{exc}") from exc

    def do_train(self, options) -> None:
        from xinfang.routing import selectors

        if options.get("csv"):
            rows = [r for r in self._read(options["csv"]) if r.label]
            source = f"csv:{Path(options['csv']).name}"
        else:
            rows = [features.Row(*r) for r in selectors.training_rows(options["limit"])]
            source = "cases"
        target = options.get("target_precision")
        target = features.Config.target_precision if target is None else target
        if not 0 < target < 1:
            raise CommandError(f"目标准确率应在 0 与 1 之间，实际为 {target}")
        labels = {r.label for r in rows}
        if len(rows) < 10 or len(labels) < 2:
            raise CommandError(
                f"训练数据不足：{len(rows)} 条、{len(labels)} 个类别（至少需要 10 条、2 个类别）。"
                "可用 --csv 指定带标签的 CSV 文件"
            )
        started = time.perf_counter()
        model = classifier.train(rows, features.Config(target_precision=target))
        seconds = time.perf_counter() - started
        now = timezone.now()
        version = f"{timezone.localtime(now):%Y%m%d-%H%M%S}-{source.split(':')[0]}"
        path = self._model_path(options)
        meta = classifier.save(
            model,
            path,
            {
                "version": version,
                "source": source,
                "n_train": len(rows),
                "label_counts": {
                    label: sum(r.label == label for r in rows) for label in sorted(labels)
                },
                "train_seconds": round(seconds, 1),
                "trained_at": now.isoformat(timespec="seconds"),
            },
        )
        self.stdout.write(
            json.dumps(
                {
                    "model": str(path),
                    "version": meta["version"],
                    "source": source,
                    "n_train": len(rows),
                    "labels": meta["labels"],
                    "train_seconds": round(seconds, 1),
                    **{k: meta.get(k) for k in AUTO_TRAIN_KEYS},
                },
                ensure_ascii=False,
            )
        )

    def do_evaluate(self, options) -> None:
        model = self._load(options)
        rows = [r for r in self._read(options["csv"]) if r.label]
        if not rows:
            raise CommandError("CSV 中没有带标签的行")
        scores = classifier.evaluate(model, rows)
        scores["model_version"] = str(model.metadata.get("version", ""))
        self.stdout.write(json.dumps(scores, ensure_ascii=False))

    def do_predict(self, options) -> None:
        model = self._load(options)
        text = sys.stdin.read().strip()
        if not text:
            raise CommandError("请从标准输入提供文本：第一行为标题，其余为内容")
        title, _, content = text.partition("\n")
        if not content.strip():
            title, content = "", title
        top = model.predict_top(title.strip(), content.strip(), options["top"])
        self.stdout.write(
            json.dumps(
                {
                    "top": [{"label": label, "confidence": round(p, 4)} for label, p in top],
                    "model_version": str(model.metadata.get("version", "")),
                },
                ensure_ascii=False,
            )
        )

    # ------------------------------------------------------------------ versions

    def do_versions(self, options) -> None:
        from xinfang.routing import versions

        rows = versions.list_versions()
        if not rows:
            self.stdout.write(
                "尚无模型版本：请运行 xinfang routing retrain 或 xinfang routing train"
            )
        for row in rows:
            self.stdout.write(versions.describe(row))

    def do_promote(self, options) -> None:
        from xinfang.routing import versions

        try:
            entry = versions.promote(options["version"], by="cli")
        except versions.VersionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已启用 {entry['version']}")

    def do_rollback(self, options) -> None:
        from xinfang.routing import versions

        try:
            entry = versions.rollback(options.get("version"), by="cli")
        except versions.VersionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已回退到 {entry['version']}")

    def do_retrain(self, options) -> None:
        from xinfang.routing import versions

        result = versions.retrain(by="cli", seconds=options.get("seconds"))
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        if result.status in {"skipped", "timeout"}:
            raise CommandError(result.summary())

    # ------------------------------------------------------------------ reports

    def do_report(self, options) -> None:
        from xinfang.routing import selectors

        month = options.get("month") or selectors.current_month()
        _check_month(month)
        self.stdout.write(json.dumps(selectors.suggestion_report(month), ensure_ascii=False))

    def do_hot(self, options) -> None:
        try:
            docs = hot.read_hot_csv(options["csv"])
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取 {options['csv']}：{exc}") from exc
        period = None
        if options.get("month"):
            _check_month(options["month"])
            start, end = hot.month_period(options["month"])
            period = (
                dt.datetime.combine(start, dt.time(), LOCAL),
                dt.datetime.combine(end, dt.time(), LOCAL),
            )
            prev = dt.datetime.combine(hot.previous_month_start(start), dt.time(), LOCAL)
            docs = [d for d in docs if prev <= d.at < period[1]]
        threshold = options.get("threshold") or conf.hot_threshold()
        started = time.perf_counter()
        clusters = hot.hot_clusters(docs, period=period, threshold=threshold, top=options["top"])
        seconds = time.perf_counter() - started
        if options.get("xlsx"):
            hot.write_xlsx(
                clusters, options["xlsx"], title=f"热点问题（{Path(options['csv']).name}）"
            )
        if options.get("json"):
            for rank, c in enumerate(clusters, 1):
                self.stdout.write(json.dumps({"rank": rank, **c.as_dict()}, ensure_ascii=False))
            return
        scope = f"{options['month']}（与上月比较）" if period else "整份文件"
        self.stdout.write(
            f"热点问题：{len(docs)} 条留言，{scope}，阈值 {threshold}，用时 {seconds:.1f} 秒"
        )
        for rank, c in enumerate(clusters, 1):
            mark = " ★每月一题候选" if c.candidate else ""
            growth = f" 增长{c.growth:+.0%}" if period else ""
            self.stdout.write(
                f"{rank:>2}. {c.label}｜{c.place or '—'}｜{c.count}件 {c.people}人 "
                f"点赞{c.likes} 反对{c.against}{growth} 热度{c.heat:.1f}{mark}"
                f"（{c.first_at:%Y-%m-%d}～{c.last_at:%Y-%m-%d}）"
            )
            for title in c.examples:
                self.stdout.write(f"      · {title}")


def _check_month(month: str) -> None:
    try:
        hot.month_period(month)
    except ValueError as exc:
        raise CommandError(f"月份格式应为 YYYY-MM，实际为 {month!r}") from exc
