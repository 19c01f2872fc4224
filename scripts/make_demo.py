"""Regenerate the demo store in records/ from scratch, reproducibly.

Every step runs the real `svc` commands with a fixed SVC_NOW, so the store is what a
fictional office would have after three months of work. Run it after a change to the
record format; tests/test_demo.py fails while records/ is out of date.

    python scripts/make_demo.py records
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from click.testing import CliRunner

from svc.cli import cli

SVC_YAML = """\
# The demo office: a fictional renovation company's customer-service center.
office: BJ01
name: 北京安居装饰集团工程客服管理中心
lang: zh
timezone: Asia/Shanghai
users:
  wangfang: {name: 王芳, role: assistant}
  lina: {name: 李娜, role: assistant}
  chenjing: {name: 陈静, role: cs-director}
  zhaomin: {name: 赵敏, role: center-director}
  sunlv: {name: 孙律, role: legal}
  zhouxing: {name: 周行, role: admin}
  gaoming: {name: 高明, role: supervisor}
  liqiang: {name: 李强, role: inspector}
branches:
  chaoyang: {name: 朝阳分公司, manager: 赵刚, phone: 010-65123456}
  haidian: {name: 海淀分公司, manager: 钱伟, phone: 010-82345678}
  tongzhou: {name: 通州分公司, manager: 孙海, phone: 010-81567890}
