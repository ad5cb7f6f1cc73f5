"""演示数据 (`xinfang demo`): realistic petitions across units, categories, channels and states.

One plan, two ways to carry it out:

- Every matter is first *planned*, as a pure function of the seed and its index: type, channel,
  category, place, text, petitioner, and the steps of its life (route, accept, extend, reply,
  rate, review ...) with who takes them and when. Times are spread over the last ~18 months and
  never lie in the future; some matters are overdue, some due soon.
- The service path (small runs) replays every step through `services.case_*`, in time order,
  as the real users would: the demo timeline is exactly what the system produces.
- The bulk path (large runs) computes the same rows in memory the way the services do (state,
  clock, due times, timeline, co-handlers, search index) and writes them in large batches.

`tests/cases/test_demo.py` checks that both paths give identical matters and timelines.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import multiprocessing
import os
import random
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from stdnum.cn import ric

from xinfang.cases import clocks, search, services
from xinfang.cases.models import (
    HOTLINE_KINDS,
    Case,
    CaseEvent,
    Channel,
    CoHandler,
    Kind,
    Outcome,
    Rating,
    Representative,
    RouteMode,
    State,
)
from xinfang.cases.selectors import clock_rules, work_calendar
from xinfang.cases.workflow import ACTIONS, CITIZEN_WINDOWS, STATE_CLOCK
from xinfang.orgs.demo import DemoOrg, ensure_demo_org

LOCAL = clocks.LOCAL
S = State
SERVICE_PATH_MAX = 2000  # up to this many matters go through the services by default
BATCH_SIZE = 5000  # matters per transaction on the bulk path
HISTORY_DAYS = 540  # registrations spread over about 18 months

# ---------------------------------------------------------------- the words


def _words(text: str) -> list[str]:
    return text.split()


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_NAMES = _words(
    "伟 芳 敏 静 强 磊 军 勇 杰 涛 明 超 刚 华 平 霞 燕 鹏 辉 斌 秀英 桂英 建国 建华 志强 海燕 红梅 玉兰 文俊 春花 "
    "国庆 德明 淑珍 晓东 丽娟 秋菊 宏伟 少华 永红 金凤 小燕 凤英 立新 爱民 家豪 梓涵 子轩 浩然 思远 雨桐 欣怡 俊杰"
)
BRANDS = _words(
    "宏达 鑫源 恒通 瑞丰 金盛 华宇 长青 永安 联创 德信 泰和 博远 东方 兴隆 鼎盛 中诚 汇丰 天成 嘉禾 福满"
)
XIAOQU = _words(
    "阳光花园 锦绣家园 翠湖小区 金色港湾 幸福里 书香苑 滨江一号 和平新村 紫荆城 桂花园 润园 南湖春天 御景湾 康乐小区"
)
ROADS = _words(
    "人民路 建设路 解放路 文化路 东湖路 青年路 滨河路 迎宾大道 新华街 朝阳路 工业路 胜利街 学府路 长青路"
)
VILLAGES = _words("李家村 王庄村 石桥村 河口村 柳树湾村 新塘村 高坪村 双河村 枫林村 白沙村")
TOWNS = _words("城关镇 东湖街道 北岭街道 西山镇 青石镇 南河乡")
SCHOOLS = _words("示范县实验小学 示范县第一中学 城关第二小学 东湖中学 北岭小学")
HOSPITALS = _words("示范县人民医院 示范县中医院 城关镇卫生院 东湖社区卫生服务中心 示范县妇幼保健院")
SHOP_KINDS = _words("超市 餐馆 烧烤店 KTV 健身房 教育培训中心 美容院 火锅店 酒吧 汽修店")
PROJECTS = _words("高速公路 工业园区 棚户区改造 城南新区道路 物流园 高铁站场")
DEPARTMENT_POSTS = _words("股长 副局长 科长 科员 站长 队长")
TOWN_POSTS = _words("副镇长 站长 所长 村主任 村支书")
# 身份证号前6位：出生地行政区划代码（均为有效代码）
ID_REGIONS = _words(
    "430121 430321 360121 340121 350121 330122 110105 110108 120103 310104 140121 210321 "
    "422822 430122 360122 120104"
)
MOBILE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 176 177 180 181 182 183 185 186 187 188 189 199"
)


def _money(rng: random.Random, lo: int, hi: int) -> str:
    return str(_ri(rng, lo // 100, hi // 100) * 100)


FILLERS: dict[str, Callable[[random.Random], str]] = {
    "builder": lambda r: (
        f"{_one(r, BRANDS)}{_one(r, ['建筑工程有限公司', '劳务有限公司', '建设集团'])}"
    ),
    "employer": lambda r: (
        f"{_one(r, BRANDS)}{_one(r, ['电子科技有限公司', '服装厂', '食品有限公司', '物流有限公司', '商贸有限公司'])}"
    ),
    "property_co": lambda r: f"{_one(r, BRANDS)}物业服务有限公司",
    "developer": lambda r: f"{_one(r, BRANDS)}房地产开发有限公司",
    "factory": lambda r: (
        f"{_one(r, BRANDS)}{_one(r, ['化工厂', '建材厂', '塑料制品厂', '石料厂'])}"
    ),
    "xiaoqu": lambda r: _one(r, XIAOQU),
    "road": lambda r: _one(r, ROADS),
    "road2": lambda r: _one(r, ROADS),
    "village": lambda r: _one(r, VILLAGES),
    "town": lambda r: _one(r, TOWNS),
    "school": lambda r: _one(r, SCHOOLS),
    "hospital": lambda r: _one(r, HOSPITALS),
    "shop": lambda r: f"{_one(r, BRANDS)}{_one(r, SHOP_KINDS)}",
    "project": lambda r: _one(r, PROJECTS),
    "plate": lambda r: f"西A·T{_ri(r, 1000, 9999)}",
    "amount": lambda r: _money(r, 3000, 260000),
    "small_amount": lambda r: _money(r, 500, 9000),
    "term_fee": lambda r: _money(r, 200, 1500),
    "meal_fee": lambda r: str(_ri(r, 30, 90) * 10),
    "many": lambda r: str(_ri(r, 2, 30) * 10),
    "months": lambda r: str(_ri(r, 2, 14)),
    "years": lambda r: str(_ri(r, 2, 15)),
    "year": lambda r: str(_ri(r, 2019, 2025)),
    "month": lambda r: str(_ri(r, 1, 12)),
    "day": lambda r: str(_ri(r, 1, 28)),
    "n": lambda r: str(_ri(r, 3, 60)),
    "days": lambda r: str(_ri(r, 3, 40)),
    "fee": lambda r: f"{_ri(r, 8, 15) / 10:.1f}",
    "fee2": lambda r: f"{_ri(r, 16, 30) / 10:.1f}",
    "fare": lambda r: str(_ri(r, 60, 300)),
    "mu": lambda r: f"{_ri(r, 5, 80) / 10:.1f}",
}

# Per subcategory: stories (title variants, content) and the types (with weights) it comes as.
Story = tuple[list[str], str]
TEMPLATES: dict[str, tuple[list[Story], dict[str, int]]] = {
    "LD01": (
        [
            (
                [
                    "{builder}拖欠农民工工资{amount}元",
                    "讨要{year}年{month}月以来被拖欠的工资",
                    "{xiaoqu}项目工地欠薪问题",
                ],
                "本人于{year}年{month}月起在{builder}承建的{xiaoqu}项目务工，公司以资金紧张为由拖欠工资{months}个月，"
                "共计{amount}元。多次找项目负责人讨要无果，现生活困难，请求有关部门督促公司尽快支付欠薪。",
            ),
            (
                ["反映{builder}欠薪{months}个月未发", "{many}余名农民工被拖欠工资"],
                "我们{many}余名工人在{builder}做工，老板拖欠工资{months}个月至今未结清，欠薪总额约{amount}元。"
                "劳动合同、考勤记录均在，曾向劳动监察大队反映但一直没有结果，希望政府帮助追讨欠薪。",
            ),
            (
                ["{employer}拖欠员工工资", "{employer}欠薪后负责人失联"],
                "本人在{employer}上班，公司已连续{months}个月未发工资，欠薪{amount}元，现公司大门紧锁，"
                "负责人联系不上，请求帮助。",
            ),
        ],
        {Kind.APPEAL: 6, Kind.HOTLINE_COMPLAINT: 3, Kind.HOTLINE_HELP: 2},
    ),
    "LD02": (
        [
            (
                ["{employer}未依法缴纳社会保险", "反映{employer}少缴职工社保"],
                "本人在{employer}工作{years}年，单位一直未为本人缴纳养老保险和医疗保险，本人多次提出，"
                "单位以临时工为由拒绝。请求责令单位依法补缴社会保险。",
            ),
            (
                ["咨询养老保险转移接续办理", "养老保险关系转移迟迟办不下来"],
                "本人{year}年从外省回到示范县工作，养老保险关系转移接续迟迟办不下来，窗口让反复提交材料，"
                "请求明确办理流程和时限。",
            ),
        ],
        {Kind.APPEAL: 3, Kind.HOTLINE_ENQUIRY: 3, Kind.SUGGESTION: 1},
    ),
    "CJ01": (
        [
            (
                ["{xiaoqu}物业服务差、乱收费", "反映{xiaoqu}物业擅自涨价", "{xiaoqu}物业费问题"],
                "{xiaoqu}由{property_co}管理，近{months}个月来物业服务质量严重下降，电梯经常停运，垃圾清运不及时，"
                "物业费却从每平方米{fee}元涨到{fee2}元，业主多次反映无人理会。请求住建部门调查处理。",
            ),
            (
                ["{xiaoqu}物业不作为，车库积水无人管", "{xiaoqu}消防通道被占用，物业推诿"],
                "我是{xiaoqu}{n}栋业主，小区地下车库积水、消防通道被占用，物业公司{property_co}推诿扯皮，"
                "业主委员会也无法成立。希望政府部门监督物业公司履行物业服务合同。",
            ),
            (
                ["{xiaoqu}电梯长期故障，物业不维修"],
                "{xiaoqu}{n}栋电梯已停运{days}天，楼内老人上下楼困难，物业称维修资金无法动用，请求协调尽快修复。",
            ),
        ],
        {Kind.APPEAL: 3, Kind.HOTLINE_COMPLAINT: 4, Kind.SUGGESTION: 1},
    ),
    "CJ02": (
        [
            (
                ["{xiaoqu}新房出现墙体开裂渗水"],
                "本人于{year}年购买{developer}开发的{xiaoqu}商品房，交房不到{months}个月即出现墙体开裂、卫生间渗水，"
                "开发商拒不维修。请求住建部门组织质量鉴定并督促整改。",
            ),
            (
                ["反映{developer}开发的{xiaoqu}延期交房"],
                "{xiaoqu}项目合同约定{year}年{month}月交房，至今已延期{months}个月，{developer}既不交房也不支付违约金，"
                "涉及业主{many}余户。",
            ),
        ],
        {Kind.APPEAL: 4, Kind.HOTLINE_COMPLAINT: 2},
    ),
    "CJ03": (
        [
            (
                ["{road}早市占道经营影响通行", "建议规范{road}早市摊点"],
                "{road}与{road2}交叉口每天早上六点到九点有大量流动摊贩占道经营，车辆行人无法通行，垃圾遍地。请求加强管理。",
            ),
            (
                ["{road}商户占道经营、乱摆乱放"],
                "{road}沿街商户长期把货物摆到人行道上，{shop}门口还搭建遮阳棚，行人只能走机动车道，存在安全隐患。",
            ),
        ],
        {Kind.HOTLINE_COMPLAINT: 4, Kind.SUGGESTION: 1, Kind.HOTLINE_SUGGESTION: 1},
    ),
    "JY01": (
        [
            (
                ["孩子入学划片问题", "反映{school}入学划片不公"],
                "本人房产在{xiaoqu}，今年孩子上一年级被划到距离较远的学校，而同小区其他孩子被划入{school}。"
                "请求教育局说明划片依据并合理安排就近入学。",
            ),
            (
                ["{school}招生政策咨询", "咨询随迁子女入学所需材料"],
                "咨询{school}秋季招生报名时间、所需材料，以及随迁子女入学需要提供哪些证明。",
            ),
        ],
        {Kind.APPEAL: 3, Kind.HOTLINE_ENQUIRY: 3, Kind.SUGGESTION: 1},
    ),
    "JY02": (
        [
            (
                ["{school}违规收取课后服务费", "反映{school}课后服务强制参加"],
                "{school}以课后服务名义每学期向每名学生收取{term_fee}元费用，并要求必须参加，不参加的学生放学后不允许离校。"
                "家长们认为不合理，请求教育部门核查。",
            ),
            (
                ["{school}食堂饭菜质量差"],
                "{school}食堂饭菜分量少、质量差，孩子多次反映吃不饱，学校却每月收取伙食费{meal_fee}元，请求调查。",
            ),
        ],
        {Kind.APPEAL: 2, Kind.HOTLINE_COMPLAINT: 2, Kind.SUGGESTION: 1},
    ),
    "HB01": (
        [
            (
                ["{xiaoqu}附近工地夜间施工噪音扰民", "{builder}夜间施工噪音扰民"],
                "{xiaoqu}旁边的{builder}工地每天晚上十点以后还在施工，打桩机噪音很大，持续已有{days}天，"
                "严重影响居民休息。请求环保部门依法查处夜间施工噪音。",
            ),
            (
                ["{shop}噪音扰民", "反映{road}{shop}营业噪音大"],
                "{road}的{shop}每晚营业到凌晨两三点，音响噪音和顾客喧哗声严重扰民，楼上住户多次投诉仍未改善，"
                "请求处理噪音问题。",
            ),
        ],
        {Kind.HOTLINE_COMPLAINT: 5, Kind.APPEAL: 2},
    ),
    "HB02": (
        [
            (
                ["{village}附近工厂排放刺鼻废气", "{factory}夜间偷排废气"],
                "{village}村口的{factory}每到夜间就排放刺鼻废气，烟囱冒黑烟，周边村民出现咳嗽、头晕症状，"
                "庄稼也受到影响。请求环保部门检测处理。",
            ),
        ],
        {Kind.HOTLINE_REPORT: 2, Kind.APPEAL: 2, Kind.HOTLINE_COMPLAINT: 2},
    ),
    "WS01": (
        [
            (
                ["{hospital}诊疗过错致家属病情加重"],
                "本人家属于{year}年{month}月在{hospital}住院治疗，因诊断延误导致病情加重，医院拒绝承担责任，"
                "也不提供完整病历。请求卫健部门调查并组织医疗纠纷调解。",
            ),
            (
                ["对{hospital}收费有异议"],
                "本人在{hospital}住院{days}天，出院结算时发现多项检查重复收费，多收约{small_amount}元，请求核查退费。",
            ),
        ],
        {Kind.APPEAL: 4, Kind.HOTLINE_COMPLAINT: 2},
    ),
    "JT01": (
        [
            (
                ["出租车{plate}绕路", "投诉出租车{plate}不打表乱收费"],
                "{month}月{day}日晚，本人在{road}乘坐车牌号为{plate}的出租车，司机不打表、绕路行驶，要价{fare}元，"
                "远高于正常价格。请求交通运输部门查处。",
            ),
            (
                ["出租车{plate}拒载"],
                "{month}月{day}日下午在{road}路口拦乘{plate}出租车，司机询问目的地后以交班为由拒载，态度恶劣。",
            ),
        ],
        {Kind.HOTLINE_COMPLAINT: 5},
    ),
    "JT02": (
        [
            (
                ["{road}路面坑洼多年未修"],
                "{road}路段路面破损、坑洼积水已有{months}个月，多次发生电动车摔倒事故，请求尽快安排维修。",
            ),
            (
                ["{village}通村公路损毁严重"],
                "{village}通村水泥路被重型货车压坏，路面断裂，下雨天村民出行困难，请求交通部门修复。",
            ),
            (
                ["建议在{road}增设公交站点"],
                "{road}沿线新建了{xiaoqu}等多个小区，居民出行主要靠公交，但最近的站点要步行二十分钟，建议增设站点。",
            ),
        ],
        {Kind.HOTLINE_SUGGESTION: 2, Kind.APPEAL: 2, Kind.SUGGESTION: 2},
    ),
    "SM01": (
        [
            (
                ["{shop}预付卡不退费"],
                "本人在{shop}办理预付卡{small_amount}元，现商家关门停业，剩余金额无法退还，涉及消费者{many}余人。请求帮助维权。",
            ),
            (
                ["{employer}销售商品质量问题拒不退换"],
                "本人在{employer}购买的商品使用不到一个月即出现质量问题，商家拒绝退换，请求市场监管部门处理消费纠纷。",
            ),
        ],
        {Kind.HOTLINE_COMPLAINT: 4, Kind.HOTLINE_HELP: 1},
    ),
    "SM02": (
        [
            (
                ["举报{shop}使用过期食材", "{road}{shop}后厨卫生条件差"],
                "{road}的{shop}后厨卫生条件极差，使用过期食材，本人就餐后出现腹泻。请求市场监管部门检查处理。",
            ),
        ],
        {Kind.HOTLINE_REPORT: 4},
    ),
    "ZR01": (
        [
            (
                ["{village}征地补偿标准过低", "{project}项目征地补偿款未发放"],
                "{year}年{village}因修建{project}被征收土地，本户被征收耕地{mu}亩，补偿标准明显低于周边项目，"
                "且至今仍有{amount}元补偿款未发放。请求公开征地批文和补偿标准，依法足额补偿。",
            ),
            (
                ["反映{village}拆迁安置房迟迟未交付"],
                "{village}拆迁已过去{years}年，安置房至今未交付，村民在外租房，过渡费也停发了{months}个月，请求尽快安置。",
            ),
        ],
        {Kind.APPEAL: 6},
    ),
    "ZF01": (
        [
            (
                ["{road}夜间有人聚众赌博"],
                "{road}一出租屋内每天夜间有人聚众赌博，人员进出频繁，影响周边治安，请求公安机关查处。",
            ),
            (
                ["反映{xiaoqu}电动车多次被盗"],
                "{xiaoqu}近{months}个月来电动车被盗{many}余辆，报警后一直没有结果，请求加强巡逻、增设监控。",
            ),
        ],
        {Kind.HOTLINE_HELP: 2, Kind.APPEAL: 2, Kind.HOTLINE_REPORT: 1},
    ),
    "MZ01": (
        [
            (
                ["申请低保被拒", "请求重新审核低保申请"],
                "本人家住{village}，丈夫因病去世，本人患有慢性病，家庭无固定收入，申请低保被以有房产为由拒绝，请求重新审核。",
            ),
            (
                ["{village}低保评定不公"],
                "{village}有些条件好的家庭享受低保，真正困难的群众却评不上，请求核查低保评定是否公平。",
            ),
            (
                ["咨询临时救助申请条件"],
                "家中老人突发重病，医疗费用负担很重，想咨询临时救助的申请条件、所需材料和办理地点。",
            ),
        ],
        {Kind.APPEAL: 3, Kind.HOTLINE_HELP: 2, Kind.HOTLINE_ENQUIRY: 1},
    ),
    "JJ01": (
        [
            (
                ["反映{unit}工作人员{person}吃拿卡要"],
                "{unit}工作人员{person}在办理业务中多次暗示群众送礼，不送礼就以材料不全为由拖延办理。"
                "本人掌握转账记录等证据，请求调查处理。",
            ),
            (
                ["举报{unit}{person}优亲厚友", "反映{unit}{person}违规发放补助"],
                "{unit}{person}在补助资金发放中优亲厚友，将补助给予其亲属，群众意见很大，请求纪委监委调查。",
            ),
            (
                ["反映{unit}{person}违规收费"],
                "{unit}{person}在办理相关手续时违规收取费用{small_amount}元，不开具任何票据，请求依纪依法查处。",
            ),
        ],
        {Kind.ACCUSATION: 6},
    ),
}
CATEGORY_WEIGHTS = {
    "LD01": 14,
    "LD02": 5,
    "CJ01": 12,
    "CJ02": 5,
    "CJ03": 4,
    "JY01": 6,
    "JY02": 3,
    "HB01": 9,
    "HB02": 3,
    "WS01": 4,
    "JT01": 4,
    "JT02": 3,
    "SM01": 5,
    "SM02": 3,
    "ZR01": 6,
    "ZF01": 3,
    "MZ01": 4,
    "JJ01": 3,
}
LOCAL_CATEGORIES = {"CJ03", "MZ01"}
CO_HANDLER_UNITS = ["rs", "zj", "zr", "sj", "wj", "jt", "hb", "mz", "cg", "ga"]
ACCUSABLE_UNITS = [
    "rs",
    "jy",
    "zj",
    "zr",
    "sj",
    "wj",
    "jt",
    "hb",
    "mz",
    "cg",
    "chengguan",
    "xishan",
    "nanhe",
]
TOWN_PLACES = ["chengguan", "donghu", "beiling", "xishan", "qingshi", "nanhe"]

REPLY_TEXTS = {
    Outcome.SUPPORTED: [
        "经调查核实，您反映的问题基本属实，我单位已责令相关责任方限期整改，并将持续跟踪落实情况。",
        "经核查，您的诉求符合相关政策规定，予以支持，相关事项将于近期落实到位。",
    ],
    Outcome.EXPLAINED: [
        "经调查，相关事项已依法依规处理，我单位已向您当面解释有关政策规定，如仍有疑问可来电咨询。",
        "经核实，相关事项已按现行政策办理，现将政策依据和办理情况答复如下，请予理解。",
    ],
    Outcome.NOT_SUPPORTED: [
        "经调查核实，您的诉求缺乏事实和政策依据，不予支持。如不服，可自收到本意见之日起30日内申请复查。"
    ],
}
REVIEW_TEXTS = {
    Outcome.SUPPORTED: "经复查，原处理意见认定事实不清，责成原办理单位重新办理并答复。",
    Outcome.EXPLAINED: "经复查，原处理意见认定事实清楚、适用政策正确，予以维持，并已向信访人解释说明。",
    Outcome.NOT_SUPPORTED: "经复查，信访人的请求缺乏依据，不予支持，原处理意见予以维持。",
}
REVIEW_REASONS = [
    "对处理意见不服，认为补偿金额计算有误",
    "原处理意见没有解决实际问题",
    "办理单位未认真调查核实",
    "对事实认定有异议",
]
EXTEND_REASONS = ["案情复杂，需进一步调查核实", "涉及多个部门，需协调会商", "需等待相关鉴定结论"]
DECLINE_REASONS = [
    ("该事项已进入诉讼程序，属于人民法院受理范围", "向人民法院提起诉讼"),
    ("该事项属于劳动人事争议，应通过仲裁途径解决", "向示范县劳动人事争议仲裁委员会申请仲裁"),
    ("该事项属于行政复议范围", "向示范县人民政府申请行政复议"),
]
NAA_REASON = "该信访事项已经处理终结，信访人以同一事实和理由再次提出，依法不再受理。"
RATE_COMMENTS = {
    Rating.SATISFIED: ["处理及时，感谢！", "问题已解决，满意。", ""],
    Rating.BASICALLY: ["基本解决了问题。", ""],
    Rating.UNSATISFIED: ["问题没有真正解决。", "答复敷衍。"],
}
URGE_NOTE = "该事项已超期，请抓紧办理并于3个工作日内反馈进展。"

STATE_WEIGHTS: list[tuple[str, float]] = [
    (S.REGISTERED, 3),
    (S.ROUTED, 4),
    (S.ACCEPTED, 13),
    (S.REPLIED, 8),
    (S.REVIEWING, 2),
    (S.REVIEWED, 1.5),
    (S.REREVIEWING, 1),
    (S.DECLINED, 4),
    (S.NOT_ACCEPTED_AGAIN, 1.5),
    (S.FINAL, 62),
]
# The first matters of a run take every state in turn; these of them are overdue / due soon.
FORCED_BUCKETS = {0: "overdue", 1: "due_soon", 2: "overdue", 4: "due_soon"}
HOTLINE_STATES = {S.REGISTERED, S.ROUTED, S.ACCEPTED, S.REPLIED, S.FINAL, S.DECLINED}


def _cum(weights):
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


class Weighted:
    """A weighted choice, precomputed (much cheaper than `random.choices` per call)."""

    def __init__(self, options: dict) -> None:
        self.values = list(options)
        self.cum = _cum(options.values())

    def pick(self, rng: random.Random):
        return self.values[bisect.bisect(self.cum, rng.random() * self.cum[-1])]


def _ri(rng: random.Random, lo: int, hi: int) -> int:
    """A whole number in [lo, hi] (like `randint`, at a fraction of its cost)."""
    return lo + int(rng.random() * (hi - lo + 1))


def _one(rng: random.Random, seq):
    return seq[int(rng.random() * len(seq))]


PETITION_CHANNELS = Weighted(
    {Channel.ONLINE: 45, Channel.LETTER: 15, Channel.VISIT: 30, Channel.PHONE: 8, Channel.FAX: 2}
)
KIND_CHOICES = {code: Weighted(kinds) for code, (_, kinds) in TEMPLATES.items()}
REPLY_OUTCOMES = Weighted({Outcome.SUPPORTED: 35, Outcome.EXPLAINED: 40, Outcome.NOT_SUPPORTED: 25})
REVIEW_OUTCOMES = Weighted(
    {Outcome.SUPPORTED: 15, Outcome.EXPLAINED: 60, Outcome.NOT_SUPPORTED: 25}
)
REREVIEW_OUTCOMES = Weighted(
    {Outcome.SUPPORTED: 10, Outcome.EXPLAINED: 65, Outcome.NOT_SUPPORTED: 25}
)
RATINGS = Weighted({Rating.SATISFIED: 60, Rating.BASICALLY: 25, Rating.UNSATISFIED: 15})
FINAL_VARIANTS = Weighted({"window": 80, "review_window": 10, "rereview": 10})
_STATE_NAMES = [s for s, _ in STATE_WEIGHTS]
_STATE_CUM = _cum(w for _, w in STATE_WEIGHTS)
_CAT_NAMES = list(CATEGORY_WEIGHTS)
_CAT_CUM = _cum(CATEGORY_WEIGHTS.values())


class _Slots(dict):
    """Template slots, each drawn once per matter so title and content agree."""

    def __init__(self, rng: random.Random, **fixed: str) -> None:
        super().__init__(fixed)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = self[key] = FILLERS[key](self.rng)
        return value


def id_number(rng: random.Random, born: int | None = None) -> str:
    """A resident ID number (居民身份证号码) with a valid region, birth date and check digit."""
    year = born or _ri(rng, 1950, 2004)
    birth = dt.date(year, 1, 1) + dt.timedelta(days=_ri(rng, 0, 364))
    body = f"{_one(rng, ID_REGIONS)}{birth:%Y%m%d}{_ri(rng, 1, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def mobile(rng: random.Random) -> str:
    return f"{_one(rng, MOBILE_PREFIXES)}{_ri(rng, 0, 99999999):08d}"


def person_name(rng: random.Random) -> str:
    return _one(rng, SURNAMES) + _one(rng, GIVEN_NAMES)


# ---------------------------------------------------------------- the plan of one matter


@dataclass
class Step:
    """One step of a matter's life: a workflow action (or "register"), who takes it, when."""

    action: str
    gap: int = 0  # days after the previous step
    actor: str = (
        ""  # clerk | handler | head | citizen | reviewer | rereviewer | supervisor | system
    )
    params: dict[str, Any] = field(default_factory=dict)
    optional: bool = False
    day: int = 0  # days before today
    at: dt.datetime | None = None


