"""The one scrubber for personal data in free text (`xinfang.cases.scrub`).

Table-driven cases for the forms people actually type (full-width digits, dotted and spaced
phones, ID numbers in groups, ＠ e-mails), and properties: a mobile or ID number embedded in any
text, with any separators and any mix of full-width digits, never survives.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinfang.cases.scrub import MASK, scrub_personal_data

M = MASK


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # mobiles
        ("联系我13812345678", f"联系我{M}"),
        ("电话138.1234.5678谢谢", f"电话{M}谢谢"),
        ("138-1234-5678", M),
        ("138 1234 5678", M),
        ("手机：１３８１２３４５６７８。", f"手机：{M}。"),
        ("手机１３８－１２３４－５６７８", f"手机{M}"),
        ("１３８\u3000１２３４\u3000５６７８", M),
        ("+86 138 1234 5678", M),
        ("+86-13812345678", M),
        ("0086 13812345678", M),
        ("138\u200b1234\u200b5678", M),  # zero-width spaces
        ("一三八一二三四五六七八", M),  # Chinese numerals
        ("幺三八 幺二三四 五六七八", M),
        ("tel:13812345678", f"tel:{M}"),
        ("abc13812345678def", f"abc{M}def"),
        ("联系人张三 13812345678", f"联系人张三 {M}"),
        ("李四13812345678", f"李四{M}"),
        # landlines
        ("座机0731-84561234", f"座机{M}"),
        ("(0731) 8456 1234", M),
        ("（０７３１）８４５６１２３４", M),
        ("010 8888 6666转3", f"{M}转3"),
        ("电话 8456 1234", f"电话 {M}"),
        ("电话：84561234", f"电话：{M}"),
        # resident ID numbers
        ("身份证430102199001011234", f"身份证{M}"),
        ("身份证 4301 0219 9001 0112 3X", f"身份证 {M}"),
        ("430102 19900101 123x", M),
        ("４３０１０２１９９００１０１１２３Ｘ", M),
        ("430102-1990-0101-123Ｘ号", f"{M}号"),
        ("430102.19900101.1234", M),
        ("旧证430102900101123", f"旧证{M}"),  # 15 digits
        # e-mail
        ("邮箱zhang@example.com。", f"邮箱{M}。"),
        ("邮箱 zhang＠example．com", f"邮箱 {M}"),
        ("ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", M),
        ("zhang.san+x@mail.example.com.cn，请回复", f"{M}，请回复"),
        ("zhang @ example . com", M),
        ("qq号 12345678@qq。com", f"qq号 {M}"),
        # other long digit runs and cue words
        ("QQ 1234567", f"QQ {M}"),
        ("微信号：zs-138", "微信号：zs-138"),
        ("银行卡6222 0212 3456 7890 123", f"银行卡{M}"),
        ("账号6222-0212-3456-7890", f"账号{M}"),
    ],
)
def test_table(text, expected):
    assert scrub_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "工地拖欠农民工工资两个月",
        "2026年11月2日上午9:30在东湖街道办事处",
        "2026-11-02 09:30 到场",
        "2026.11.02、2026/11/3",
        "2020-2026年拖欠工资共计35000元",
        "拨打12345热线",
        "建设路18号3栋2单元501室",
        "欠薪12,345,678元",
        "第1、3、5、7、9、11、13号楼",
        "共3人，涉及金额8万元",
        "@张三 请回复",
        "在一楼二楼三楼都有人",
    ],
)
def test_ordinary_text_stays(text):
    assert scrub_personal_data(text) == text


def test_none_and_spans_keep_the_rest_as_typed():
    assert scrub_personal_data(None) == ""
    # full-width text that is not personal stays full-width; only the number is replaced
    assert (
        scrub_personal_data("（急）电话１３８１２３４５６７８，ＡＢＣ") == f"（急）电话{M}，ＡＢＣ"
    )
    assert scrub_personal_data("13812345678、13912345678") == f"{M}、{M}"


def test_known_values_are_masked_wherever_they_appear():
    text = "我是张三，住东湖街道建设路18号工地，张 三的电话另给"
    out = scrub_personal_data(text, known=["张三", "东湖街道建设路18号工地", "", "李"])
    assert out == f"我是{M}，住{M}，张 三的电话另给"
    # a known value matches in full-width form too; one-character values are ignored
    assert scrub_personal_data("ＡＢＣ路１８号", known=["ABC路18号"]) == M
    assert scrub_personal_data("李先生", known=["李"]) == "李先生"


def test_long_input_is_quick():
    import time

    text = "a" * 20000 + "1-" * 5000 + "工" * 20000 + "@" * 1000 + "电话" * 2000
    started = time.perf_counter()
    scrub_personal_data(text)
    assert time.perf_counter() - started < 2


# ---------------------------------------------------------------- properties

FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
CN = dict(zip("0123456789", "〇一二三四五六七八九", strict=True))
ARABIC_INDIC = {str(d): chr(0x0660 + d) for d in range(10)}


def _digit_forms(d: str, chinese: bool) -> list[str]:
    return [CN[d]] if chinese else [d, FULL_WIDTH[d], ARABIC_INDIC[d]]


# One to three characters between two digits, or none.
SEPARATOR_CHARS = [
    " ",
    "-",
    ".",
    "·",
    "\u3000",
    "—",
    "－",
    "．",
    "/",
    "_",
    "\u200b",
    "\u00a0",
    "(",
    ")",
    "~",
]
gaps = st.lists(st.sampled_from(SEPARATOR_CHARS), max_size=3).map("".join)
# Text around the number: Chinese, letters, punctuation; no digit of any kind.
SURROUNDING = "我住在东湖街道联系电话身份证号码邮箱请回复谢谢abcXYZ，。：；！？、 -.()（）【】"
around = st.text(alphabet=SURROUNDING, max_size=12)


@st.composite
def written(draw, digits: str, chinese: bool | None = None) -> str:
    """`digits` as someone might type them: figures of any width or script, mixed, or Chinese
    numerals; any separators in between."""
    chinese = draw(st.booleans()) if chinese is None else chinese
    out = []
    for i, d in enumerate(digits):
        if i:
            out.append(draw(gaps))
        out.append(draw(st.sampled_from(_digit_forms(d, chinese))) if d.isdigit() else d)
    return "".join(out)


mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
id_numbers = st.builds(
    lambda body, last: body + last,
    st.text(alphabet="0123456789", min_size=17, max_size=17),
    st.sampled_from(list("0123456789XxＸｘ")),
)


def _no_digit_left(text: str) -> bool:
    normal = unicodedata.normalize("NFKC", text)
    return not any(ch.isdigit() or ch in "〇一二三四五六七八九" for ch in normal)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), number=mobiles, before=around, after=around)
def test_a_mobile_never_survives(data, number, before, after):
    typed = data.draw(written(number))
    out = scrub_personal_data(f"{before}{typed}{after}")
    assert MASK in out
    assert _no_digit_left(out), out


@settings(max_examples=300, deadline=None)
@given(data=st.data(), number=id_numbers, before=around, after=around)
def test_an_id_number_never_survives(data, number, before, after):
    typed = data.draw(written(number))
    out = scrub_personal_data(f"{before}{typed}{after}")
    assert MASK in out
    assert _no_digit_left(out), out
    assert not any(c in out for c in "XxＸｘ" if c not in before + after), out


@settings(max_examples=200, deadline=None)
@given(data=st.data(), number=mobiles, prefix=st.sampled_from(["", "+86", "+86 ", "0086-", "86 "]))
def test_a_mobile_with_a_country_code_never_survives(data, number, prefix):
    out = scrub_personal_data(f"请拨{prefix}{data.draw(written(number, chinese=False))}。")
    assert out == f"请拨{MASK}。", out
