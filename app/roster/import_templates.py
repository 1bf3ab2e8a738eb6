"""Import templates (导入模板) a school downloads, fills and uploads: the 学籍花名册 and the
教职工名单, each with its columns and one filled example row (replace it with the school's own
rows). The example rows import as they are (tests/roster/test_readme_onboarding.py uploads both
templates to a new school), and the repository's example files (``examples/学籍导出.csv``,
``examples/教职工.csv``, the README's "A school in three calls") use the same columns."""

from __future__ import annotations

from app.core.report_files import ReportFile
from app.core.xlsx import Sheet, workbook_bytes

ROSTER_HEADERS = (
    "姓名",
    "学籍号",
    "性别",
    "出生日期",
    "年级",
    "班级",
    "监护人",
    "监护人关系",
    "联系电话",
    "留守儿童",
    "家庭经济困难",
)
ROSTER_EXAMPLE = (
    "张小明",
    "L201703070000000001",
    "男",
    "2017-03-07",
    "三年级",
    "1班",
    "张建国",
    "父亲",
    "13912345678",
    "否",
    "否",
)
STAFF_HEADERS = ("姓名", "手机号", "职务", "年级", "班级", "初始密码")
STAFF_EXAMPLE = ("李老师", "13987654321", "班主任", "三年级", "1班", "Change-Me-2026")

_ROSTER_NOTE = (
    "学籍花名册 导入模板:第 3 行为示例,请替换为本校学生。必填:姓名、学籍号、班级、监护人、"
    "联系电话,及 身份证号 或 性别+出生日期"
)
_STAFF_NOTE = (
    "教职工名单 导入模板:第 3 行为示例。职务:校长、分管副校长、教务处、班主任、任课教师;"
    "班主任、任课教师须填 年级、班级;初始密码至少 8 位(可不填)"
)


def roster_template() -> ReportFile:
    sheet = Sheet(
        name="学籍花名册",
        title=_ROSTER_NOTE,
        headers=ROSTER_HEADERS,
        rows=[list(ROSTER_EXAMPLE)],
        widths=(10, 18, 6, 12, 8, 8, 10, 10, 14, 8, 12),
    )
    return ReportFile(workbook_bytes([sheet]), "学籍花名册导入模板.xlsx", "roster-template.xlsx")


def staff_template() -> ReportFile:
    sheet = Sheet(
        name="教职工名单",
        title=_STAFF_NOTE,
        headers=STAFF_HEADERS,
        rows=[list(STAFF_EXAMPLE)],
        widths=(10, 14, 12, 8, 8, 16),
    )
    return ReportFile(workbook_bytes([sheet]), "教职工名单导入模板.xlsx", "staff-template.xlsx")