@dataclass
class Plan:
    index: int
    state: str
    kind: str
    channel: str
    category: str
    place: str
    lead: str
    steps: list[Step]
    rng: random.Random
    prior: int | None = None
    anchor: int = 0  # the step where the clock now running started
    title: str = ""
    content: str = ""
    petitioner: services.Petitioner = field(default_factory=services.Petitioner)
    group_size: int = 1
    representatives: list[dict[str, str]] = field(default_factory=list)
    accused_unit: str | None = None
    accused_person: str = ""

    @property
    def registered_at(self) -> dt.datetime:
        return self.steps[0].at

    @property
    def closed_at(self) -> dt.datetime | None:
        return (
            self.steps[-1].at if self.state in {S.FINAL, S.DECLINED, S.NOT_ACCEPTED_AGAIN} else None
        )


class Clocks:
    """The clock functions of `services` with the calendar and due dates memoised."""

    def __init__(self) -> None:
        self.rules = clock_rules()
        self.calendar = work_calendar()  # its library look-ups are cached per date
        self.warn = dt.timedelta(days=settings.XINFANG_DUE_SOON_DAYS)
        self._due: dict[tuple, dt.datetime] = {}

    def due(self, start: dt.datetime, length: int, kind: clocks.DayKind) -> dt.datetime:
        if kind is clocks.DayKind.HOURS:
            return start + dt.timedelta(hours=length)
        key = (clocks.local_date(start), length, kind)
        found = self._due.get(key)
        if found is None:
            found = self._due[key] = clocks.due_at(start, length, kind, self.calendar)
        return found

    @staticmethod
    def set_due(case) -> None:
        """`services._set_due` itself, so the demo's due times are the system's by construction."""
        services._set_due(case)

    @staticmethod
    def enter_state(case, state: str, at: dt.datetime) -> None:
        services._enter_state(case, state, at)

    def calendar_days(self, clock: str, extension: int = 0) -> int:
        """About how many calendar days a clock runs (for choosing ages)."""
        rule = self.rules[clock]
        length = rule.length + extension
        return length * 7 // 5 + 1 if rule.kind is clocks.DayKind.WORKING else length


