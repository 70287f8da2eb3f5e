"""The demo incident: a live group complaint a newcomer can click through.

``load_demo`` builds, through the ordinary domain functions (so every rule
holds and the audit log records it as 'cli demo'), one severe, active incident
(dividend insurance sold at post-office counters as if it were a deposit) with
four complainant groups, 15 outlets in six provinces, 300 complainants spread
over the whole status lifecycle with their contact histories, and one account
per role. Everything is deterministic (``random.Random(SEED)``) for a given
``now``; a second call finds the incident by its ``demo_key`` and adds nothing.
"""

import csv
import io
import os
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

from . import audit, complainants, contacts, groups, incidents, org, rollups, schemas, settlements, tabular, updates, users
from .access import SYSTEM
from .audit import Actor
from .caller import Caller
from .clock import to_iso
from .db import write
from .events import Outbox

DEMO_KEY = "demo:postal-dividend-insurance"
SEED = 20191108
ACTOR = Actor(user_id=None, username="demo", route="cli demo")
COUNT = 300

# username, password, role, scope, display name
ACCOUNTS = [
    ("demo-lead", "demo-lead-2026", "lead", None, "王振宇（危机负责人）"),
    ("demo-team", "demo-team-2026", "team", None, "刘思远（危机小组）"),
    ("demo-exec", "demo-exec-2026", "executive", None, "陈立平（分管副总经理）"),
    ("demo-legal", "demo-legal-2026", "legal", None, "周婧（法律合规部）"),
    ("demo-hebei", "demo-hebei-2026", "branch", "130000", "赵磊（河北分公司）"),
    ("demo-outlet", "demo-outlet-2026", "branch", "HB-SJZ-01", "孙丽（石家庄中山路网点）"),
]

INCIDENT = schemas.IncidentIn(
    title="邮政渠道分红险集体投诉",
    cause="邮政网点柜面将分红型两全保险当作定期存款销售，到期收益远低于宣称，客户集中要求退还本金并补偿利息",
    product="鑫享年年两全保险（分红型），邮政代理渠道 2017–2021 年销售",
    severity="severe",
    status="active",
)

# The demo's organisation: head office, six provincial branches, their city
# branches and 15 outlets, loaded through the same import a real organisation
# uses (console/org.py), managers included.
DIRECTORY = Path(__file__).parent / "data" / "demo_directory.csv"


def _outlets():
    """(code, name, city) of the directory's outlets."""
    with open(DIRECTORY, newline="", encoding="utf-8") as f:
        return [(r["code"], r["name"], r["city_code"]) for r in csv.DictReader(f) if r["kind"] == "outlet"]


BRANCHES = _outlets()

# Real county-level codes (GB/T 2260) under each city, for ID-number prefixes.
COUNTIES = {
    "130100": ["130102", "130104", "130105", "130108", "130109", "130121"],
    "130200": ["130202", "130203", "130204", "130205"],
    "130600": ["130602", "130606", "130607"],
    "320100": ["320102", "320104", "320105", "320106"],
    "320500": ["320505", "320506", "320507", "320508"],
    "330100": ["330102", "330105", "330106", "330108"],
    "330200": ["330203", "330205", "330206"],
    "370100": ["370102", "370103", "370104", "370105"],
    "370200": ["370202", "370203", "370211", "370212"],
    "410100": ["410102", "410103", "410104", "410105"],
    "410300": ["410302", "410303", "410305"],
    "440100": ["440103", "440104", "440105", "440106"],
    "440300": ["440303", "440304", "440305"],
}

# province: (complainants, group key, cities with weights; a city without an outlet here is 唐山)
PROVINCES = {
    "130000": (110, "hebei", [("130100", 6), ("130600", 3), ("130200", 1)]),
    "370000": (55, "luyu", [("370100", 5), ("370200", 5)]),
    "410000": (45, "luyu", [("410100", 6), ("410300", 4)]),
    "320000": (30, "jiangzhe", [("320100", 5), ("320500", 5)]),
    "330000": (25, "jiangzhe", [("330100", 6), ("330200", 4)]),
    "440000": (35, "guangdong", [("440100", 6), ("440300", 4)]),
}
PROVINCE_SHORT = {"130000": "河北", "370000": "山东", "410000": "河南", "320000": "江苏", "330000": "浙江", "440000": "广东"}

GROUPS = {
    "hebei": (
        "河北邮政分红险2019",
        "统一口径：承认销售过程存在误导风险，不承认“存款”承诺。方案：退还已交保费本金，利息按购买当年三年期定期存款利率补足，"
        "交通费凭票据报销，律师费自理。早签早得：首周签约者另加本金 0.5% 补偿，第二周 0.3%，之后不再加。"
        "差异化条款一律签保密协议（违约金不超过实际损失的 30%）。逐户联系，不集中答复。",
    ),
    "luyu": (
        "鲁豫老年客户2018-2020",
        "客户多为七十岁以上老人：优先上门或到网点接待室面谈，请子女在场，不电话催签。方案同河北组（本金 + 定期利率补息），"
        "行动不便者由网点上门办理。每次接触留书面记录，一式两份由客户签字。",
    ),
    "jiangzhe": (
        "江浙分红险到期客户2021",
        "满期收益低于宣称的客户：先出具分红测算说明，逐一解释；确有误导证据的按本金 + 定期利率补息处理，"
        "其余说明合同条款并告知复核、调解、仲裁、诉讼途径（第十九条）。",
    ),
    "guangdong": (
        "广东代理人带队维权",
        "有在职或离职代理人组织、代为主张：不与代理人谈判，逐一联系客户本人；代理人本人问题转人事与合规。"
        "律师函、媒体采访一律转法律合规部和品牌部，按统一口径答复。",
    ),
}

# status: how many of the 300
STATUS_PLAN = [
    ("new", 40),
    ("contacted", 55),
    ("negotiating", 50),
    ("offer_made", 35),
    ("accepted", 25),
    ("settled", 25),
    ("closed", 10),
    ("withdrawn", 10),
    ("unreachable", 20),
    ("escalated", 30),
]
PROGRESS = {
    "new": 0,
    "contacted": 2,
    "unreachable": 3,
    "escalated": 4,
    "negotiating": 5,
    "withdrawn": 5,
    "offer_made": 6,
    "accepted": 7,
    "settled": 8,
    "closed": 9,
}
ESCALATIONS = ["regulator"] * 14 + ["media"] * 6 + ["court"] * 4 + ["petition"] * 6