"""


class Demo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runner = CliRunner()

    def __call__(self, when: str, user: str, *args: str) -> str:
        result = self.runner.invoke(
            cli, ["--store", str(self.root), "--as", user, *args], env={"SVC_NOW": when}, catch_exceptions=False
        )
        if result.exit_code != 0:
            raise SystemExit(f"demo step failed: svc {' '.join(args)}\n{result.stderr}")
        return result.stdout.strip()


def build(root: Path) -> None:
    if root.exists():
        shutil.rmtree(root)
    result = CliRunner().invoke(
        cli, ["init", str(root), "--office", "BJ01", "--no-git"], env={"SVC_NOW": "2026-09-01T08:00:00+08:00"}
    )
    if result.exit_code != 0:
        raise SystemExit(result.stderr)
    (root / "svc.yaml").write_text(SVC_YAML, encoding="utf-8")
    svc = Demo(root)

    # 1. A leak fixed by the branch; the customer is satisfied at the first follow-up.
    leak = svc("2026-09-03T10:12:00+08:00", "wangfang", "open", "complaint", "--customer", "张建国",
               "--phone", "13801012345", "--address", "朝阳区望京花园3号楼1单元502", "--branch", "chaoyang",
               "--channel", "phone", "--summary", "卫生间防水层渗漏，楼下住户天花板出现水渍",
               "--designer", "刘洋", "--site-supervisor", "马涛", "--foreman", "黄师傅", "--start-date", "2026-06-15")
    svc("2026-09-03T10:14:00+08:00", "wangfang", "met", leak, "callback-3min", "--note", "已回拨客户")
    svc("2026-09-03T10:20:00+08:00", "wangfang", "note", leak, "查阅客户档案：合同金额12.8万元，竣工两个月")
    svc("2026-09-03T11:00:00+08:00", "zhouxing", "notify", leak, "--note", "处理通知单已发朝阳分公司")
    svc("2026-09-04T08:50:00+08:00", "zhouxing", "feedback", leak, "--note", "分公司总经理确认，9月5日上门重做防水")
    svc("2026-09-04T09:00:00+08:00", "wangfang", "remedy", leak, "repair", "--detail", "重做卫生间防水并修补楼下天花板",
        "--category", "repair-claim")
    svc("2026-09-09T15:00:00+08:00", "wangfang", "follow-up", leak, "--outcome", "satisfied",
        "--note", "客户确认已不再渗漏")
    svc("2026-10-10T09:00:00+08:00", "zhouxing", "archive", "--before", "2026-10-01", "--apply")

    # 2. The same customer calls again within 90 days: a repeat complaint, straight to the cs-director.
    again = svc("2026-10-20T19:40:00+08:00", "lina", "open", "complaint", "--customer", "张建国",
                "--phone", "138-0101-2345", "--address", "朝阳区望京花园3号楼1单元502", "--branch", "chaoyang",
                "--channel", "phone", "--summary", "厨房吊顶开裂，要求分公司上门查看")
    svc("2026-10-20T19:42:00+08:00", "lina", "met", again, "callback-3min")
    svc("2026-10-21T09:30:00+08:00", "chenjing", "assign", again, "lina")

    # 3. A complaint that climbs the whole ladder: four failed follow-ups, then legal.
    ladder = svc("2026-09-15T14:05:00+08:00", "wangfang", "open", "complaint", "--customer", "李秀兰",
                 "--phone", "13911223344", "--address", "海淀区西三旗育新花园12-2-301", "--branch", "haidian",
                 "--summary", "工期已延误40天，分公司多次承诺未兑现", "--designer", "周婷", "--foreman", "王师傅",
                 "--start-date", "2026-05-10")
    svc("2026-09-22T10:00:00+08:00", "wangfang", "follow-up", ladder, "--outcome", "not-handled",
        "--note", "分公司至今未联系客户")
    svc("2026-09-29T10:00:00+08:00", "wangfang", "follow-up", ladder, "--outcome", "not-handled",
        "--note", "分公司称工人不足，仍未复工")
    svc("2026-10-09T10:00:00+08:00", "wangfang", "follow-up", ladder, "--outcome", "unsatisfied",
        "--note", "已复工但进度缓慢，客户要求赔偿")
    svc("2026-10-19T10:00:00+08:00", "wangfang", "follow-up", ladder, "--outcome", "unsatisfied",
        "--note", "客户表示将起诉，要求移交法务")
    svc("2026-10-20T11:00:00+08:00", "sunlv", "note", ladder, "已收到全套案卷，准备与客户协商延期赔偿")

    # 4. Round one failed: an urging notice went to the branch.
    urged = svc("2026-11-02T16:45:00+08:00", "lina", "open", "complaint", "--customer", "王磊",
                "--phone", "010-62001234", "--address", "海淀区万柳东路8号院5-602", "--branch", "haidian",
                "--summary", "橱柜门板色差明显，安装后无人处理")
    svc("2026-11-02T16:47:00+08:00", "lina", "met", urged, "callback-3min")
    svc("2026-11-03T09:30:00+08:00", "zhouxing", "notify", urged)
    svc("2026-11-04T16:00:00+08:00", "zhouxing", "feedback", urged, "--note", "分公司反馈：板材需返厂，周期两周（超时返回）")
    svc("2026-11-09T10:30:00+08:00", "lina", "follow-up", urged, "--outcome", "unsatisfied",
        "--note", "分公司已看现场但未给出更换时间")

    # 5. Complained to the consumer association: a major dispute.
    authority = svc("2026-11-10T11:20:00+08:00", "wangfang", "open", "complaint", "--customer", "赵海燕",
                    "--phone", "13700001111", "--address", "通州区梨园镇云景里7-3-1101", "--branch", "tongzhou",
                    "--authority", "北京市通州区消费者协会", "--summary", "墙面乳胶漆大面积起皮，已投诉至消协")
    svc("2026-11-10T11:22:00+08:00", "wangfang", "met", authority, "callback-3min")
    svc("2026-11-10T15:00:00+08:00", "zhaomin", "note", authority, "已通知法务中心及分管副总裁")
    svc("2026-11-10T15:05:00+08:00", "zhaomin", "met", authority, "legal-24h", "--note", "已书面报法务中心及副总裁")

    # 6. The press called: outlet, column, reporter.
    media = svc("2026-11-16T09:10:00+08:00", "lina", "open", "complaint", "--customer", "孙志强",
                "--phone", "13522334455", "--address", "朝阳区双井富力城D座1806", "--branch", "chaoyang",
                "--media", "北京晚报", "--media-column", "民生热线", "--reporter", "刘记者",
                "--reporter-phone", "13699887766", "--summary", "入住后甲醛超标，客户已联系媒体")
    svc("2026-11-16T09:12:00+08:00", "lina", "met", media, "callback-3min")
    svc("2026-11-16T10:00:00+08:00", "zhaomin", "escalate", media, "--to", "legal",
        "--reason", "媒体曝光风险，移交法务中心")

    # 7. A serious complaint with compensation agreed and closed.
    delay = svc("2026-10-08T13:30:00+08:00", "wangfang", "open", "complaint", "--severity", "serious",
                "--customer", "陈晓明", "--phone", "13612345678", "--address", "通州区新华大街66号2-1-402",
                "--branch", "tongzhou", "--summary", "竣工延期14天，要求延期赔偿")
    svc("2026-10-12T10:00:00+08:00", "chenjing", "remedy", delay, "compensation", "--detail", "按合同约定延期赔偿",
        "--category", "delay-compensation", "--amount", "1400")
    svc("2026-10-15T16:00:00+08:00", "chenjing", "close", delay, "--resolution", "已按合同支付延期赔偿，客户签字确认",
        "--satisfaction", "4")

    # 8. A repair call, done and closed.
    repair = svc("2026-11-12T08:40:00+08:00", "lina", "open", "repair", "--customer", "周丽",
                 "--phone", "15810102020", "--address", "海淀区学院路20号院9-1-202", "--branch", "haidian",
                 "--summary", "主卧插座无电，保修期内报修")
    svc("2026-11-12T09:00:00+08:00", "lina", "remedy", repair, "repair", "--detail", "更换插座并检查线路")
    svc("2026-11-12T09:05:00+08:00", "lina", "met", repair, "engineer-20min", "--note", "物业电工已到场")
    svc("2026-11-13T17:20:00+08:00", "lina", "repaired", repair, "--note", "电工已更换插座，恢复供电")
    svc("2026-11-16T10:00:00+08:00", "lina", "follow-up", repair, "--outcome", "satisfied", "--note", "维修后3天回访，使用正常")

    # 9. A scheduled return visit where the customer raised a problem.
    visit = svc("2026-11-18T10:00:00+08:00", "wangfang", "open", "visit", "--customer", "吴敏",
                "--phone", "13366778899", "--address", "朝阳区大屯路风林绿洲4-2-1501", "--branch", "chaoyang",
                "--summary", "开工10天回访：客户反映工地噪音扰邻，物业已警告")
    svc("2026-11-18T10:30:00+08:00", "wangfang", "note", visit, "已转分公司调整施工时间，12:00-14:00不施工")

    # 10. An inquiry answered on the spot.
    inquiry = svc("2026-11-19T15:15:00+08:00", "lina", "open", "inquiry", "--customer", "郑先生",
                  "--phone", "18600001234", "--channel", "wechat", "--summary", "咨询保修期内墙面开裂是否免费维修")
    svc("2026-11-19T15:25:00+08:00", "lina", "close", inquiry, "--resolution", "已告知保修期两年内免费维修并登记上门时间")

    # 11. A staff complaint, in real name; the complainant stays confidential.
    svc("2026-11-05T18:00:00+08:00", "wangfang", "open", "staff-complaint", "--complainant", "林小红",
        "--contact", "13900112233", "--accused", "钱某", "--accused-role", "工程部经理",
        "--incident-at", "2026-11-03T17:30", "--incident-place", "通州分公司办公室", "--involved", "工程部两名同事",
        "--branch", "tongzhou", "--summary", "反映工程部经理克扣加班费")

    # 12. A crew complaint about unpaid wages, forwarded to the engineering deputy director.
    crew = svc("2026-11-20T09:00:00+08:00", "lina", "open", "crew-complaint", "--complainant", "马国强",
               "--contact", "13788990011", "--accused", "刘某", "--accused-role", "项目监察员",
               "--incident-at", "2026-11-18", "--incident-place", "海淀区万柳东路8号院工地",
               "--branch", "haidian", "--summary", "工队反映监察员故意拖延验收签字")
    svc("2026-11-20T11:00:00+08:00", "chenjing", "escalate", crew, "--reason", "转工程副总监调查")

    # 13. An English-speaking customer who asked to wait until he is back: the clock stops.
    brown = svc("2026-11-21T10:05:00+08:00", "lina", "open", "complaint", "--customer", "Michael Brown",
                "--phone", "+86 139 1000 2000", "--address", "Chaoyang, Sanlitun SOHO 3-1208", "--branch", "chaoyang",
                "--channel", "email", "--summary", "Balcony door does not close properly after installation")
    svc("2026-11-21T10:30:00+08:00", "lina", "defer", brown, "--until", "2026-11-30",
        "--reason", "customer abroad until 29 November")

    # 14. A project well under way: visits made, one of them found a problem.
    villa = svc("2026-09-02T09:00:00+08:00", "wangfang", "project", "add", "--customer", "钱立新",
                "--phone", "13910203040", "--address", "朝阳区东坝金隅汇景苑6-1-801", "--branch", "chaoyang",
                "--designer", "刘洋", "--site-supervisor", "马涛", "--foreman", "黄师傅", "--assign", "wangfang",
                "--contract-signed", "2026-09-01", "--start", "2026-09-10", "--completion", "2026-12-20")
    svc("2026-09-06T10:00:00+08:00", "wangfang", "visit", villa, "--outcome", "ok", "--summary", "签约回访：客户对设计方案满意")
    svc("2026-09-21T10:00:00+08:00", "wangfang", "visit", villa, "--outcome", "ok", "--summary", "开工回访：现场整洁")
    svc("2026-10-06T10:30:00+08:00", "wangfang", "visit", villa, "--outcome", "problem",
        "--summary", "中期回访：水电改造后墙面开槽未及时封堵")
    svc("2026-10-07T09:00:00+08:00", "wangfang", "visit", villa,
        "--kind", "greeting", "--outcome", "ok", "--summary", "国庆节问候")

    # 15. A project just signed: its first visits are coming up.
    svc("2026-11-16T14:00:00+08:00", "lina", "project", "add", "--customer", "冯雪梅",
        "--phone", "13820304050", "--address", "海淀区五道口华清嘉园15-1203", "--branch", "haidian",
        "--designer", "周婷", "--foreman", "王师傅", "--assign", "lina",
        "--contract-signed", "2026-11-15", "--start", "2026-11-25", "--completion", "2027-02-28")

    # 16. Building patrols (巡查) since 2024: two a month at the property the office manages,
    # each ended month cut off by its summary. The oldest are past their two years.
    months = ["2024-09", "2024-10", "2024-11", "2025-06", "2026-09", "2026-10", "2026-11"]
    patrols: dict[str, list[str]] = {}
    for month in months:
        first = svc(f"{month}-03T09:00:00+08:00", "liqiang", "patrol", "add", "--area", "望京花园3号楼")
        second = svc(f"{month}-18T15:30:00+08:00", "liqiang", "patrol", "add", "--area", "望京花园地下车库",
                     "--problem", "停车场", "--skip", "空置房")
        svc(f"{month}-18T15:40:00+08:00", "liqiang", "patrol", "finding", second, "--category", "facilities",
            "--place", "B2层12号车位", "--description", "照明灯不亮")
        svc(f"{month}-18T15:45:00+08:00", "liqiang", "patrol", "finding", second, "--category", "cleanliness",
            "--place", "B1层坡道", "--description", "地面油污", "--settled", "已通知保洁当场清理")
        if month != "2026-11":
            svc(f"{month}-19T10:00:00+08:00", "gaoming", "patrol", "route", second, "1", "--to", "department",
                "--department", "工程部")
            svc(f"{month}-21T16:00:00+08:00", "liqiang", "patrol", "fixed", second, "1", "--note", "已更换灯管")
            svc(f"{month}-22T09:30:00+08:00", "gaoming", "patrol", "verified", second, "1", "--note", "现场复查合格")
        patrols[month] = [first, second]
    # A stairwell finding routed to the repair procedure: the repair case links the record.
    stair = svc("2026-10-10T20:10:00+08:00", "liqiang", "patrol", "add", "--area", "望京花园5号楼", "--problem", "楼梯间")
    svc("2026-10-10T20:15:00+08:00", "liqiang", "patrol", "finding", stair, "--category", "fire",
        "--place", "2单元6层", "--description", "灭火器压力不足")
    svc("2026-10-11T09:00:00+08:00", "gaoming", "patrol", "route", stair, "1", "--to", "repair")
    svc("2026-10-16T09:00:00+08:00", "gaoming", "patrol", "extend", stair, "1", "--until", "2026-10-24",
        "--reason", "灭火器需厂家统一检测充装")
    for month, end in (("2024-09", "2024-10-01"), ("2024-10", "2024-11-01"), ("2024-11", "2024-12-01"),
                       ("2025-06", "2025-07-01"), ("2026-09", "2026-10-01"), ("2026-10", "2026-11-01")):
        svc(f"{end}T09:00:00+08:00", "zhouxing", "patrol", "summary", "--month", month)
    # An owner's lawsuit over the car park: its October 2024 records are kept as evidence.
    svc("2026-10-15T11:00:00+08:00", "zhaomin", "hold", "add", patrols["2024-10"][1],
        "--reason", "业主车辆损坏诉讼，车库巡查记录证据保全")

    # 17. The front desk's duty log (值班日志) for 20 November: entries, the evening shift
    # handover (交接班) with the open items it passed on, and the supervisor's signature
    # the next morning.
    svc("2026-11-20T08:52:00+08:00", "wangfang", "duty", "add", "接班。查阅前一班值班日志；电话、电脑、对讲机正常")
    svc("2026-11-20T09:10:00+08:00", "lina", "duty", "add", f"工队投诉已按实名制登记 {crew}，转客服主任")
    svc("2026-11-20T14:20:00+08:00", "wangfang", "duty", "add", f"回访 {visit} 客户：分公司已调整午间施工时间")
    svc("2026-11-20T17:30:00+08:00", "wangfang", "handover", "--to", "lina", "--equipment", "电话、电脑、对讲机正常",
        "--note", f"{visit} 待分公司书面回复")
    svc("2026-11-20T17:35:00+08:00", "lina", "handover", "accept", "--equipment", "正常")
    svc("2026-11-20T19:45:00+08:00", "lina", "duty", "add", "夜间无新投诉；3号楼电梯困人误报，已电话确认")
    svc("2026-11-21T08:30:00+08:00", "gaoming", "duty", "sign", "--date", "2026-11-20")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python scripts/make_demo.py DIR")
    build(Path(sys.argv[1]))
    print(f"demo store written to {sys.argv[1]}", file=sys.stderr)
