"""Small synthetic data for the routing tests (never the shared data)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from xinfang.routing import classifier, features

TOPICS = {
    "劳动和社会保障": (
        ["拖欠工资", "社保缴纳", "养老保险", "工伤认定", "劳动合同", "失业金"],
        ["公司", "老板", "工地", "工人", "用人单位", "人社局"],
    ),
    "教育文体": (
        ["入学报名", "学校收费", "老师补课", "学区划分", "校车安全", "幼儿园学位"],
        ["学生", "家长", "孩子", "教育局", "班主任", "课程"],
    ),
    "城乡建设": (
        ["小区物业", "道路破损", "拆迁补偿", "违章建筑", "房屋漏水", "电梯故障"],
        ["业主", "开发商", "住建局", "楼盘", "施工", "规划"],
    ),
}


def synthetic_rows(n_per_label: int = 30, seed: int = 7) -> list[features.Row]:
    rng = random.Random(seed)
    rows = []
    for label, (topics, words) in TOPICS.items():
        for _ in range(n_per_label):
            topic = rng.choice(topics)
            extra = "".join(rng.sample(words, 3))
            rows.append(
                features.Row(
                    f"反映{topic}问题", f"{extra}{topic}，{rng.choice(words)}请尽快处理。", label
                )
            )
    rng.shuffle(rows)
    return rows


def write_csv(path: Path, rows: list[features.Row]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "content", "label"])
        for i, r in enumerate(rows):
            writer.writerow([i, r.title, r.content, r.label])
    return path


def trained_model(path: Path) -> Path:
    model = classifier.train(synthetic_rows())
    classifier.save(model, path, {"version": "test-model-1", "source": "test"})
    return path