class Planner:
    """Plans matter `i` of a run, deterministically from (seed, i) and the moment `now`."""

    def __init__(self, org: DemoOrg, *, seed: int, now: dt.datetime, total: int) -> None:
        self.org = org
        self.seed = seed
        self.now = timezone.localtime(now, LOCAL).replace(second=0, microsecond=0)
        self.today = self.now.date()
        self.now_minute = self.now.hour * 60 + self.now.minute
        self.total = total
        self.clocks = Clocks()
        self.parent = {k: _key_of(org, u.parent_id) for k, u in org.units.items()}
        self.naa: dict[int, tuple[int, int] | None] = {}

    def rng(self, index: int) -> random.Random:
        return random.Random((self.seed << 32) + index)

    # -- the skeleton: type, route, states and times

    def skeleton(self, index: int, *, pending_ok: bool = False) -> Plan | None:
        rng = self.rng(index)
        if index < len(_STATE_NAMES) and self.total >= len(_STATE_NAMES):
            state = _STATE_NAMES[index]  # every state at least once
        else:
            state = _STATE_NAMES[bisect.bisect(_STATE_CUM, rng.random() * _STATE_CUM[-1])]
        category = _CAT_NAMES[bisect.bisect(_CAT_CUM, rng.random() * _CAT_CUM[-1])]
        kind = KIND_CHOICES[category].pick(rng)
        prior = None
        if state == S.NOT_ACCEPTED_AGAIN:
            if index not in self.naa:
                if pending_ok:
                    return None
                raise KeyError(index)
            chosen = self.naa[index]
            if chosen is None:
                state = S.DECLINED
            else:
                prior = chosen[0]
        if state not in HOTLINE_STATES or prior is not None:
            kind = Kind.ACCUSATION if category == "JJ01" else Kind.APPEAL
        hotline = kind in HOTLINE_KINDS
        if hotline:
            channel = Channel.PHONE if rng.random() < 0.85 else Channel.ONLINE
        else:
            channel = PETITION_CHANNELS.pick(rng)
        if category in LOCAL_CATEGORIES or rng.random() < 0.5:
            place = _one(rng, TOWN_PLACES)
        else:
            place = "county"
        lead = self.org.lead_for(category, place)
        if lead == "jy" and rng.random() < 0.2:
            lead = _one(rng, ["school1", "school2"])
        plan = Plan(
            index=index,
            state=state,
            kind=kind,
            channel=channel,
            category=category,
            place=place,
            lead=lead,
            steps=[],
            rng=rng,
            prior=prior,
        )
        if prior is not None:
            base = self.skeleton(prior)
            plan.category, plan.place, plan.lead, plan.kind = (
                base.category,
                base.place,
                base.lead,
                base.kind,
            )
            plan.channel = base.channel
        if kind == Kind.ACCUSATION:
            plan.accused_unit = _one(rng, [u for u in ACCUSABLE_UNITS if u != lead])
        self._steps(plan, rng)
        if prior is not None:
            self._place_after_prior(plan, rng, self.naa[index][1])
        else:
            self._place_in_time(plan, rng)
        self._times(plan, rng)
        return plan

    def _steps(self, plan: Plan, rng: random.Random) -> None:
        """The steps that lead to the planned state, with gaps in days; marks the anchor."""
        state, hotline = plan.state, plan.kind in HOTLINE_KINDS
        citizen = "citizen"
        steps = plan.steps
        steps.append(Step("register", actor="clerk" if plan.channel != Channel.ONLINE else citizen))

        def add(action: str, gap: int, actor: str, optional: bool = False, **params) -> Step:
            step = Step(action, gap, actor, params, optional)
            steps.append(step)
            return step

        def route_gap() -> int:
            if hotline:
                return 0 if rng.random() < 0.9 else 1
            return _ri(rng, 16, 25) if rng.random() < 0.05 else _ri(rng, 0, 7)

        def route(gap: int, unit: str) -> Step:
            co: list[str] = []
            mode, days = RouteMode.TRANSFER, None
            if not hotline and plan.kind != Kind.ACCUSATION and rng.random() < 0.08:
                co = [_one(rng, [u for u in CO_HANDLER_UNITS if u != unit])]
            if not hotline and rng.random() < 0.2:
                mode, days = RouteMode.ASSIGN, _one(rng, [15, 30, 60])
            note = (
                "请于规定期限内办结并报送办结报告。"
                if mode == RouteMode.ASSIGN
                else "请依法依规办理，并直接答复信访人。"
            )
            return add(
                "route",
                gap,
                "clerk",
                unit=unit,
                mode=mode,
                co_units=co,
                assign_days=days,
                note=note,
            )

        def detour() -> None:
            wrong = _one(
                rng, [u for u in CO_HANDLER_UNITS if u not in {plan.lead, plan.accused_unit}]
            )
            route(route_gap(), wrong)
            lead_name = self.org.units[plan.lead].name
            add(
                "object",
                _ri(rng, 1, 4),
                "handler",
                reason=f"该事项不属于本单位职责范围，建议转{lead_name}办理",
            )

        plan.anchor = 0
        if plan.prior is not None:
            if rng.random() < 0.5:
                route(_ri(rng, 1, 7), plan.lead)
                add("not_accept_again", _ri(rng, 1, 10), "handler", reason=NAA_REASON)
            else:
                add("not_accept_again", _ri(rng, 1, 10), "clerk", reason=NAA_REASON)
            return
        if state == S.REGISTERED:
            if not hotline and rng.random() < 0.2:
                detour()
            return
        if state == S.DECLINED:
            reason, channel = _one(rng, DECLINE_REASONS)
            if rng.random() < 0.5:
                add("decline", _ri(rng, 1, 10), "clerk", reason=reason, proper_channel=channel)
            else:
                route(route_gap(), plan.lead)
                add("decline", _ri(rng, 2, 10), "handler", reason=reason, proper_channel=channel)
            plan.anchor = len(steps) - 1
            return
        if not hotline and rng.random() < 0.03:
            detour()
        route(route_gap() if len(steps) == 1 else _ri(rng, 0, 3), plan.lead)
        plan.anchor = len(steps) - 1
        if state == S.ROUTED:
            return
        accept_gap = (
            (0 if rng.random() < 0.8 else 1)
            if hotline
            else (_ri(rng, 16, 22) if rng.random() < 0.05 else _ri(rng, 1, 10))
        )
        add("accept", accept_gap, "handler", optional=False)
        if not hotline:
            plan.anchor = len(steps) - 1
        extended = not hotline and rng.random() < 0.12
        if extended:
            add(
                "extend",
                _ri(rng, 45, 58),
                "head",
                optional=state == S.ACCEPTED,
                days=_one(rng, [15, 30, 30]),
                reason=_one(rng, EXTEND_REASONS),
            )
        if state == S.ACCEPTED:
            return
        if hotline:
            lo, hi = {Kind.HOTLINE_ENQUIRY: (0, 2)}.get(plan.kind, (1, 14))
            reply_gap = _ri(rng, hi + 3, hi + 12) if rng.random() < 0.08 else _ri(rng, lo, hi)
        elif extended:
            reply_gap = _ri(rng, 3, 25)
        else:
            reply_gap = _ri(rng, 61, 75) if rng.random() < 0.06 else _ri(rng, 10, 58)
        outcome = REPLY_OUTCOMES.pick(rng)
        add("reply", reply_gap, "handler", outcome=outcome, text=_one(rng, REPLY_TEXTS[outcome]))
        plan.anchor = len(steps) - 1
        variant = "window"
        if state == S.FINAL and not hotline:
            variant = FINAL_VARIANTS.pick(rng)
        goes_to_review = state in {S.REVIEWING, S.REVIEWED, S.REREVIEWING} or variant != "window"
        rate_gap = 0
        if rng.random() < (0.85 if hotline else 0.65):
            rating = Rating.UNSATISFIED if goes_to_review else RATINGS.pick(rng)
            rate_gap = _ri(rng, 1, 3) if hotline else _ri(rng, 1, 10)
            add(
                "rate",
                rate_gap,
                citizen,
                optional=not goes_to_review,
                rating=rating,
                comment=_one(rng, RATE_COMMENTS[rating]),
            )
        if not goes_to_review:
            if state == S.FINAL:
                add("finalize", 0, "system")
            return
        add(
            "request_review",
            _ri(rng, 1, 15) if rate_gap else _ri(rng, 3, 25),
            citizen,
            reason=_one(rng, REVIEW_REASONS),
        )
        plan.anchor = len(steps) - 1
        if state == S.REVIEWING:
            return
        outcome = REVIEW_OUTCOMES.pick(rng)
        add(
            "decide_review",
            _ri(rng, 31, 40) if rng.random() < 0.05 else _ri(rng, 10, 29),
            "reviewer",
            outcome=outcome,
            text=REVIEW_TEXTS[outcome],
        )
        plan.anchor = len(steps) - 1
        if state == S.REVIEWED or variant == "review_window":
            if variant == "review_window":
                add("finalize", 0, "system")
            return
        add("request_rereview", _ri(rng, 3, 25), citizen, reason=_one(rng, REVIEW_REASONS))
        plan.anchor = len(steps) - 1
        if state == S.REREVIEWING:
            return
        outcome = REREVIEW_OUTCOMES.pick(rng)
        add(
            "decide_rereview",
            _ri(rng, 10, 29),
            "rereviewer",
            outcome=outcome,
            text=REVIEW_TEXTS[outcome].replace("复查", "复核"),
        )
        plan.anchor = len(steps) - 1

    def _anchor_age(self, plan: Plan, rng: random.Random, before: int) -> int:
        """Days between the anchor step (where the current clock starts) and today."""
        state, hotline = plan.state, plan.kind in HOTLINE_KINDS
        longest = max(1, HISTORY_DAYS - before)
        if state in {S.REPLIED, S.REVIEWED}:
            return _ri(rng, 0, 25)
        if state == S.FINAL and plan.steps[-1].action == "finalize":
            return _ri(rng, 45, max(45, longest))
        if state in {S.FINAL, S.DECLINED}:
            return _ri(rng, 0, longest)
        clock = STATE_CLOCK[state]
        if hotline and clock in {"accept", "handle"}:
            clock = plan.kind
        extension = sum(s.params.get("days", 0) for s in plan.steps if s.action == "extend")
        length = self.clocks.calendar_days(clock, extension)
        draw = rng.random()
        bucket = FORCED_BUCKETS.get(plan.index) if self.total >= len(_STATE_NAMES) else None
        if bucket == "overdue" or (bucket is None and draw < 0.18):
            return length + _ri(rng, 2, 90)
        if bucket == "due_soon" or (bucket is None and draw < 0.33):
            return max(0, length - _ri(rng, 0, 2))
        return _ri(rng, 0, max(0, length - 5))

    def _place_in_time(self, plan: Plan, rng: random.Random) -> None:
        """Give each step its day (days before today), working back and forth from the anchor."""
        steps, anchor = plan.steps, plan.anchor
        before = sum(s.gap for s in steps[1 : anchor + 1])
        steps[anchor].day = self._anchor_age(plan, rng, before)
        for k in range(anchor, 0, -1):
            steps[k - 1].day = steps[k].day + steps[k].gap
        keep = anchor + 1
        for k in range(anchor + 1, len(steps)):
            step = steps[k]
            day = steps[k - 1].day - step.gap
            if day < 0 and step.optional:
                break
            step.day = max(0, day)
            keep = k + 1
        if keep < len(steps) and steps[-1].action == "finalize":
            steps[keep:-1] = []
        else:
            del steps[keep:]

    def _place_after_prior(self, plan: Plan, rng: random.Random, prior_day: int) -> None:
        """不再受理: the new submission comes after the earlier matter became final."""
        steps = plan.steps
        after = sum(s.gap for s in steps[1:])
        latest = prior_day - 3
        steps[0].day = _ri(rng, max(after, latest - 180), max(after, latest))
        for k in range(1, len(steps)):
            steps[k].day = max(0, steps[k - 1].day - steps[k].gap)

    def _times(self, plan: Plan, rng: random.Random) -> None:
        """Times of day: offices work 8:30–17:30; online and 12345 submissions come 7:00–23:00."""
        previous_day, previous_minute = None, 0
        for k, step in enumerate(plan.steps):
            if step.action == "finalize":
                continue
            if k == 0 and (plan.channel == Channel.ONLINE or plan.kind in HOTLINE_KINDS):
                lo, hi = 420, 1380
            else:
                lo, hi = 510, 1050
            if step.day == previous_day:
                lo = max(lo, previous_minute)
                hi = max(hi, lo)
            if step.day == 0:
                hi = min(hi, self.now_minute)
                lo = min(lo, hi)
            minute = _ri(rng, lo, hi)
            day = self.today - dt.timedelta(days=step.day)
            step.at = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=LOCAL)
            previous_day, previous_minute = step.day, minute
        if plan.steps[-1].action == "finalize":
            self._finalize_time(plan, rng)

    def _finalize_time(self, plan: Plan, rng: random.Random) -> None:
        """期满终结 runs just after the petitioner's window closes (the worker's night run)."""
        opener = next(s for s in reversed(plan.steps) if s.action in {"reply", "decide_review"})
        rule = self.clocks.rules[
            "review_request" if opener.action == "reply" else "rereview_request"
        ]
        due = self.clocks.due(opener.at, rule.length, rule.kind)
        plan.steps[-1].at = min(due + dt.timedelta(minutes=_ri(rng, 1, 90)), self.now)

    # -- the rest of the plan: words and people

    def plan(self, index: int) -> Plan:
        plan = self.skeleton(index)
        rng = plan.rng
        if plan.prior is not None:
            self._copy_prior(plan)
            return plan
        stories, _ = TEMPLATES[plan.category]
        fixed = {}
        if plan.accused_unit:
            unit = self.org.units[plan.accused_unit]
            posts = TOWN_POSTS if unit.kind == unit.Kind.TOWN else DEPARTMENT_POSTS
            fixed = {"unit": unit.name, "person": f"{_one(rng, SURNAMES)}某{_one(rng, posts)}"}
        slots = _Slots(rng, **fixed)
        titles, content = _one(rng, stories)
        plan.title = _one(rng, titles).format_map(slots)
        plan.content = content.format_map(slots)
        if plan.accused_unit:
            plan.accused_person = slots["person"]
        elif plan.kind == Kind.HOTLINE_COMPLAINT and rng.random() < 0.3:
            plan.accused_person = next(
                (slots[k] for k in ("property_co", "builder", "shop", "employer") if k in slots), ""
            )
        plan.petitioner = self._petitioner(plan, rng)
        if plan.channel == Channel.VISIT and plan.kind == Kind.APPEAL and rng.random() < 0.15:
            plan.group_size = _ri(rng, 5, 60)
            plan.representatives = [
                {"name": person_name(rng), "id_number": id_number(rng), "phone": mobile(rng)}
                for _ in range(_ri(rng, 1, 5))
            ]
        return plan

    def _petitioner(self, plan: Plan, rng: random.Random) -> services.Petitioner:
        anonymous_share = {
            Kind.SUGGESTION: 0.35,
            Kind.ACCUSATION: 0.35,
            Kind.HOTLINE_REPORT: 0.35,
            Kind.HOTLINE_ENQUIRY: 0.1,
            Kind.HOTLINE_SUGGESTION: 0.1,
        }.get(plan.kind, 0)
        if rng.random() < anonymous_share:
            phone = mobile(rng) if plan.channel == Channel.PHONE and rng.random() < 0.5 else ""
            return services.Petitioner(phone=phone, anonymous=True)
        id_share = {Channel.VISIT: 0.95, Channel.ONLINE: 0.7, Channel.LETTER: 0.5, Channel.FAX: 0.5}
        town = _one(rng, TOWNS)
        if rng.random() < 0.5:
            address = f"示范县{town}{_one(rng, XIAOQU)}{_ri(rng, 1, 30)}栋{_ri(rng, 1, 4)}单元{_ri(rng, 101, 2604)}室"
        else:
            address = f"示范县{town}{_one(rng, VILLAGES)}{_ri(rng, 1, 12)}组{_ri(rng, 1, 99)}号"
        has_phone = rng.random() < 0.95
        return services.Petitioner(
            name=person_name(rng),
            id_number=id_number(rng) if rng.random() < id_share.get(plan.channel, 0.25) else "",
            phone=mobile(rng) if has_phone else "",
            address=address if (rng.random() < 0.6 or not has_phone) else "",
        )

    def _copy_prior(self, plan: Plan) -> None:
        prior = self.plan(plan.prior)
        plan.title = f"再次反映：{prior.title}"[:120]
        plan.content = f"{prior.content}此前已反映过，对处理结果仍不满意，再次请求解决。"
        plan.petitioner = prior.petitioner
        plan.accused_unit, plan.accused_person = prior.accused_unit, prior.accused_person

    # -- choosing the earlier matters that 不再受理 refers to

    def choose_priors(self, pending: list[int], finals: list[tuple[int, int]]) -> None:
        """For each pending 不再受理 matter pick a final matter of some weeks before (or none)."""
        candidates = [(day, index) for day, index in finals if day >= 25]
        for index in pending:
            rng = random.Random((self.seed << 32) + index + (1 << 31))
            self.naa[index] = _one(rng, candidates)[::-1] if candidates else None