SURNAMES = (
    "王王王王李李李李张张张张刘刘刘陈陈陈杨杨黄黄赵赵吴吴周周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
    "田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟熊秦邱江尹薛闫段雷侯龙史"
    "陶贺顾毛郝龚邵万钱严武戴孔汤"
)
GIVEN = {
    ("m", "old"): "建国 建军 国强 志强 德明 永福 长林 福生 振华 国庆 保国 文斌 洪涛 树林 玉林 金山 宝山 春生 学军 红兵 "
    "卫东 海龙 立新 占军 庆华 德胜 建华 振江 广志 凤山 连生 万里".split(),
    ("f", "old"): "秀英 桂兰 淑珍 玉兰 凤英 秀兰 桂英 玉梅 素芬 翠花 丽华 秀珍 淑英 秀云 桂芝 美兰 月娥 冬梅 春燕 红梅 "
    "丽娟 雪梅 爱华 素梅 金凤 彩霞 玉珍 淑华 秀芳 兰英".split(),
    ("m", "young"): "磊 伟 强 军 勇 涛 斌 鹏 浩 杰 海波 志刚 晓东 俊杰 建伟 宏亮 永强 文博".split(),
    ("f", "young"): "静 丽 艳 敏 娜 芳 婷 燕 晶 丹 晓燕 雪 慧 丽萍 海燕 晓红 春梅 小红".split(),
}

DEMANDS = [
    "当年到邮局存钱，柜员说是存{years}年定期、利息比银行高，根本没说是保险。现在要取钱说要扣钱，我要求全额退还本金{principal}元，利息按当时说的 4.5% 算。",
    "我七十多岁了，这是养老钱，一直以为是存款。要求退本金加利息，不接受退保扣钱。",
    "买的时候说每年分红比存款高，这几年分红加起来才几百块。要求赔偿本金和利息损失，并给个书面说法。",
    "卖给我的就是邮局柜台的工作人员，她手写的收益表我还留着。要求按收益表兑现，不然就去监管局投诉。",
    "我们村十几户都买了，都以为是存款。要求统一退钱，给大家一个说法。",
    "来回跑了五趟网点，每次说法都不一样，一会说找保险公司一会说找邮局。要求报销来回路费，把本金利息一次性退给我。",
    "保单在我母亲名下，她不识字，签字是柜员让她照着写的。要求撤销合同、全额退款。",
    "我只要回我的本金{principal}元，利息多少可以商量，希望尽快办完，家里等着用钱。",
    "要求公司承认误导销售，对当时的销售人员追责，并按同期存款利息赔偿。",
    "孩子明年结婚急用钱，要求马上退本金，不扣任何费用。",
    "当时说这是邮政的“新型存款”，跟国债一样保本保息。要求按国债利率补足利息。",
    "电话回访时柜员就在旁边教我说“知道是保险”，这个回访不算数。要求全额退款。",
]
DEMANDS_GAIN = [
    "除本金利息外，还要赔偿这几年的精神损失和误工费，少于两万不谈。",
    "别人家听说已经多赔了，我也要一样的标准，另外加利息损失。",
]
DEMANDS_PUBLICITY = [
    "三天内不给答复，我就把录音发到抖音上，让大家都看看邮局是怎么骗老人的。",
    "要求公司公开道歉，不然我联系电视台民生栏目曝光。",
]
FLAG_NOTES = {
    "organiser": "我是我们这批客户的联系人，大家推我出来说话，有什么方案跟我谈。",
    "sales_agent": "我以前就在网点做保险代理，知道当初培训让我们怎么讲，我代表这些客户要求处理。",
    "lawyer": "本人系执业律师，以消费者身份投诉，保留诉讼权利。",
    "journalist": "我是报社记者，也是这个产品的购买人。",
    "official": "本人在区里机关工作，按正常程序反映问题，希望依规处理。",
    "repeat": "去年已经投诉过一次，答应的回复一直没有。",
}

ESCALATION_SAID = {
    "regulator": "客户表示已拨打 12378 向{province}监管局投诉，要求公司尽快解决。已报分公司监管联络人，准备报送材料。",
    "media": "客户称已联系本地电视台民生栏目记者，准备接受采访。已报品牌宣传部，按统一口径回应，不作额外承诺。",
    "court": "客户已委托律师，拟向法院起诉要求撤销合同并赔偿损失。已转法律合规部，后续由法务对接。",
    "petition": "客户称已到当地信访局登记反映。已报分公司，配合属地做好解释工作，逐户跟进。",
}
AFTER_ESCALATION_SAID = {
    "regulator": "收到监管局转办件，再次联系客户，说明将在法定期限内作出处理决定并书面告知。",
    "media": "客户同意先看公司书面方案再决定是否接受采访。",
    "court": "法务与客户代理律师通话，说明公司处理方案，对方表示先诉前调解。",
    "petition": "会同属地街道工作人员上门，说明处理进度，客户情绪平稳。",
}


@dataclass
class Person:
    """One planned complainant: what goes into ComplainantIn, then its story."""

    item: dict
    status: str
    channel: Optional[str]
    branch: Optional[str]
    recorded_at: datetime = None
    id: Optional[int] = None


