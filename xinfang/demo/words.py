"""The demo's words: names, places, stories per category, and the weights of every choice."""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable

from stdnum.cn import ric

from xinfang.cases.models import Channel, Kind, Outcome, Rating, State

S = State


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
