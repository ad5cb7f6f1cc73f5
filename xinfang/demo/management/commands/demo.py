"""`xinfang demo`: the demo organisation, its people, and realistic matters in every state."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from xinfang.cases.models import Case, State
from xinfang.demo.fill import Filled
from xinfang.demo.org import ensure_demo_org, login_table
from xinfang.demo.run import SERVICE_PATH_MAX, generate


class Command(BaseCommand):
    help = "生成演示数据：示范县的单位、人员和各种状态的信访事项（含超期、即将到期）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=300, help="生成的事项数（默认300）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子：相同种子生成相同数据")
        parser.add_argument(
            "--if-empty", action="store_true", help="已有事项时不再生成（单位和人员仍会补齐）"
        )
        parser.add_argument(
            "--no-fill",
            dest="fill",
            action="store_false",
            help="只生成事项：不训练分派模型、不扫描积案、不填充接访排班、预约和矛盾纠纷排查",
        )
        path = parser.add_mutually_exclusive_group()
        path.add_argument(
            "--bulk",
            dest="bulk",
            action="store_true",
            default=None,
            help="批量写入（大量数据时默认）",
        )
        path.add_argument(
            "--no-bulk",
            dest="bulk",
            action="store_false",
            help=f"逐条调用业务函数（{SERVICE_PATH_MAX}件以内默认）",
        )

    def handle(
        self,
        *args,
        cases: int,
        seed: int,
        if_empty: bool,
        bulk: bool | None,
        fill: bool = True,
        **options,
    ) -> None:
        org = ensure_demo_org()
        if cases < 0:
            self.stderr.write("事项数不能为负数")
            return
        if if_empty and Case.objects.exists():
            self.stdout.write("已有信访事项，跳过演示数据生成。")
        elif cases:
            self.stdout.write(f"正在生成 {cases} 件演示事项……")
            result = generate(
                cases=cases,
                seed=seed,
                use_bulk=bulk,
                org=org,
                progress=self._progress,
                fill=fill,
            )
            rate = result.created / result.seconds if result.seconds else 0
            way = "批量写入" if result.path == "bulk" else "业务函数"
            self.stdout.write(
                self.style.SUCCESS(
                    f"已生成 {result.created} 件（{way}），用时 {result.seconds:.1f} 秒，约 {rate:.0f} 件/秒"
                )
            )
            self._print_states(result)
            if result.filled is not None:
                self._print_filled(result.filled)
            self._count_rates()
        self._print_logins(org)

    def _count_rates(self) -> None:
        from xinfang.reports import rollup  # the statistics' rollup, as the worker keeps it

        started = time.perf_counter()
        rollup.refresh()
        self.stdout.write(f"统计汇总已更新，用时 {time.perf_counter() - started:.1f} 秒")

    def _progress(self, done: int, total: int, seconds: float) -> None:
        rate = done / seconds if seconds else 0
        self.stdout.write(f"  {done}/{total}  {seconds:.0f} 秒  {rate:.0f} 件/秒")

    def _print_states(self, result) -> None:
        self.stdout.write("各状态事项数（全库）：")
        for state in State:
            self.stdout.write(f"  {state.label:<6} {result.states.get(state.value, 0)}")
        self.stdout.write(f"  已超期 {result.overdue}，即将到期 {result.due_soon}")

    def _print_filled(self, filled: Filled) -> None:
        seconds = filled.seconds
        model = filled.model
        if "error" in model:
            self.stdout.write(f"分派模型未训练：{model['error']}")
        else:
            base = f"、参考留言 {model['n_base']} 条" if model.get("n_base") else ""
            self.stdout.write(
                f"分派模型已训练：{model.get('n_office', model.get('n_train', 0))} 件已分类事项"
                f"{base}、{len(model.get('labels') or [])} 个类别，"
                f"用时 {seconds.get('routing', 0):.1f} 秒（{model.get('model', '')}）"
            )
            self.stdout.write(f"  {_auto_line(model)}")
        auto = filled.auto
        if auto:
            rest = "，其余待登记员转送" if auto["routed"] < auto["registered"] else ""
            why = f"（{auto['why_not']}）" if auto.get("why_not") else ""
            self.stdout.write(
                f"智能派单：最后 {auto['registered']} 件作为新事项登记，模型自动转送 "
                f"{auto['routed']} 件（其中 {auto['accepted']} 件已由责任单位受理）{rest}{why}；"
                "见各事项的办理过程与“分派建议采纳情况”月报"
            )
        self.stdout.write(
            f"答复知识库：本机构答复 {filled.answers.get('office', 0)} 条、参考答复 "
            f"{filled.answers.get('starter', 0)} 条，用时 {seconds.get('answers', 0):.1f} 秒"
        )
        self.stdout.write(
            f"积案扫描：新认定积案 {filled.backlog} 件，用时 {seconds.get('backlog', 0):.1f} 秒"
        )
        self.stdout.write(
            f"领导接访：排班 {filled.rota_days} 个工作日，接访记录 {filled.records} 条、"
            f"批示 {filled.instructions} 条，约访时段 {filled.slots} 个、预约 {filled.bookings} 人次"
        )
        self.stdout.write(f"矛盾纠纷排查：本季度排查登记问题 {filled.screening_entries} 条")
        self.stdout.write(f"以上填充共用时 {sum(seconds.values()):.1f} 秒")

    def _print_logins(self, org) -> None:
        self.stdout.write("演示账号（角色 / 用户名 / 密码 / 单位）：")
        for role, username, password, unit in login_table(org):
            self.stdout.write(f"  {role:<8} {username:<11} {password:<12} {unit}")
        self.stdout.write("  各责任单位另有经办人 <单位>_officer 与负责人 <单位>_head，密码相同。")


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def _auto_line(model: dict) -> str:
    """The training's figures of 智能派单 (chosen on cross-validation of the training rows)."""
    threshold = model.get("auto_threshold")
    if threshold is None:
        return "智能派单：交叉验证未达到目标准确率，不自动转送"
    return (
        f"智能派单阈值 {threshold:.3f}（交叉验证：准确率 {_percent(model.get('auto_cv_precision'))}，"
        f"覆盖率 {_percent(model.get('auto_cv_coverage'))}）"
    )