def check_digit(first17):
    """The ISO 7064 MOD 11-2 check character of a resident ID number."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def accounts():
    """(username, password, role) of every demo account."""
    return [(u, p, r) for u, p, r, _scope, _name in ACCOUNTS]


def load_demo(db, now, settings):
    """Load the demo incident and accounts once; later calls add nothing.

    Returns (username, password, role) of the demo accounts.
    """
    if now.tzinfo is None:
        raise ValueError("now needs a time zone")
    if _loaded(db):
        return accounts()
    with write(db):
        header, rows = tabular.read_table(DIRECTORY.name, DIRECTORY.read_bytes())
        org.import_table(db, header, rows, ACTOR, now, without=("managers",))  # the managers' accounts come next
        user_ids = {}
        for username, password, role, scope, display_name in ACCOUNTS:
            if not users.find_user(db, username):
                users.add_user(db, username, role, password, scope_code=scope, display_name=display_name)
            # add_user's return value is not relied on: look the id up.
            row = users.find_user(db, username)
            user_ids[username] = row["id"] if row["active"] else None
        org.import_table(db, header, rows, ACTOR, now)  # now with the managers
        if not db["incident"].count_where("demo_key = ?", [DEMO_KEY]):
            _Builder(db, now, settings, user_ids).build()
    return accounts()


def _loaded(db):
    """Whether the demo incident and every demo account are already there."""
    if not db["incident"].count_where("demo_key = ?", [DEMO_KEY]):
        return False
    names = [a[0] for a in ACCOUNTS]
    found = db.execute(f"SELECT count(*) FROM user WHERE username IN ({','.join('?' * len(names))})", names).fetchone()[0]
    return found == len(names)


class _Builder:
    def __init__(self, db, now, settings, user_ids):
        self.db = db
        self.now = now.replace(second=0, microsecond=0)
        self.settings = settings
        self.zone = ZoneInfo(settings.get("TIMEZONE") or "Asia/Shanghai")
        self.rng = random.Random(SEED)
        self.user_ids = user_ids
        self.events = []  # (moment, order, serial, callable taking the moment)
        self.serial = 0
        # The history goes into the live board's event log too (its feed and
        # sequence numbers); nobody is connected yet, so nothing is emitted.
        self.outbox = Outbox(db)
        # Outlets by city, as stored: a code that already existed elsewhere is not used.
        self.outlets = {}
        for code, _name, city in BRANCHES:
            if db["branch"].count_where("code = ? AND city_code = ?", [code, city]):
                self.outlets.setdefault(city, []).append(code)

    # --- time ---------------------------------------------------------------

    def _day_start(self, days_ago):
        local_day = self.now.astimezone(self.zone).date() - timedelta(days=days_ago)
        return datetime.combine(local_day, time(0, 0), self.zone)

    def _office_moment(self, days_ago):
        """A moment in office hours (08:00-19:00 local) that many days ago, not after now - 15 min."""
        for _ in range(20):
            minutes = self.rng.randint(8 * 60, 19 * 60)
            moment = self._day_start(days_ago) + timedelta(minutes=minutes)
            if moment <= self.now - timedelta(minutes=15):
                return moment
            days_ago += 1 if days_ago == 0 else 0
        return self.now - timedelta(minutes=self.rng.randint(15, 120))

    def _at(self, moment, fn, order=5):
        self.serial += 1
        self.events.append((moment, order, self.serial, fn))

    # --- plan ---------------------------------------------------------------

    def build(self):
        """Plan everything, then replay it through the domain functions in time order."""
        self.opened_at = self._day_start(9) + timedelta(hours=9, minutes=40)
        self._at(self.opened_at, self._open_incident, order=0)
        self.group_ids = {}
        for index, key in enumerate(GROUPS):
            self._at(self.opened_at + timedelta(minutes=50 + 25 * index), lambda m, key=key: self._create_group(key, m), order=1)
        self.groups_ready = self.opened_at + timedelta(minutes=50 + 25 * len(GROUPS))

        people = self._people()
        self._schedule_creation(people)
        for person in people:
            self._plan_story(person)
        self._plan_representatives(people)
        self._plan_hourly_updates()
        self._plan_rollups()
        self._plan_tasks()
        for moment, _order, _serial, fn in sorted(self.events, key=lambda e: e[:3]):
            fn(min(moment, self.now))

    # Branch hourly updates of the last three hours: most outlets report on time,
    # two have gone quiet, one has a crowd with banners (a group visit, and a
    # major complaint in person under Art. 29).
    SILENT = ("GD-SZ-01", "HA-LY-01")
    CROWDED = {"HB-SJZ-01": (23, "hostile", True), "SD-QD-02": (6, "tense", False)}

    def _plan_hourly_updates(self):
        rng = self.rng
        for code in sorted(c for codes in self.outlets.values() for c in codes):
            hours = (3, 2) if code in self.SILENT else (3, 2, 1)
            for hours_ago in hours:
                moment = self.now - timedelta(hours=hours_ago - 1, minutes=rng.randrange(20, 40))
                people, mood, banners = self.CROWDED.get(code, (rng.randrange(0, 3), "calm", False))
                if hours_ago > 1:
                    people = max(0, people - 4 * hours_ago)
                    banners = False
                self._at(moment, lambda m, code=code, people=people, mood=mood, banners=banners: self._update(code, people, mood, banners, m), order=6)

    # Playbook work done so far: (task key, minutes after activation). The media
    # statement and the consumer-association packet are still open, and late.
    DONE = [
        ("regulator_liaison", 12),
        ("regulator_phone_report", 26),
        ("regulator_written_report", 55),
        ("warning_plan", 180),
        ("media_spokesperson", 90),
        ("media_agreed_line", 230),
        ("legal_apology_review", 200),
    ]

    def _plan_tasks(self):
        for key, minutes in self.DONE:
            self._at(self.opened_at + timedelta(minutes=minutes), lambda m, key=key: self._complete(key, m), order=8)

    def _complete(self, key, moment):
        from . import tasks

        row = self.db.execute("SELECT id FROM task WHERE incident_id = ? AND key = ? AND status = 'open'", [self.incident_id, key]).fetchone()
        if row:
            lead = Actor(user_id=self.user_ids.get("demo-lead"), username="demo", route="cli demo")
            tasks.complete(self.db, row[0], lead, moment, outbox=self.outbox)

    def _plan_rollups(self):
        """The daily roll-ups of the days so far, made and issued at each cut-off."""
        incident = {"opened_at": to_iso(self.opened_at), "activated_at": to_iso(self.opened_at)}
        for cut in rollups.cutoffs(incident, self.now, self.settings):
            self._at(cut, self._rollup, order=9)

    def _rollup(self, moment):
        from . import tasks

        lead = Actor(user_id=self.user_ids.get("demo-lead"), username="demo", route="cli demo")
        # the day's tasks, as the tasks monitor makes them; the daily progress report was sent
        tasks.sync_tasks(self.db, self.incident_id, moment, self.settings, self.outbox, ACTOR)
        day = self.db.execute(
            "SELECT id FROM task WHERE incident_id = ? AND key = 'regulator_daily_progress' AND status = 'open' AND due_at <= ?",
            [self.incident_id, to_iso(moment)],
        ).fetchone()
        if day:
            tasks.complete(self.db, day[0], lead, moment - timedelta(minutes=20), outbox=self.outbox)
        # the team keeps up with the daily media log, the groups' handling lines and
        # most follow-up calls (those due more than a day ago)
        for (task_id,) in self.db.execute(
            "SELECT id FROM task WHERE incident_id = ? AND status = 'open' AND ((trigger IN ('daily', 'group') AND due_at <= ?) "
            "OR (trigger = 'settlement' AND due_at <= ?)) ORDER BY due_at",
            [self.incident_id, to_iso(moment), to_iso(moment - timedelta(days=1))],
        ).fetchall():
            tasks.complete(self.db, task_id, lead, moment - timedelta(minutes=30), outbox=self.outbox)
        rollup_id = rollups.make(self.db, self.incident_id, moment, moment, self.settings, "monitor", ACTOR, outbox=self.outbox)
        rollups.edit_text(
            self.db,
            rollup_id,
            "各网点秩序总体可控，按统一口径逐一接待。",
            "未来24小时预计仍有集中到访，重点关注石家庄、青岛网点。",
            "请总部法务支持合同条款解释。",
            lead,
            moment,
        )
        rollups.approve(self.db, rollup_id, lead, min(moment + timedelta(minutes=20), self.now))
        rollups.issue(self.db, rollup_id, lead, min(moment + timedelta(minutes=25), self.now), outbox=self.outbox)

    def _update(self, code, people, mood, banners, moment):
        data = schemas.HourlyUpdateIn(
            branch_code=code,
            people_on_site=people,
            mood=mood,
            banners=banners,
            new_complainants=self.rng.randrange(0, 3),
            settled_since=self.rng.randrange(0, 2),
            actions_taken="已按统一口径接待并登记诉求" if people else "",
            needs="请总部派员到场协助" if people > 10 else "",
        )
        updates.post_update(self.db, self.incident_id, data, Caller(SYSTEM, ACTOR, moment), self.settings, outbox=self.outbox)

    def _people(self):
        rng = self.rng
        provinces = []
        for code, (count, _group, _cities) in PROVINCES.items():
            provinces += [code] * count
        rng.shuffle(provinces)
        # Received times: a trickle before the incident was opened, a wave after the first
        # press report (days 6-4 ago), and a steady flow since.
        day_weights = [3, 6, 14, 22, 30, 34, 28, 24, 20, 19]  # 9 days ago ... today
        received = sorted(self._office_moment(9 - rng.choices(range(10), day_weights)[0]) for _ in range(COUNT))
        statuses = []
        for status, n in STATUS_PLAN:
            statuses += [status] * n
        statuses.sort(key=lambda s: PROGRESS[s] + rng.uniform(-2.5, 2.5), reverse=True)
        channels = list(ESCALATIONS)
        rng.shuffle(channels)
        phones, names = set(), set()
        people = []
        for index in range(COUNT):
            province = provinces[index]
            status = statuses[index]
            channel = channels.pop() if status == "escalated" else None
            people.append(self._person(province, status, channel, received[index], phones, names))
        self._special_flags(people)
        for person in people:
            person.item["demands"] = self._demands(person)
        return people

    def _person(self, province, status, channel, received, phones, names):
        rng = self.rng
        _count, group_key, city_weights = PROVINCES[province]
        city = rng.choices([c for c, _w in city_weights], [w for _c, w in city_weights])[0]
        outlets = self.outlets.get(city, [])
        branch = rng.choice(outlets) if outlets and rng.random() < 0.93 else None
        # Buyers at post-office counters were mostly older savers.
        birth_year = rng.choices([1940, 1950, 1960, 1970], [20, 36, 28, 16])[0] + rng.randint(0, 9)
        sex = rng.choice("mf")
        era = "old" if birth_year < 1968 else "young"
        while True:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN[(sex, era)])
            if name not in names:
                names.add(name)
                break
        while True:
            phone = rng.choice(["13", "15", "18"]) + str(rng.randint(0, 9)) + f"{rng.randint(0, 99_999_999):08d}"
            if phone not in phones:
                phones.add(phone)
                break
        birth = datetime(birth_year, 1, 1) + timedelta(days=rng.randint(0, 364))
        sequence = rng.randint(0, 99) * 10 + rng.choice([1, 3, 5, 7, 9] if sex == "m" else [0, 2, 4, 6, 8])
        first17 = rng.choice(COUNTIES[city]) + birth.strftime("%Y%m%d") + f"{sequence:03d}"
        principal = self._principal()
        bought = {"hebei": 2019, "jiangzhe": 2016}.get(group_key) or rng.choice([2017, 2018, 2019, 2020])
        years = max(1, self.now.year - bought)
        rate = Decimal(rng.choice(["3.5", "4.0", "4.5", "4.8"])) / 100
        interest = (principal * rate * years).quantize(Decimal("1"))
        expenses = Decimal(rng.randrange(200, 3000, 10)) if rng.random() < 0.12 else Decimal(0)
        flags = []
        age = self.now.year - birth_year
        if age >= 76 and rng.random() < 0.45:
            flags.append("vulnerable")
        if principal >= 300_000 and rng.random() < 0.7:
            flags.append("vip")
        if rng.random() < 0.04:
            flags.append("repeat")
        new = status == "new"
        temperament = None if new and rng.random() < 0.5 else rng.choices(["rational", "negotiator", "grumbler", "harasser"], [35, 30, 25, 10])[0]
        motive = None if new and rng.random() < 0.5 else rng.choices(["solve_problem", "gain", "publicity"], [75, 17, 8])[0]
        if channel == "media":
            motive = "publicity"
        handler = None
        if not new and rng.random() < 0.65:
            pool = ["demo-team", "demo-team", "demo-lead"]
            if province == "130000":
                pool += ["demo-hebei", "demo-hebei"]
            if branch == "HB-SJZ-01":
                pool += ["demo-outlet", "demo-outlet", "demo-outlet"]
            handler = self.user_ids.get(rng.choice(pool))
        # Seed 004, per complaint: most were sold a deposit that was insurance
        # (severe: money lost); some were promised gifts never given (medium);
        # a few object to how they were spoken to (light).
        severity = rng.choices(["severe", "medium", "light"], [70, 20, 10])[0]
        item = {
            "severity": severity,
            "name": name,
            "phone": phone,
            "id_number": first17 + check_digit(first17),
            "province_code": province,
            "city_code": city,
            "branch_code": branch,
            "group_key": group_key if rng.random() < 0.92 else None,
            "temperament": temperament,
            "motive": motive,
            "flags": flags,
            "principal": principal,
            "interest_claimed": interest,
            "expenses_claimed": expenses,
            "handler_id": handler,
            "received_at": received,
            "years": years,
        }
        return Person(item=item, status=status, channel=channel, branch=branch)

    def _principal(self):
        rng = self.rng
        low, high = rng.choices([(10, 50), (50, 100), (100, 200), (200, 500)], [50, 30, 13, 7])[0]
        return Decimal(rng.randint(low, high) * 1000)

    def _special_flags(self, people):
        """The few people whose identity makes a complaint major, placed where they make sense."""
        rng = self.rng

        def add(person, flag):
            if flag not in person.item["flags"]:
                person.item["flags"].append(flag)

        by_group = {}
        for person in people:
            by_group.setdefault(person.item["group_key"], []).append(person)
        for key, members in by_group.items():
            if key is None:
                continue
            candidates = [p for p in members if p.status not in ("withdrawn", "closed", "new")]
            for person in rng.sample(candidates, 2 if key != "hebei" else 3):
                add(person, "organiser")
                person.item["temperament"] = "negotiator"
        for person in [p for p in people if p.channel == "media"][:2]:
            add(person, "journalist")
        for person in [p for p in people if p.channel == "court"][:3]:
            add(person, "lawyer")
        guangdong = [p for p in people if p.item["group_key"] == "guangdong" and not p.item["flags"]]
        for person in rng.sample(guangdong, 4):
            add(person, "sales_agent")
        others = [p for p in people if not p.item["flags"] and p.item["province_code"] != "440000"]
        for person in rng.sample(others, 2):
            add(person, "sales_agent")
        for person in rng.sample([p for p in people if not p.item["flags"]], 2):
            add(person, "official")

    def _demands(self, person):
        rng = self.rng
        item = person.item
        text = rng.choice(DEMANDS).format(principal=f"{item['principal']:,.0f}", years=rng.choice([3, 5]))
        if item["motive"] == "gain" and rng.random() < 0.6:
            text += rng.choice(DEMANDS_GAIN)
        if item["motive"] == "publicity":
            text += rng.choice(DEMANDS_PUBLICITY)
        if item["expenses_claimed"]:
            text += f"另外来回车费、误工共 {item['expenses_claimed']:,.0f} 元，票据都在。"
        for flag in item["flags"]:
            if flag in FLAG_NOTES:
                text = FLAG_NOTES[flag] + text
                break
        return text

    # --- creation -----------------------------------------------------------

    def _schedule_creation(self, people):
        """Branches send their lists in batches every few hours; each batch is one create call."""
        batches = {}
        for person in people:
            slot = int((person.item["received_at"] - self.opened_at).total_seconds() // (3 * 3600))
            batches.setdefault(slot, []).append(person)
        for batch in batches.values():
            latest = max(p.item["received_at"] for p in batch)
            recorded = max(latest + timedelta(minutes=self.rng.randint(10, 50)), self.groups_ready + timedelta(minutes=10))
            recorded = min(recorded, self.now - timedelta(minutes=1))
            for person in batch:
                person.recorded_at = recorded
            self._at(recorded, lambda m, batch=batch: self._create(batch, m), order=2)

    def _create(self, batch, recorded):
        rng = self.rng
        items = []
        for person in batch:
            data = {k: v for k, v in person.item.items() if k not in ("group_key", "years")}
            data["group_id"] = self.group_ids.get(person.item["group_key"])
            # At intake the branch promises a call back; for those still 'new' some of
            # these promises have already lapsed (the overdue list), the others are later.
            due = person.item["received_at"] + timedelta(hours=rng.choice([2, 4, 8, 24]))
            if person.status == "new" and rng.random() < 0.7:
                due = max(due, self.now + timedelta(minutes=rng.randint(60, 24 * 60)))
            data["next_contact_due_at"] = _minute(due)
            items.append(schemas.ComplainantIn(**data))
        ids = complainants.create_complainants(self.db, self.incident_id, items, Caller(SYSTEM, ACTOR, recorded), self.settings, outbox=self.outbox)
        for person, new_id in zip(batch, ids):
            person.id = new_id
        # The duty officer tells the supervisor of each severe complaint within the tier's 30 minutes
        told = recorded + timedelta(minutes=rng.randint(8, 25))
        if told <= self.now:
            with write(self.db):
                complainants.record_supervisor_told(self.db, [p.id for p in batch if p.item["severity"] == "severe"], ACTOR, told)

    def _open_incident(self, moment):
        self.incident_id = incidents.create_incident(self.db, INCIDENT, ACTOR, moment, outbox=self.outbox, settings=self.settings)
        self.db["incident"].update(self.incident_id, {"demo_key": DEMO_KEY})
        audit.record(self.db, ACTOR, "incident", self.incident_id, "update", before={"demo_key": None}, after={"demo_key": DEMO_KEY}, at=moment)

    def _create_group(self, key, moment):
        name, line = GROUPS[key]
        self.group_ids[key] = groups.create_group(
            self.db,
            self.incident_id,
            schemas.GroupIn(name=name, handling_line=line),
            ACTOR,
            moment,
            self._max_reps(),
            outbox=self.outbox,
        )
        # One line per group (the handling line above, as terms) and the early-signing
        # tiers it promises: first week, second week, then nothing.
        group_id = self.group_ids[key]
        settlements.set_terms(
            self.db,
            group_id,
            schemas.GroupTermsIn(
                principal_pct=100,
                interest_pct=60,
                pays_expenses=True,
                text="退还已交保费本金；利息按诉求的六成补偿（约合同期定期存款利率）；交通费凭票据报销；律师费自理。",
            ),
            ACTOR,
            moment,
        )
        first_day = moment.astimezone(self.zone).date()
        settlements.set_tiers(
            self.db,
            group_id,
            schemas.TiersIn(
                tiers=[
                    schemas.TierIn(name="首周", starts_on=first_day, ends_on=first_day + timedelta(days=6), award=500),
                    schemas.TierIn(name="第二周", starts_on=first_day + timedelta(days=7), ends_on=first_day + timedelta(days=13), award=300),
                ]
            ),
            ACTOR,
            moment,
        )

    @staticmethod
    def _special_terms(person):
        """Vulnerable complainants settle above the group's line (seed 000: then a confidentiality agreement)."""
        return "vulnerable" in person.item["flags"]

    def _agreement(self, person, settlement_id, moment):
        settings = self._settings()
        loss = person.item["interest_claimed"] * Decimal("0.4")  # what the departure from the line is worth
        data = schemas.AgreementIn(
            parties=f"本公司；{person.item['name']}",
            signed_on=moment.astimezone(self.zone).date(),
            liquidated_damages=(loss * Decimal("1.2")).quantize(Decimal("1")),
            estimated_loss=loss.quantize(Decimal("1")),
            clause_version="BM-2026-01",
            witness_reference=f"签约录音 {moment.astimezone(self.zone):%Y%m%d-%H%M}，网点接待室",
            document_name=f"保密协议-{person.id}.pdf",
            document_base64="eA==",
        )
        settlements.record_agreement(
            self.db,
            settlement_id,
            data,
            _agreement_pdf(person.id),
            Caller(SYSTEM, ACTOR, moment),
            settings,
            os.path.join(settings["DOCUMENT_FOLDER"], "agreements"),
        )

    def _settings(self):
        from .settings import DEFAULTS

        return {**DEFAULTS, **self.settings}

    def _max_reps(self):
        return int(self.settings.get("MAX_REPRESENTATIVES", 5))

    # --- stories ------------------------------------------------------------

    def _path(self, person):
        """Sessions: (contact kind or None, [status moves]) along legal transitions."""
        rng = self.rng
        status = person.status
        first = [("first", [])]
        offer = [("negotiate", ["negotiating"]), ("offer", ["offer_made"])]
        if status == "new":
            return []
        if status == "contacted":
            return first + ([("follow", [])] if rng.random() < 0.5 else [])
        if status == "negotiating":
            return first + [("negotiate", ["negotiating"])] + ([("follow", [])] if rng.random() < 0.4 else [])
        if status == "offer_made":
            return first + offer
        if status == "accepted":
            return first + [("offer", ["negotiating", "offer_made"]), ("accept", ["accepted"])]
        if status == "settled":
            middle = [("accept", ["accepted"]), ("sign", ["settled"])] if rng.random() < 0.4 else [("sign", ["accepted", "settled"])]
            return first + [("offer", ["negotiating", "offer_made"])] + middle
        if status == "closed":
            return first + [("offer", ["negotiating", "offer_made"]), ("sign", ["accepted", "settled"]), ("callback", ["closed"])]
        if status == "withdrawn":
            return (first if rng.random() < 0.6 else []) + [("withdraw", ["withdrawn"])]
        if status == "unreachable":
            tries = rng.randint(1, 3)
            return [("no_answer", [])] * (tries - 1) + [("no_answer", ["unreachable"])]
        if status == "escalated":
            escalate = ("escalate", ["escalated"])
            variant = rng.choices(["direct", "early", "talks", "offer"], [25, 35, 25, 15])[0]
            after = [("after_escalation", [])] if rng.random() < 0.7 else []
            if variant == "direct":  # went to the regulator before we ever reached them
                return [(None, ["escalated"]), ("after_escalation", [])]
            if variant == "early":
                return first + [escalate] + after
            if variant == "talks":
                return first + [("negotiate", ["negotiating"]), escalate] + after
            return first + offer + [escalate]
        raise ValueError(status)

    def _plan_story(self, person):
        rng = self.rng
        sessions = self._path(person)
        if not sessions:
            return
        moments = [_minute(m) for m in self._session_moments(person.recorded_at, len(sessions))]
        # Each session's status moves (+3, +6 min) come before the next session, so the
        # replay, sorted by time, keeps every person's moves in legal order. Events planned
        # after now are replayed at now, still in this order.
        for index in range(1, len(moments)):
            moments[index] = max(moments[index], moments[index - 1] + timedelta(minutes=10))
        open_ = person.status not in ("settled", "closed", "withdrawn")
        for index, ((kind, moves), moment) in enumerate(zip(sessions, moments)):
            if index + 1 < len(moments):
                next_due = moments[index + 1] + timedelta(hours=rng.randint(-6, 8))
                next_due = max(next_due, moment + timedelta(hours=2))
            elif kind == "sign":
                next_due = moment + timedelta(days=7)  # follow-up call within a week (004)
            elif open_ and kind is not None:
                next_due = self._last_due(moment)
            else:
                next_due = None
            if kind is not None:
                self._at(moment, lambda m, p=person, k=kind, d=next_due: self._contact(p, k, m, d))
            for offset, move in enumerate(moves, start=1):
                self._at(moment + timedelta(minutes=3 * offset), lambda m, p=person, s=move: self._move(p, s, m))
        last = moments[-1]
        if person.status in ("negotiating", "escalated") and person.item["principal"] >= 150_000 and rng.random() < 0.5:
            self._at(last + timedelta(minutes=20), lambda m, p=person: self._extend(p, m))

    def _session_moments(self, recorded, n):
        """n moments after the record was made, in order, in office hours where possible:
        the first within hours (the severe tier asks for speed), the rest spread out."""
        rng = self.rng
        start = recorded + timedelta(minutes=20)
        end = self.now - timedelta(minutes=40)
        if end - start < timedelta(minutes=30 * n):
            step = max((self.now - timedelta(minutes=10) - recorded) / (n + 1), timedelta(0))
            return [recorded + step * (i + 1) for i in range(n)]
        first = start + min(timedelta(seconds=rng.uniform(0, 6 * 3600)), (end - start) / n)
        first = self._office_hours(first, end)
        rest = sorted(self._office_hours(first + (end - first) * rng.random(), end) for _ in range(n - 1))
        return [first, *rest]

    def _office_hours(self, moment, latest):
        """The moment, moved to 08:30-20:00 local if it falls at night and that stays before ``latest``."""
        local_time = moment.astimezone(self.zone)
        if 8 <= local_time.hour < 20:
            return moment
        day = local_time.date() + timedelta(days=1 if local_time.hour >= 20 else 0)
        moved = datetime.combine(day, time(8, 30), self.zone) + timedelta(minutes=self.rng.randint(0, 150))
        return moved if moved <= latest else moment

    def _last_due(self, moment):
        """The next contact promised at the last one: about a third are already overdue."""
        rng = self.rng
        earliest = moment + timedelta(hours=2)
        if rng.random() < 0.25 and earliest < self.now - timedelta(minutes=30):
            span = (self.now - timedelta(minutes=30) - earliest).total_seconds()
            return _minute(earliest + timedelta(seconds=rng.random() * span))
        return _minute(max(self.now, earliest) + timedelta(minutes=rng.randint(60, 72 * 60)))

    def _contact(self, person, kind, moment, next_due):
        channel, said, promised, proof, reference = self._words(person, kind, moment)
        data = schemas.ContactIn(
            contacted_at=moment,
            channel=channel,
            said=said,
            promised=promised,
            next_contact_due_at=next_due,
            notice_proof=proof,
            proof_reference=reference,
        )
        contacts.add_contact(self.db, person.id, data, Caller(SYSTEM, ACTOR, moment), outbox=self.outbox, settings=self.settings)

    def _move(self, person, status, moment):
        """Move a person along; offers, acceptances and signatures go through the settlement records."""
        if status == "offer_made":
            offer = schemas.OfferIn(expenses=person.item["expenses_claimed"], expenses_evidence="交通票据原件已收" if person.item["expenses_claimed"] else "")
            if self._special_terms(person):
                # interest in full, not the group's 60%: a different line, so a confidentiality agreement at signing
                offer = offer.model_copy(update={"interest": person.item["interest_claimed"], "note": "高龄客户，经审批利息全额补偿"})
            settlements.make_offer(self.db, person.id, offer, Caller(SYSTEM, ACTOR, moment), outbox=self.outbox)
            return
        if status == "accepted":
            (offer_id,) = self.db.execute("SELECT id FROM settlement_offer WHERE complainant_id = ? AND status = 'open'", [person.id]).fetchone()
            settlements.accept_offer(self.db, offer_id, Caller(SYSTEM, ACTOR, moment), self._settings(), outbox=self.outbox)
            return
        if status == "settled":
            (settlement_id,) = self.db.execute("SELECT id FROM settlement WHERE complainant_id = ? AND status = 'accepted'", [person.id]).fetchone()
            if self._special_terms(person):
                self._agreement(person, settlement_id, moment)
            settlements.finalise(self.db, settlement_id, Caller(SYSTEM, ACTOR, moment), self._settings(), outbox=self.outbox)
            return
        if status == "escalated":
            update = schemas.ComplainantUpdate(status=status, escalation_channel=person.channel)
        else:
            update = schemas.ComplainantUpdate(status=status)
        complainants.update_complainant(self.db, person.id, update, Caller(SYSTEM, ACTOR, moment), outbox=self.outbox, settings=self.settings)

    def _extend(self, person, moment):
        data = schemas.ExtensionIn(
            level=1,
            reason="涉及历年分红及退保损失测算，需总公司精算部门复核，情况复杂",
            approved_by=f"{PROVINCE_SHORT[person.item['province_code']]}分公司客服部负责人",
            complainant_notified_at=moment,
        )
        complainants.extend_deadline(self.db, person.id, data, Caller(SYSTEM, ACTOR, moment), self.settings)

    def _plan_representatives(self, people):
        """Each group names its representatives (at most MAX_REPRESENTATIVES, Art. 12):
        its organisers and a few early, level-headed members, once they are on file."""
        rng = self.rng
        for key in GROUPS:
            members = sorted(
                (p for p in people if p.item["group_key"] == key and p.status not in ("withdrawn", "closed")),
                key=lambda p: p.recorded_at,
            )
            if not members:
                continue
            organisers = [p for p in members if "organiser" in p.item["flags"]]
            early = [p for p in members[: max(10, len(members) // 3)] if p not in organisers and p.item["temperament"] in ("negotiator", "rational")]
            chosen = (organisers + rng.sample(early, min(len(early), rng.randint(1, 3))))[: min(5, self._max_reps())]
            moment = max(p.recorded_at for p in chosen) + timedelta(minutes=rng.randint(30, 180))
            self._at(moment, lambda m, k=key, c=chosen: self._name_reps(k, c, m), order=8)

    def _name_reps(self, key, chosen, moment):
        groups.update_group(
            self.db,
            self.group_ids[key],
            schemas.GroupUpdate(representative_ids=sorted(p.id for p in chosen)),
            ACTOR,
            moment,
            self._max_reps(),
            outbox=self.outbox,
        )

    # --- words --------------------------------------------------------------

    def _words(self, person, kind, moment):
        """channel, said, promised, notice proof, proof reference."""
        rng = self.rng
        item = person.item
        elderly = "vulnerable" in item["flags"]
        day = moment.astimezone(self.zone)
        stamp = day.strftime("%Y%m%d")
        place = dict((c, n) for c, n, _city in BRANCHES).get(person.branch, "分公司客服中心")
        recording = f"通话录音 REC-{stamp}-{rng.randint(1, 9999):04d}"
        sms = f"短信平台回执 {day.strftime('%Y%m%d%H%M')}-{rng.randint(1, 9999):04d}"
        receipt = f"客户签收回执 {person.branch or 'KF'}-{rng.randint(1, 999):03d}"
        principal = f"{item['principal']:,.0f}"
        if kind == "first":
            channel = "home_visit" if elderly and rng.random() < 0.5 else rng.choices(["phone", "visit", "wechat"], [70, 20, 10])[0]
            said = rng.choice(
                [
                    "首次联系，核实保单号和购买经过。客户称当年在{place}办理，柜员介绍为“利息高的存款”。已说明公司高度重视，将逐户核实。",
                    "首次联系，客户情绪激动，反复强调是“存钱不是买保险”。已记录诉求，告知处理流程和答复时限（15日内）。",
                    "首次联系，已核对身份与保单信息，客户要求退还本金 {principal} 元并补偿利息。告知正在调取投保单和回访录音。",
                    "首次联系，客户子女代为沟通，称老人不知道买的是保险。已约定后续由子女陪同面谈。",
                ]
            ).format(place=place, principal=principal)
            promised = rng.choice(["三个工作日内告知核查结果", "两日内回电说明处理方案", "本周五前约面谈时间"])
            proof, reference = ("call_placed", recording) if channel == "phone" else ("handed_over", receipt) if channel != "wechat" else ("none", "")
        elif kind == "follow":
            channel = rng.choice(["phone", "phone", "wechat", "sms"])
            said = rng.choice(
                [
                    "按约回电：投保单和回访录音已调取，正在比对销售过程，暂无结论。客户表示可以再等几天。",
                    "按约回电告知进度：方案需分公司统一审批，本周内答复。客户不满，称“每次都说等”。",
                    "客户主动来电询问进度，已说明核查进展，未作任何承诺。",
                ]
            )
            promised = rng.choice(["周一前给出核查结论", "三日内再次联系", "方案审批后第一时间通知"])
            proof, reference = {"phone": ("call_placed", recording), "sms": ("sms_sent", sms)}.get(channel, ("none", ""))
        elif kind == "negotiate":
            channel = "home_visit" if elderly else rng.choice(["visit", "visit", "phone"])
            said = rng.choice(
                [
                    "约客户到{place}接待室面谈，说明处理方案框架：本金全额、利息按同期定期存款利率补足。客户坚持按宣称的 4.5% 计算。",
                    "面谈：客户出示当年手写收益表，要求按表兑现。已说明方案以实际损失为限，交通费凭票据报销。",
                    "电话协商：客户可以接受退本金，但对补息标准有异议，要求与其他客户一致。已说明方案统一。",
                ]
            ).format(place=place)
            promised = "将客户意见报分公司，两个工作日内书面答复"
            proof, reference = ("handed_over", receipt) if channel != "phone" else ("call_placed", recording)
        elif kind == "offer":
            channel = rng.choices(["visit", "letter", "sms", "phone", "email"], [45, 15, 15, 20, 5])[0]
            interest = (item["principal"] * Decimal("0.0275") * min(item["years"], 5)).quantize(Decimal("1"))
            said = (
                f"书面告知处理意见：退还本金 {principal} 元，按定期存款利率补偿利息 {interest:,.0f} 元，交通费凭票据报销。"
                "说明核查情况与依据，告知可申请复核、调解、仲裁或诉讼（第十九条）。"
            )
            promised = "客户考虑期五日，期满前再联系确认"
            proof, reference = {
                "visit": ("handed_over", receipt),
                "letter": ("sms_sent", f"EMS {rng.randint(10**12, 10**13 - 1)}；" + sms),
                "sms": ("sms_sent", sms),
                "phone": ("call_placed", recording),
                "email": ("email_sent", f"邮件 {stamp} 发送至客户预留邮箱"),
            }[channel]
        elif kind == "accept":
            channel = rng.choice(["phone", "wechat"])
            said = "客户来电表示同意处理方案，约定到网点签署和解协议。"
            promised = f"{(day + timedelta(days=2)).strftime('%m月%d日')}在{place}办理签约及退款"
            proof, reference = ("call_placed", recording) if channel == "phone" else ("none", "")
        elif kind == "sign":
            channel = "home_visit" if elderly else "visit"
            said = "客户签署和解协议及保密协议（一式两份，各执一份），当场办理退保及补偿转账。客户对处理结果表示接受。"
            promised = "七日内回访，确认款项到账"
            proof, reference = "handed_over", f"和解协议 {person.branch or 'KF'}-{day.year}-{rng.randint(1, 999):04d}"
        elif kind == "callback":
            channel = "phone"
            said = "回访：客户确认本金及补偿已全部到账，无其他诉求，同意结案。"
            promised = ""
            proof, reference = "call_placed", recording
        elif kind == "withdraw":
            channel = rng.choice(["phone", "visit"])
            said = rng.choice(
                [
                    "客户与家人商量后决定继续持有保单至满期，撤回投诉。已告知如有疑问可随时联系。",
                    "客户表示已了解分红规则，不再要求退保，撤回投诉。",
                ]
            )
            promised = ""
            proof, reference = ("call_placed", recording) if channel == "phone" else ("handed_over", receipt)
        elif kind == "no_answer":
            channel = rng.choice(["phone", "phone", "sms"])
            said = "拨打预留电话无人接听，已发送短信告知联系人、联系电话及处理时限。" if channel == "phone" else "电话多次未接通，发送短信请客户回电。"
            promised = "次日上午再次拨打"
            proof, reference = "sms_sent", sms
        elif kind == "escalate":
            channel = rng.choice(["phone", "visit"])
            said = ESCALATION_SAID[person.channel].format(province=PROVINCE_SHORT[item["province_code"]])
            promised = "公司将在法定期限内作出处理决定并书面告知"
            proof, reference = ("call_placed", recording) if channel == "phone" else ("handed_over", receipt)
        elif kind == "after_escalation":
            channel = "home_visit" if person.channel == "petition" else "phone"
            said = AFTER_ESCALATION_SAID[person.channel]
            promised = "处理决定作出后第一时间书面告知"
            proof, reference = ("call_placed", recording) if channel == "phone" else ("handed_over", receipt)
        else:
            raise ValueError(kind)
        return channel, said, promised, proof, reference


def _agreement_pdf(number):
    """A one-page PDF standing in for the scanned, signed agreement."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 760, f"Confidentiality agreement (demo), complainant {number}")
    page.drawString(72, 740, "Signed by both parties; one copy each.")
    page.save()
    return buffer.getvalue()


def _minute(moment):
    return moment.replace(second=0, microsecond=0)