def _key_of(org: DemoOrg, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    for key, unit in org.units.items():
        if unit.pk == unit_id:
            return key
    return None


# ---------------------------------------------------------------- carrying out a plan in memory


_CASE_FIELDS = [f for f in Case._meta.concrete_fields if not f.primary_key]
_CASE_DEFAULTS = {f.attname: f.get_default() for f in _CASE_FIELDS}


class _Row:
    """A matter's row in memory: the attributes of `Case`, without the model's overhead."""

    pk = None  # not saved yet: `services._set_due` then reads no recorded pauses

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(_CASE_DEFAULTS)
        self.__dict__.update(values)


def _row(**values: Any) -> Any:
    return _Row(**values)


@dataclass
class Built:
    """A matter computed in memory: the row, its timeline and what hangs off it."""

    plan: Plan
    case: Any  # a _Row with the attributes of Case
    events: list[tuple[str, dt.datetime, int | None, int | None, bool, dict]]
    co_units: list[int]


class Builder:
    """Carries out plans the way `services` does, without the database."""

    def __init__(self, planner: Planner, *, remember: bool = True) -> None:
        self.planner = planner
        self.remember = remember  # keep every number (else only those set from outside)
        self.org = planner.org
        self.clocks = planner.clocks
        self.unit_ids = {k: u.pk for k, u in self.org.units.items()}
        self.unit_names = {k: u.name for k, u in self.org.units.items()}
        self.numbers: dict[int, tuple[str, int | None]] = {}  # plan index -> (number, pk)

    def actor(self, plan: Plan, step: Step, lead: str | None, review: str | None):
        """The user who takes `step` (None for the petitioner online and for the system)."""
        org = self.org
        role = step.actor
        if role == "citizen":
            return None if plan.channel == Channel.ONLINE else org.users["clerk"]
        if role == "clerk":
            return org.users["clerk"]
        if role == "handler":
            return org.officer_of(lead)
        if role == "head":
            return org.head_of(lead)
        if role == "reviewer":
            return org.reviewer_of(review)
        if role == "rereviewer":
            return org.reviewer_of(self.planner.parent[review])
        if role == "supervisor":
            return org.users["supervisor"]
        return None

    def build(self, plan: Plan, year: int, seq: int) -> Built:
        org, c = self.org, self.clocks
        office = org.office
        p = plan.petitioner
        register = plan.steps[0]
        by = self.actor(plan, register, None, None)
        case = _row(
            office_id=office.pk,
            year=year,
            seq=seq,
            number=services.case_number(office, year, seq),
            channel=plan.channel,
            kind=plan.kind,
            title=plan.title.strip()[:120],
            content=plan.content.strip(),
            place_id=org.places[plan.place].pk,
            category_id=org.categories[plan.category].pk,
            anonymous=p.anonymous,
            petitioner_name="" if p.anonymous else p.name.strip(),
            petitioner_id_number=p.id_number,
            petitioner_phone=p.phone,
            petitioner_address=p.address.strip(),
            group_size=plan.group_size,
            accused_unit_id=self.unit_ids.get(plan.accused_unit),
            accused_person=plan.accused_person.strip(),
            registered_at=register.at,
            created_by_id=by.pk if by else None,
        )
        c.enter_state(case, S.REGISTERED, register.at)
        events = [
            (
                "case.registered",
                register.at,
                by.pk if by else None,
                by.unit_id if by else None,
                True,
                {"channel": plan.channel, "case_kind": plan.kind},
            )
        ]
        built = Built(plan, case, events, [])
        state = {"lead": None, "review": None}
        for step in plan.steps[1:]:
            self._apply(built, step, state)
        self._maybe_urge(built, state)
        if self.remember:
            self.numbers[plan.index] = (case.number, None)
        return built

    def _apply(self, built: Built, step: Step, state: dict) -> None:
        plan, case, at, p = built.plan, built.case, step.at, step.params
        action = ACTIONS[step.action]
        by = self.actor(plan, step, state["lead"], state["review"])
        on_time = case.due_at is None or at <= case.due_at
        details: dict[str, Any] = {"on_time": on_time}
        name = step.action
        if name == "route":
            unit = p["unit"]
            case.lead_unit_id, case.route_mode, case.routed_at = self.unit_ids[unit], p["mode"], at
            case.report_required = p["mode"] == RouteMode.ASSIGN
            case.review_unit_id = case.rereview_unit_id = None
            days = p["assign_days"]
            case.assign_due_at = (
                self.clocks.due(at, days, clocks.DayKind.CALENDAR) if days else None
            )
            rule = self.clocks.rules["object"]
            case.object_due_at = self.clocks.due(at, rule.length, rule.kind)
            built.co_units = [self.unit_ids[u] for u in p["co_units"]]
            state["lead"] = unit
            details.update(
                unit=self.unit_names[unit],
                unit_id=self.unit_ids[unit],
                mode=p["mode"],
                co_units=[self.unit_names[u] for u in p["co_units"]],
                assign_days=days,
                note=p["note"],
            )
        elif name == "object":
            details.update(unit=self.unit_names[state["lead"]], reason=p["reason"])
            case.lead_unit_id = case.routed_at = case.object_due_at = case.assign_due_at = None
            built.co_units = []
            state["lead"] = None
        elif name == "accept":
            case.accepted_at = at
            details["unit"] = self.unit_names[state["lead"]] if state["lead"] else ""
        elif name == "decline":
            case.closed_at = at
            details.update(reason=p["reason"], proper_channel=p["proper_channel"])
        elif name == "not_accept_again":
            number, pk = self.numbers[plan.prior]
            case.closed_at, case.linked_to_id = at, pk
            details.update(prior=number, reason=p["reason"])
        elif name == "extend":
            old_due = case.due_at
            case.extension_days = p["days"]
            self.clocks.set_due(case)
            details.update(
                days=p["days"],
                reason=p["reason"],
                old_due=services._iso(old_due),
                new_due=services._iso(case.due_at),
            )
        elif name == "reply":
            case.outcome, case.replied_at = p["outcome"], at
            details.update(outcome=p["outcome"], text=p["text"])
        elif name == "rate":
            case.rating = p["rating"]
            details.update(rating=p["rating"], comment=p["comment"])
        elif name == "request_review":
            state["review"] = self.planner.parent[state["lead"]]
            case.review_unit_id = self.unit_ids[state["review"]]
            details.update(reason=p["reason"], review_unit=self.unit_names[state["review"]])
        elif name == "decide_review":
            case.review_outcome = p["outcome"]
            details.update(outcome=p["outcome"], text=p["text"])
        elif name == "request_rereview":
            above = self.planner.parent[state["review"]]
            case.rereview_unit_id = self.unit_ids[above]
            details.update(reason=p["reason"], rereview_unit=self.unit_names[above])
        elif name == "decide_rereview":
            case.rereview_outcome, case.closed_at = p["outcome"], at
            details.update(outcome=p["outcome"], text=p["text"])
        elif name == "finalize":
            case.closed_at = at
            details["window"] = case.clock
        elif name == "urge":
            details["note"] = p["note"]
        if action.target is not None:
            self.clocks.enter_state(case, action.target, at)
        case.version += 1
        built.events.append(
            (
                action.event,
                at,
                by.pk if by else None,
                by.unit_id if by else None,
                name not in {"object", "urge"},
                details,
            )
        )

    def _maybe_urge(self, built: Built, state: dict) -> None:
        """催办: a supervisor urges most matters whose office clock has run out."""
        case, plan = built.case, built.plan
        now = self.planner.now
        if case.due_at is None or case.due_at > now or case.clock in CITIZEN_WINDOWS:
            return
        rng = plan.rng
        if rng.random() >= 0.6:
            return
        last = built.events[-1][1]
        start = max(case.due_at, last)
        minutes = int((now - start).total_seconds() // 60)
        if minutes < 1:
            return
        at = start + dt.timedelta(minutes=_ri(rng, 1, min(minutes, 7 * 1440)))
        step = Step("urge", actor="supervisor", params={"note": URGE_NOTE}, at=at)
        plan.steps.append(step)
        self._apply(built, step, state)


# ---------------------------------------------------------------- the run


@dataclass
class Result:
    created: int
    path: str
    seconds: float
    states: Counter
    overdue: int
    due_soon: int


Progress = Callable[[int, int, float], None]


def generate(
    *,
    cases: int,
    seed: int = 2026,
    now: dt.datetime | None = None,
    use_bulk: bool | None = None,
    org: DemoOrg | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Result:
    """Generate `cases` demo matters.

    `use_bulk` None: the services up to SERVICE_PATH_MAX matters, the bulk path above.
    `workers`: processes that plan and build matters for the bulk path while this one writes
    (None: one per CPU for large runs; 0: all in this process). The data do not depend on it.
    """
    started = time.monotonic()
    org = org or ensure_demo_org()
    now = now or timezone.now()
    if use_bulk is None:
        use_bulk = cases > SERVICE_PATH_MAX
    if workers is None:
        workers = (os.cpu_count() or 1) if use_bulk and cases >= 20000 else 0
    planner = Planner(org, seed=seed, now=now, total=cases)
    registered = _first_pass(planner, cases, workers)
    order = sorted(range(cases), key=registered.__getitem__)
    if use_bulk:
        _run_bulk(planner, order, registered, batch_size, workers, progress, started)
    else:
        _run_services(planner, order, progress, started)
    return _summary(cases, "bulk" if use_bulk else "services", started, now)


# What forked worker processes read; set before a pool starts (workers never touch the database).
_SHARED: dict[str, Any] = {}


@contextmanager
def _pool(workers: int, **shared: Any):
    """A pool of forked workers that see `shared`, or None to work in this process."""
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        _SHARED.update(shared)
        yield None
        return
    _SHARED.update(shared)
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def _map(pool, function, items):
    """`function` over `items` in order; with a pool, at most two batches per worker in flight,
    so a slower writer never has the whole run waiting in memory."""
    if pool is None:
        yield from map(function, items)
        return
    items = iter(items)
    window = 2 * pool._processes
    pending = deque(pool.apply_async(function, (item,)) for item in islice(items, window))
    while pending:
        result = pending.popleft().get()
        for item in islice(items, 1):
            pending.append(pool.apply_async(function, (item,)))
        yield result


def _skeletons(bounds: tuple[int, int]) -> tuple[int, bytes, list[int], list[tuple[int, int]]]:
    """Registration times of matters [start, stop), the pending 不再受理 and the final ones."""
    planner: Planner = _SHARED["planner"]
    start, stop = bounds
    registered = array("d", bytes(8 * (stop - start)))
    pending: list[int] = []
    finals: list[tuple[int, int]] = []
    for index in range(start, stop):
        plan = planner.skeleton(index, pending_ok=True)
        if plan is None:
            pending.append(index)
            continue
        registered[index - start] = plan.registered_at.timestamp()
        if plan.state == S.FINAL and plan.kind not in HOTLINE_KINDS:
            finals.append(((planner.today - plan.closed_at.date()).days, index))
    return start, registered.tobytes(), pending, finals


def _first_pass(planner: Planner, total: int, workers: int) -> array:
    """Plan every skeleton once: the registration times (for numbering) and the 不再受理 priors."""
    registered = array("d", bytes(8 * total))
    pending: list[int] = []
    finals: list[tuple[int, int]] = []
    step = 20000
    with _pool(workers, planner=planner) as pool:
        for start, times, waiting, final in _map(
            pool, _skeletons, [(start, min(start + step, total)) for start in range(0, total, step)]
        ):
            chunk = array("d")
            chunk.frombytes(times)
            registered[start : start + len(chunk)] = chunk
            pending += waiting
            finals += final
    finals.sort(key=lambda item: item[1])
    planner.choose_priors(pending, finals)
    for index in pending:
        registered[index] = planner.skeleton(index).registered_at.timestamp()
    return registered


def _run_services(
    planner: Planner, order: list[int], progress: Progress | None, started: float
) -> None:
    """Replay every step through the service functions, all matters interleaved in time order."""
    builder = Builder(planner)
    plans = {}
    for position, index in enumerate(order):
        plan = planner.plan(index)
        builder.build(plan, plan.registered_at.year, position)  # decides the 催办 steps
        plans[index] = plan
    queue = sorted(
        (step.at, index, k) for index, plan in plans.items() for k, step in enumerate(plan.steps)
    )
    replay = _Replay(planner)
    for n, (_at, index, k) in enumerate(queue, 1):
        replay.step(plans[index], k)
        if progress and n % 500 == 0:
            progress(len(replay.pks), len(order), time.monotonic() - started)


class _Replay:
    def __init__(self, planner: Planner, *, remember: bool = True) -> None:
        self.planner = planner
        self.remember = remember  # keep every number (else only those set from outside)
        self.org = planner.org
        self.builder = Builder(planner)
        self.pks: dict[int, int] = {}
        self.where: dict[int, dict] = {}

    def step(self, plan: Plan, k: int) -> None:
        org, step, p = self.org, plan.steps[k], plan.steps[k].params
        state = self.where.setdefault(plan.index, {"lead": None, "review": None})
        by = self.builder.actor(plan, step, state["lead"], state["review"])
        at = step.at
        if step.action == "register":
            petitioner = services.Petitioner(**vars(plan.petitioner))
            result = services.case_register(
                office=org.office,
                by=by,
                channel=plan.channel,
                kind=plan.kind,
                title=plan.title,
                content=plan.content,
                place=org.places[plan.place],
                category=org.categories[plan.category],
                petitioner=petitioner,
                at=at,
                group_size=plan.group_size,
                representatives=[dict(r) for r in plan.representatives],
                accused_unit=org.units[plan.accused_unit] if plan.accused_unit else None,
                accused_person=plan.accused_person,
                # the demo's clerk decides at registration that the report names no unit
                no_accused_unit=not plan.accused_unit,
            )
            self.pks[plan.index] = result.case.pk
            return
        case = Case(pk=self.pks[plan.index])
        name = step.action
        if name == "route":
            services.case_route(
                case=case,
                by=by,
                unit=org.units[p["unit"]],
                mode=p["mode"],
                co_units=[org.units[u] for u in p["co_units"]],
                assign_days=p["assign_days"],
                note=p["note"],
                at=at,
            )
            state["lead"] = p["unit"]
        elif name == "object":
            services.case_object(case=case, by=by, reason=p["reason"], at=at)
            state["lead"] = None
        elif name == "accept":
            services.case_accept(case=case, by=by, at=at)
        elif name == "decline":
            services.case_decline(
                case=case, by=by, reason=p["reason"], proper_channel=p["proper_channel"], at=at
            )
        elif name == "not_accept_again":
            prior = Case.objects.get(pk=self.pks[plan.prior])
            services.case_not_accept_again(case=case, by=by, prior=prior, reason=p["reason"], at=at)
        elif name == "extend":
            services.case_extend(case=case, by=by, days=p["days"], reason=p["reason"], at=at)
        elif name == "reply":
            services.case_reply(case=case, by=by, outcome=p["outcome"], text=p["text"], at=at)
        elif name == "rate":
            services.case_rate(case=case, by=by, rating=p["rating"], comment=p["comment"], at=at)
        elif name == "request_review":
            services.case_request_review(case=case, by=by, reason=p["reason"], at=at)
            state["review"] = self.planner.parent[state["lead"]]
        elif name == "decide_review":
            services.case_decide_review(
                case=case, by=by, outcome=p["outcome"], text=p["text"], at=at
            )
        elif name == "request_rereview":
            services.case_request_rereview(case=case, by=by, reason=p["reason"], at=at)
        elif name == "decide_rereview":
            services.case_decide_rereview(
                case=case, by=by, outcome=p["outcome"], text=p["text"], at=at
            )
        elif name == "finalize":
            services.case_finalize(case=case, at=at)
        elif name == "urge":
            services.case_urge(case=case, by=by, note=p["note"], at=at)
        else:  # pragma: no cover - the planner only uses the actions above
            raise ValueError(name)


def _run_bulk(
    planner: Planner,
    order: list[int],
    registered: array,
    batch_size: int,
    workers: int,
    progress: Progress | None,
    started: float,
) -> None:
    """Write the matters in batches, one transaction each, numbered in registration order."""
    office = planner.org.office
    _fast_sqlite()
    years = Counter(dt.datetime.fromtimestamp(registered[i], LOCAL).year for i in order)
    with transaction.atomic():
        next_seq = {
            year: services.reserve_numbers(office, year, count)
            for year, count in sorted(years.items())
        }
    numbered = []
    for index in order:
        year = dt.datetime.fromtimestamp(registered[index], LOCAL).year
        numbered.append((index, year, next_seq[year]))
        next_seq[year] += 1
    builder = Builder(planner, remember=False)
    priors = {prior for prior in (planner.naa.get(i) for i in planner.naa) if prior}
    prior_ids = {index for index, _ in priors}
    for index, year, seq in numbered:
        if index in prior_ids:
            builder.numbers[index] = (services.case_number(office, year, seq), None)
    writer = _Writer()
    done = 0
    chunks = [numbered[start : start + batch_size] for start in range(0, len(numbered), batch_size)]
    with _pool(workers, planner=planner, builder=builder, writer=writer) as pool:
        for prepared in _map(pool, _prepare, chunks):
            writer.write(builder, prepared)
            done += len(prepared)
            if progress:
                progress(done, len(order), time.monotonic() - started)


@dataclass
class Prepared:
    """A matter ready to insert: every value already adapted for the database."""

    index: int
    prior: int | None
    year: int
    seq: int
    number: str
    values: list
    events: list[tuple]
    co_units: list[int]
    representatives: list[dict[str, str]]
    tokens: list[str]
    linked_to_id: int | None = None


def _prepare(chunk: list[tuple[int, int, int]]) -> list[Prepared]:
    """Plan and build a batch of matters (in a worker process, or in this one)."""
    planner: Planner = _SHARED["planner"]
    builder: Builder = _SHARED["builder"]
    writer: _Writer = _SHARED["writer"]
    out = []
    for index, year, seq in chunk:
        plan = planner.plan(index)
        built = builder.build(plan, year, seq)
        case = built.case
        out.append(
            Prepared(
                index=index,
                prior=plan.prior,
                year=year,
                seq=seq,
                number=case.number,
                values=writer.case_values(case),
                events=writer.event_values(built.events),
                co_units=built.co_units,
                representatives=plan.representatives,
                tokens=search.document_tokens(case, co_units=built.co_units),
            )
        )
    return out


def _fast_sqlite() -> None:
    """For the demo load only: no fsync per transaction, a larger page cache."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-262144")
        cursor.execute("PRAGMA temp_store=MEMORY")


_EIGHT_HOURS = dt.timedelta(hours=8)


class _Writer:
    """Multi-row inserts with the values prepared once per column type (the ORM's per-object
    work costs more than the database itself at this size)."""

    def __init__(self) -> None:
        quote = connection.ops.quote_name
        self.sqlite = connection.vendor == "sqlite"
        self.attnames = [f.attname for f in _CASE_FIELDS]
        self.datetimes = frozenset(
            i for i, f in enumerate(_CASE_FIELDS) if f.get_internal_type() == "DateTimeField"
        )
        # Names come from the models' metadata; every value is a parameter.
        self.case_sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
            quote(Case._meta.db_table),
            ", ".join(quote(f.column) for f in _CASE_FIELDS),
            ", ".join(["%s"] * len(_CASE_FIELDS)),
        )
        event_columns = ["case_id", "kind", "at", "actor_id", "unit_id", "public", "details"]
        details = "%s" if self.sqlite else "%s::jsonb"
        self.event_sql = "INSERT INTO {} ({}) VALUES (%s, %s, %s, %s, %s, %s, {})".format(  # noqa: S608
            quote(CaseEvent._meta.db_table),
            ", ".join(quote(c) for c in event_columns),
            details,
        )
        self.ids_sql = (
            f"SELECT seq, id FROM {quote(Case._meta.db_table)} "  # noqa: S608
            "WHERE office_id = %s AND year = %s AND seq BETWEEN %s AND %s"
        )
        table = quote(Case._meta.db_table)
        self.link_sql = f"UPDATE {table} SET linked_to_id = %s WHERE id = %s"  # noqa: S608

    def when(self, value: dt.datetime | None):
        """As `adapt_datetimefield_value`: UTC text on SQLite, the aware value elsewhere."""
        if value is None or not self.sqlite:
            return value
        if (
            value.tzinfo is LOCAL and value.year > 1991
        ):  # Beijing time: UTC+8, no summer time since 1991
            return str(value.replace(tzinfo=None) - _EIGHT_HOURS)
        return str(value.astimezone(dt.UTC).replace(tzinfo=None))

    def case_values(self, case: _Row) -> list:
        data = case.__dict__
        values = [data[name] for name in self.attnames]
        for i, value in enumerate(values):
            if i in self.datetimes:
                values[i] = self.when(value)
            elif isinstance(value, str) and type(value) is not str:
                values[i] = str(value)  # TextChoices members
        return values

    def event_values(self, events: list[tuple]) -> list[tuple]:
        """(kind, at, actor, unit, public, details as JSON text) as `JSONField` stores them."""
        when, dumps = self.when, json.dumps
        return [
            (kind, when(at), actor, unit, public, dumps(details))
            for kind, at, actor, unit, public, details in events
        ]

    def write(self, builder: Builder, batch: list[Prepared]) -> None:
        """One transaction: the matters, their timelines, co-handlers, representatives, index."""
        with transaction.atomic(), connection.cursor() as cursor:
            ids = self._cases(cursor, builder, batch)
            cursor.executemany(
                self.event_sql,
                [(pk, *event) for pk, p in zip(ids, batch, strict=True) for event in p.events],
            )
            CoHandler.objects.bulk_create(
                [
                    CoHandler(case_id=pk, unit_id=u)
                    for pk, p in zip(ids, batch, strict=True)
                    for u in p.co_units
                ]
            )
            Representative.objects.bulk_create(
                [
                    Representative(
                        case_id=pk, name=r["name"], id_number=r["id_number"], phone=r["phone"]
                    )
                    for pk, p in zip(ids, batch, strict=True)
                    for r in p.representatives
                ]
            )
            search.index_many([(pk, p.tokens) for pk, p in zip(ids, batch, strict=True)])

    def _cases(self, cursor, builder: Builder, batch: list[Prepared]) -> list[int]:
        """Insert the rows, then read their ids back by (office, year, seq), which is unique."""
        linked = self.attnames.index("linked_to_id")
        for p in batch:
            if p.prior is not None:
                p.values[linked] = builder.numbers[p.prior][1]
        cursor.executemany(self.case_sql, [p.values for p in batch])
        seqs: dict[int, list[int]] = {}
        for p in batch:
            seqs.setdefault(p.year, []).append(p.seq)
        found: dict[tuple[int, int], int] = {}
        for year, numbers in seqs.items():
            cursor.execute(self.ids_sql, [builder.org.office.pk, year, min(numbers), max(numbers)])
            found.update(((year, seq), pk) for seq, pk in cursor.fetchall())
        ids, links = [], []
        for p in batch:
            pk = found[(p.year, p.seq)]
            ids.append(pk)
            if p.index in builder.numbers:
                builder.numbers[p.index] = (p.number, pk)
            if p.prior is not None and p.values[linked] is None:
                links.append((builder.numbers[p.prior][1], pk))
        if links:  # 不再受理 of a matter in the same batch
            cursor.executemany(self.link_sql, links)
        return ids


def _summary(total: int, path: str, started: float, now: dt.datetime) -> Result:
    from django.db.models import Count

    from xinfang.cases.selectors import due_soon_cases, overdue_cases

    states = Counter(dict(Case.objects.values_list("state").annotate(n=Count("id")).order_by()))
    office_clocks = Case.objects.exclude(clock__in=list(CITIZEN_WINDOWS))
    return Result(
        created=total,
        path=path,
        seconds=time.monotonic() - started,
        states=states,
        overdue=overdue_cases(office_clocks, now).count(),
        due_soon=due_soon_cases(office_clocks, now).count(),
    )
