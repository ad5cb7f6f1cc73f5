"""草稿检查 (draft checks): what a written reply needs, as pure functions of its text.

Four checks, each a yes/no with a reason in Chinese:

- relevance (切题): the reply answers the question asked: its character-bigram cosine with the
  message is above `RELEVANCE_MIN` and at least one of the message's key terms (the title's
  bigrams that are not boilerplate) appears in it;
- outcome and time (结果与时限): a result word (已/将/完成/解决/同意/不予…) and a time expression
  (a date, “X日内”, “X个工作日”, 月底…) say what was or will be done, and by when;
- policy (依据): the reply names what it relies on (《…》, 第X条, 条例/办法/规定…);
- deadline (按期): the reply comes before the matter's due time.

The thresholds were calibrated on the government replies of replies.csv (the report of
`xinfang answers calibrate` gives the share of real replies passing each check).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass

RELEVANCE_MIN = 0.09  # bigram cosine; real replies: see `xinfang answers calibrate`

_HAN_RUN = re.compile(r"[\u3400-\u9fff]+|[0-9A-Za-z]+")

# Bigrams every message or reply carries: they say nothing about the question asked.
_BOILER = frozenset(
    "关于 问题 反映 请问 希望 有关 部门 您好 你好 我们 你们 现在 什么 怎么 为什么 "
    "能否 是否 可以 一下 一个 这个 那个 要求 情况 相关 领导 市民 网友 请求 建议 "
    "解决 处理 尽快 咨询 投诉 举报 回复 答复 政府 工作 谢谢 感谢".split()
)

_RESULT = re.compile(
    r"已(?:经)?(?:完成|解决|处理|办理|整改|落实|督促|安排|责令|要求|协调|联系|组织|核实|查处|"
    r"下达|告知|约谈|到位|修复|清理|拆除|恢复|开通|纳入|立案|受理|启动|制定|出台|发放|退还|支付)"
    r"|将(?:于|在|尽快|及时|继续|进一步|按照|依法|积极|加快|督促|组织|安排|协调)"
    r"|已于|预计|完工|完成|办结|责令|下达|查处|处罚|罚款|约谈|整改|督促|立案|拆除|退还|补发"
    r"|(?:予以|给予|不予|同意|不同意|支持|不支持|符合|不符合|可以|不能|无法)"
    r"|(?:处理结果|调查结果|核实情况|办理结果|回复如下|答复如下)"
)
_NUM = r"[0-9０-９一二两三四五六七八九十百]+"
_TIME = re.compile(
    rf"{_NUM}年{_NUM}月(?:{_NUM}[日号])?|{_NUM}月{_NUM}[日号]|{_NUM}月(?:底|初|中旬|上旬|下旬)"
    rf"|{_NUM}个?(?:工作日|自然日|日|天|周|星期|个月|月)(?:内|之内|以内|前)"
    rf"|(?:年底|年内|月底|本月|下月|本周|下周|近日|近期|目前|现已|已于|今年|明年)"
    rf"|\d{{4}}[-/.]\d{{1,2}}(?:[-/.]\d{{1,2}})?"
)
_POLICY = re.compile(
    rf"《[^》]{{2,60}}》|第{_NUM}条|第{_NUM}款"
    r"|(?:条例|办法|规定|细则|实施意见|若干意见|通知|政策|法律|法规|规章|标准|规范|文件|规划|方案)"
)


@dataclass(frozen=True)
class CheckResult:
    """One check: passed or not, and what to say about it (检查结果)."""

    name: str
    label: str
    passed: bool
    note: str


@dataclass(frozen=True)
class DraftReport:
    """The four checks of one draft (草稿检查结果); `deadline` is None when not known."""

    relevance: CheckResult
    outcome_time: CheckResult
    policy: CheckResult
    deadline: CheckResult | None
    similarity: float
    key_terms: tuple[str, ...]

    @property
    def items(self) -> list[CheckResult]:
        return [c for c in (self.relevance, self.outcome_time, self.policy, self.deadline) if c]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.items)

    def as_dict(self) -> dict:
        return {
            "passed": self.passed,
            "similarity": round(self.similarity, 3),
            "key_terms": list(self.key_terms),
            "checks": [asdict(c) for c in self.items],
        }


def bigrams(text: str) -> Counter[str]:
    """Character bigrams of every Han run, and whole Latin words or numbers."""
    out: Counter[str] = Counter()
    for run in _HAN_RUN.findall(text or ""):
        if run[0].isascii():
            out[run.lower()] += 1
        elif len(run) == 1:
            out[run] += 1
        else:
            out.update(map(str.__add__, run, run[1:]))
    return out


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def key_terms(title: str, content: str = "", k: int = 6) -> tuple[str, ...]:
    """What the question is about: the title's bigrams, boilerplate left out, those the message
    repeats most first (a bigram across two words rarely recurs); the first `k`."""
    body = bigrams(content)
    title_terms = [t for t in bigrams(title) if t not in _BOILER and not t.isascii()]
    ranked = sorted(title_terms, key=lambda t: -body.get(t, 0))  # stable: title order on ties
    return tuple(ranked[:k])


def check_relevance(draft: str, title: str, content: str) -> tuple[CheckResult, float, tuple]:
    similarity = cosine(bigrams(draft), bigrams(f"{title} {content}"))
    terms = key_terms(title, content)
    hit = [t for t in terms if t in draft]
    passed = similarity >= RELEVANCE_MIN and (bool(hit) or not terms)
    if passed:
        note = f"与来信内容相关（相似度 {similarity:.2f}，提到 {'、'.join(hit[:3]) or '来信要点'}）"
    elif not hit and terms:
        note = f"未提到来信所问的要点（如 {'、'.join(terms[:3])}），请针对所反映的问题作答"
    else:
        note = f"与来信内容关联较弱（相似度 {similarity:.2f}），请针对所反映的问题作答"
    return CheckResult("relevance", "切题", passed, note), similarity, terms


def check_outcome_time(draft: str) -> CheckResult:
    result, when = _RESULT.search(draft), _TIME.search(draft)
    if result and when:
        note = f"写明了处理结果（“{result.group()}”）和时间（“{when.group()}”）"
    elif not result:
        note = "未写明处理结果：已经怎样处理、同意或不予支持"
    else:
        note = "未写明时间：何时办理、X个工作日内或完成日期"
    return CheckResult("outcome_time", "结果与时限", bool(result and when), note)


def check_policy(draft: str) -> CheckResult:
    found = _POLICY.search(draft)
    note = f"写明了依据（“{found.group()}”）" if found else "未写明所依据的政策或法规（《…》第X条）"
    return CheckResult("policy", "政策依据", bool(found), note)


def check_deadline(due_at: dt.datetime | None, at: dt.datetime) -> CheckResult | None:
    """On time when given before the due time; None when the matter has no reply clock."""
    if due_at is None:
        return None
    if at <= due_at:
        left = due_at - at
        return CheckResult("deadline", "按期答复", True, f"在期限内（剩余 {left.days} 天）")
    late = at - due_at
    return CheckResult("deadline", "按期答复", False, f"已超过答复期限 {late.days} 天")


def check_draft(
    draft: str,
    *,
    title: str,
    content: str,
    due_at: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> DraftReport:
    """The four checks of a draft reply to the message (`title`, `content`)."""
    draft = draft or ""
    relevance, similarity, terms = check_relevance(draft, title, content)
    return DraftReport(
        relevance=relevance,
        outcome_time=check_outcome_time(draft),
        policy=check_policy(draft),
        deadline=check_deadline(due_at, at) if at is not None else None,
        similarity=similarity,
        key_terms=terms,
    )


def calibrate(rows: list[dict]) -> dict:
    """The share of real replies (rows with title, content, reply) passing each check, and of
    each reply checked against another message's (a shuffled pairing: relevance must fail)."""
    rows = [r for r in rows if (r.get("reply") or "").strip() and (r.get("title") or "").strip()]
    n = len(rows)
    if not n:
        return {"replies": 0}
    passed = Counter[str]()
    for r in rows:
        report = check_draft(r["reply"], title=r["title"], content=r.get("content") or "")
        for c in report.items:
            passed[c.name] += c.passed
        passed["all"] += report.passed
    shifted = rows[n // 2 :] + rows[: n // 2]  # each reply against a message half a file away
    wrong = sum(
        check_relevance(other["reply"], r["title"], r.get("content") or "")[0].passed
        for r, other in zip(rows, shifted, strict=True)
    )
    return {
        "replies": n,
        "relevance": round(passed["relevance"] / n, 4),
        "outcome_time": round(passed["outcome_time"] / n, 4),
        "policy": round(passed["policy"] / n, 4),
        "all_three": round(passed["all"] / n, 4),
        "relevance_on_wrong_message": round(wrong / n, 4),
    }
