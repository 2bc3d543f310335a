"""Demo brands for ``manage.py seed_demo``: the brands of the source articles and enough others to browse.

Texts of the article brands (红色家园, 海润先锋, 第一时间交给群众, 海尔蓝中党旗红 and
the inspection bureau's regulatory, service and humanistic brands) are drawn
from the articles in shared/seeds. Every typical case tells its own story from
its own domain (community, enterprise, school, village, social organization),
and two brands have adopted another brand's case (ADOPTIONS), months ago.
Everything goes through brands.services, so statuses come with their audit
rows; publication and adoption dates are then set back to when they happened.
Idempotent: a brand is found by its organization and name and left alone when
it exists, and an adoption is made once.
"""

import colorsys
import datetime
import hashlib
import io
import zlib

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from brands import images, services
from brands.models import Brand, Case, CaseAdoption
from organizations.models import Organization, User

S = Brand.Status
T = Brand.ServiceTarget
L = Brand.Level
ALL_TARGETS = [T.SUB_ORGANIZATIONS, T.MEMBERS, T.MASSES]

# The path of decisions that leads from a draft to each status.
PATHS = {
    S.DRAFT: [],
    S.SUBMITTED: ["submit"],
    S.RETURNED: ["submit", "return"],
    S.CULTIVATING: ["submit", "approve"],
    S.NAMED: ["submit", "approve", "name"],
    S.DEMONSTRATION: ["submit", "approve", "name", "demonstrate"],
    S.REVOKED: ["submit", "approve", "revoke"],
}
COMMENTS = {
    "return": "品牌定位还不够清晰，请结合服务对象的需求补充载体和年度安排后再报。",
    "approve": "同意列入培育，请按计划推进并按季度报告进展。",
    "name": "经社会化评价，服务对象认可度高，予以命名。",
    "demonstrate": "成效显著，经验可复制，确定为示范品牌。",
    "revoke": "连续两个评价周期服务对象满意度下降，整改不到位，撤销品牌。",
}

# Brands of the source articles.
ARTICLE_BRANDS = [
    {
        "organization": "中共市北区辽宁路街道华阳路社区委员会",
        "name": "红色家园",
        "slogan": "党员在网格，服务在身边",
        "concept": "把社区党组织和社区党员的作用网格化、项目化，服务社区党员和群众更方便、快捷、有效。",
        "carrier": "社区按网格设立党支部，党员认领网格服务项目，居民需求在网格内受理、在网格内办结。",
        "positioning": "面向社区居民和社区党员的家门口服务品牌，以群众评价检验服务成效。",
        "level": L.STREET,
        "status": S.DEMONSTRATION,
        "commitments": [
            "居民诉求当天受理，三个工作日内答复",
            "每个网格至少有一名党员服务员，公开联系方式",
            "每月开展一次网格党员议事会，公开办理结果",
            "对困难家庭和独居老人每周上门走访一次",
        ],
        "plan": (
            2024,
            2027,
            "用三年时间把“红色家园”建成覆盖全部网格的服务体系：网格党支部全覆盖，党员认领项目常态化，群众满意度稳定在较高水平并接受社会化评价。",
        ),
        "case": (
            "网格化、项目化：让党员作用看得见",
            "华阳路社区把党员作用落到网格和项目上，群众的事在网格里办结。",
            "华阳路社区按网格设立党支部，每名党员认领一个服务项目，居民诉求由网格党员当天受理。社区每月公开办理结果，请居民评价。两年来，居民反映的问题绝大多数在网格内解决，党员的作用看得见、群众评得着。做法可供同类社区借鉴：先划清网格，再公开项目，最后把评价交给群众。",
        ),
    },
    {
        "organization": "中共青岛海润自来水集团有限公司委员会",
        "name": "海润先锋",
        "slogan": "永远凝聚在党旗下，创国内同行业一流水平",
        "concept": "青岛海润自来水集团的共产党员永远凝聚在党旗下，以一流的供水质量和服务创国内同行业一流水平。",
        "carrier": "党员先锋岗、党员责任区和供水服务突击队，在水质检测、供水调度和客户服务一线亮身份、作表率。",
        "positioning": "国有供水企业的质量与服务品牌，服务全市用水户和企业内部各基层党组织。",
        "level": L.CITY,
        "status": S.NAMED,
        "commitments": [
            "供水抢修接报后 30 分钟内到达现场",
            "水质检测结果每月向社会公开",
            "党员先锋岗挂牌上岗，接受用户监督",
        ],
        "plan": (
            2024,
            2026,
            "以质量为核心打造“海润先锋”：党员先锋岗覆盖全部一线班组，抢修时限和水质达标率达到国内同行业一流水平。",
        ),
        "case": (
            "党员先锋岗把质量责任落到人",
            "海润自来水集团把党员先锋岗设在水质和抢修一线，质量责任到人。",
            "集团党委在水质检测中心、供水调度中心和客户服务中心设立党员先锋岗，每个岗位公开承诺和联系方式。抢修时限、水质指标按月公布，由用户评价。党员先锋岗成为企业质量管理的抓手，党建工作和生产经营相互促进。",
        ),
    },
    {
        "organization": "中共青岛市行政审批服务局政务大厅支部委员会",
        "name": "第一时间交给群众",
        "slogan": "群众最期盼的事，第一时间办",
        "concept": "在“第一时间”内解决群众最期盼解决的实际问题。",
        "carrier": "政务大厅党员窗口、首问负责和限时办结制度，群众诉求第一时间受理、第一时间反馈。",
        "positioning": "面向办事群众和企业的政务服务品牌，以群众评价作为检验标准。",
        "level": L.CITY,
        "status": S.DEMONSTRATION,
        "commitments": [
            "首问负责，群众咨询当场答复或一次告知",
            "党员窗口延时服务，不让群众白跑",
            "群众差评 24 小时内回访",
        ],
        "plan": (2025, 2027, "把“第一时间”落实到每一个窗口：首问负责全覆盖，限时办结，差评件件有回访。"),
        "case": (
            "首问负责与限时办结",
            "政务大厅党支部以“第一时间”为标准，把群众最期盼的事放在最前面。",
            "政务大厅党支部设立党员示范窗口，实行首问负责和限时办结。群众对办理结果进行评价，差评当天转到责任窗口并限期整改，整改结果请群众再评价。这一机制让“第一时间”有了可以检验的标准。",
        ),
    },
    {
        "organization": "中共海尔集团委员会",
        "name": "海尔蓝中党旗红",
        "slogan": "党员争当先锋，党组织激发创新活力",
        "concept": "鼓励党员争当先锋，激发党组织创新活力，推动企业发展。",
        "carrier": "研发、售后等一线党组织的党员创新项目和党员服务承诺。",
        "positioning": "企业党建品牌，让党建工作与企业发展相互促进。",
        "level": L.CITY,
        "status": S.DEMONSTRATION,
        "commitments": ["党员带头攻关技术难题", "售后服务党员承诺上门时限"],
        "plan": (2024, 2026, "以党员创新项目带动研发和服务质量提升，形成可复制的企业党建经验。"),
        "case": (
            "用品牌效应提升党建水平",
            "海尔集团把品牌理念导入党建，党员争当先锋，党组织激发创新活力。",
            "海尔集团党委借鉴企业品牌管理的方法创建“海尔蓝中党旗红”，鼓励党员在研发和服务一线争当先锋。这一做法为青岛在机关、社区、农村等领域创建党建品牌提供了借鉴。",
        ),
    },
    {
        "organization": "中共青岛出入境检验检疫局检验监管处支部委员会",
        "name": "依法把关 质量守门",
        "slogan": "把好进出口商品质量安全关",
        "concept": "抓住质量控制要素，构建依法行政的监管品牌，切实把好进出口商品质量安全关。",
        "carrier": "以岗位能力考核为切入点建立法治检验检疫的把关责任机制；以互联互通建立跨部门违法违规打击联动机制；以后续监管强化建立出口食品农产品反馈追溯机制。",
        "positioning": "监管品牌：面向进出口企业和社会公众，以产品质量和食品安全监管为载体。",
        "level": L.DISTRICT,
        "status": S.NAMED,
        "commitments": ["检验把关责任落实到岗到人", "出口食品农产品问题可追溯、可反馈"],
        "plan": (2025, 2027, "建立把关责任机制、跨部门联动机制和反馈追溯机制，以风险管理强化出口食品农产品质量安全。"),
        "case": None,
    },
    {
        "organization": "中共青岛出入境检验检疫局综合服务中心支部委员会",
        "name": "高效便利 服务外贸",
        "slogan": "强化服务意识，优化服务举措",
        "concept": "抓住外贸发展要素，构建高效便利的服务品牌，发挥检验监管工作的技术支撑和质量保证作用。",
        "carrier": "立足服务物流探索新型检验检疫模式；立足扶优扶强建立示范企业递进式扶持机制；立足食品安全帮扶企业完善自检自控体系；立足便利通关开展窗口能力大提升活动。",
        "positioning": "服务品牌：面向外贸企业，以便利通关和企业帮扶为重点。",
        "level": L.DISTRICT,
        "status": S.CULTIVATING,
        "commitments": ["窗口业务一次告知、限时办结", "对示范企业实行递进式扶持"],
        "plan": (2025, 2027, "开展窗口能力大提升系列活动，建立示范企业递进式扶持机制。"),
        "case": None,
    },
    {
        "organization": "中共青岛出入境检验检疫局委员会",
        "name": "比学赶超 文化立局",
        "slogan": "开拓创新，比、学、赶、超",
        "concept": "抓住夯实基础要素，构建开拓创新的人文品牌，在提高内部工作质量和人员思想政治素质、业务能力上创先争优。",
        "carrier": "围绕文化建设深化文化自觉化管理实践；围绕业务创新强化知识管理应用；围绕氛围营造丰富群团活动载体。",
        "positioning": "人文品牌：面向全局党员干部和下属党支部，着眼长远，把品牌创建成果提炼为工作制度。",
        "level": L.DISTRICT,
        "status": S.CULTIVATING,
        "commitments": ["每季度开展一次业务创新交流", "帮扶后进党支部，促进基层党建平衡发展"],
        "plan": (2025, 2028, "长计划、短安排：逐步使一般性工作成为品牌，把品牌创建成果提炼上升为一项工作制度。"),
        "case": (
            "长计划、短安排：把品牌创建成果变成制度",
            "检验检疫局党委把品牌建设分解为年度安排，并重视后进党组织的帮扶。",
            "品牌建设不能一蹴而就，要通过长计划、短安排，远近结合，逐步使一般性工作成为品牌。局党委在抓先进典型的同时抓好后进党组织的帮扶整顿，把品牌创建成果提炼上升为工作制度。",
        ),
    },
]

# Other brands: (organization, name, slogan, status, level)
OTHER_BRANDS = [
    ("中共华阳路社区第一网格支部委员会", "网格连心", "一格一员，事事有人管", S.CULTIVATING, L.GRASSROOTS),
    ("中共华阳路社区第二网格支部委员会", "楼道红管家", "小楼道里的大服务", S.DRAFT, L.GRASSROOTS),
    ("中共市北区辽宁路街道大连路社区委员会", "邻里红帮办", "邻里的事，帮着办", S.NAMED, L.STREET),
    ("中共市北区台东街道威海路社区委员会", "红色驿站", "家门口的党群服务站", S.CULTIVATING, L.STREET),
    ("中共市北区台东街道台东一路社区委员会", "老街新风", "老街区里的新服务", S.SUBMITTED, L.STREET),
    ("中共青岛海信网络科技股份有限公司支部委员会", "智慧先锋", "党员带头攻坚智慧交通", S.CULTIVATING, L.GRASSROOTS),
    ("中共青岛啤酒文化传播有限公司支部委员会", "匠心传承", "百年品质，党员守护", S.RETURNED, L.GRASSROOTS),
    ("中共青岛第二十六中学总支部委员会", "红烛引航", "党员教师，学生引路人", S.NAMED, L.DISTRICT),
    ("中共市南区八大峡街道团岛社区委员会", "海岸红哨", "守护海岸线上的家园", S.CULTIVATING, L.STREET),
    ("中共市南区八大峡街道西藏路社区委员会", "暖心议事厅", "居民的事，大家商量着办", S.DEMONSTRATION, L.STREET),
    ("中共市南区志愿者协会支部委员会", "志愿红", "有需要的地方就有志愿者", S.NAMED, L.GRASSROOTS),
    ("中共市南区社区服务发展中心支部委员会", "社区服务直通车", "服务资源一站直达", S.REVOKED, L.GRASSROOTS),
    ("中共王哥庄街道港东村支部委员会", "渔村振兴", "党员带富，渔村兴旺", S.CULTIVATING, L.GRASSROOTS),
    ("中共王哥庄街道晓望村支部委员会", "茶香党建", "一片茶叶富一方百姓", S.NAMED, L.GRASSROOTS),
    ("中共王哥庄街道青山村支部委员会", "青山红", "守护青山，服务村民", S.SUBMITTED, L.GRASSROOTS),
    ("中共沙子口街道东麦窑村支部委员会", "美丽乡村先锋", "人居环境党员先行", S.CULTIVATING, L.GRASSROOTS),
    ("中共沙子口街道流清河村支部委员会", "民宿红管家", "乡村旅游，党员领办", S.DRAFT, L.GRASSROOTS),
    ("中共李沧区李村街道东李社区委员会", "红色物业", "党建引领物业服务", S.DEMONSTRATION, L.STREET),
    ("中共李沧区李村街道西大村社区委员会", "村改居连心桥", "村改居，服务不断线", S.CULTIVATING, L.STREET),
    ("中共海润自来水集团客户服务中心支部委员会", "热线先锋", "用户来电，党员先接", S.CULTIVATING, L.GRASSROOTS),
    ("中共海润自来水集团水质检测中心支部委员会", "水质卫士", "每一滴水都经得起检验", S.NAMED, L.GRASSROOTS),
    ("中共海尔集团售后服务中心支部委员会", "服务零距离", "党员服务，用户零抱怨", S.CULTIVATING, L.GRASSROOTS),
    ("中共青岛大学计算机学院学生第一支部委员会", "代码报国", "学生党员技术志愿服务社区", S.CULTIVATING, L.GRASSROOTS),
    ("中共青岛出入境检验检疫局卫生检疫处支部委员会", "国门卫士", "守国门，护健康", S.RETURNED, L.GRASSROOTS),
    ("中共青岛市行政审批服务局机关第二支部委员会", "审批提速", "少跑腿，快办事", S.REVOKED, L.GRASSROOTS),
    ("中共海尔集团研发中心第一支部委员会", "创新攻关队", "党员挑大梁，技术攻难关", S.DRAFT, L.GRASSROOTS),
]

# Typical experiences of the other brands: (title, summary, body), each its own story from its own domain.
CASES = {
    "邻里红帮办": (
        "“帮办清单”：老人少跑腿，党员多跑路",
        "大连路社区把独居老人最常办的23件事列成帮办清单，由党员按楼栋认领代办，办理进度在楼道公示栏公开。",
        "大连路社区60岁以上的居民占四成，不少是独居老人，养老金资格认证、医保报销、燃气缴费这些小事成了难事。"
        "社区党委把老人最常办的23件事列成“帮办清单”，38名在职和退休党员按楼栋认领，老人打一个电话，"
        "或在门把手上挂一张“帮办卡”就行。每件事登记受理和办结时间，进度在楼道公示栏公开，办完由老人评价。"
        "一年来累计代办1600余件，平均3天办结。体会是：清单要从老人的真实需求里来，认领要落到具体楼栋和具体的人，"
        "办得好不好要让老人自己说。",
    ),
    "红烛引航": (
        "一名党员教师结对一名学生：把“引路”落到每周一次",
        "二十六中党员教师与学习或家庭有困难的学生一对一结对，每周一次课后辅导、每学期两次家访，由家长和学生评价。",
        "学校党总支把党员教师做学生“引路人”的要求具体化：每名党员教师结对一至两名学习或家庭有困难的学生，"
        "每周至少一次课后辅导，每学期至少两次家访，结对名单和辅导记录在年级组公开。为防止结对只挂名，"
        "党总支每学期请家长和学生给结对教师打分，结果与评先评优挂钩。两个学期下来，结对学生的作业完成率和出勤率"
        "明显提高，有家长在评价里写“孩子愿意和老师说话了”。关键是把承诺量化成次数和时限，再交给服务对象评价。",
    ),
    "暖心议事厅": (
        "老楼加装电梯：在议事厅里把“众口难调”谈成“一致同意”",
        "西藏路社区党委搭建“暖心议事厅”，用“提议—商议—表决—公示”四步法推动老楼加装电梯等难事。",
        "老楼加装电梯，高层住户盼，低层住户愁，常常一户不同意就搁浅。西藏路社区党委把议事厅设到楼道口，"
        "由党员楼长牵头，按提议、商议、表决、公示四步走：居民先提出议题，再请设计单位和低层住户代表一起商量"
        "补偿和采光方案，方案经本单元住户表决通过后公示七天。两年来议事厅议定事项41件，6部电梯已投入使用。"
        "每次议事都有记录，居民可以查阅，也可以对议事结果评价。",
    ),
    "志愿红": (
        "志愿服务“时间银行”：先问需求，再派服务",
        "志愿者协会党支部建立“时间银行”，先登记居民需求再派志愿者，服务时长可存可取，党员志愿者带头接难单。",
        "过去的志愿活动多是“我们有什么就送什么”，居民真正需要的陪诊、助浴、夜间看护却少有人接。协会党支部把"
        "居民需求逐条登记，按需求派单，党员志愿者优先认领陪诊、夜间看护等难单。志愿者的服务时长记入“时间银行”，"
        "将来本人或家人需要时可以兑换服务。每单服务结束后由服务对象评价，差评由党支部回访。一年来登记需求900余条，"
        "派单办结率九成以上，其中三分之一由党员志愿者完成。",
    ),
    "茶香党建": (
        "支部领办合作社：一片茶叶富了一个村",
        "晓望村党支部领办茶叶专业合作社，统一标准、统一品牌、统一销售，带动茶农增收。",
        "晓望村家家种茶，过去各炒各卖，品质参差不齐，价格常被收购商压低。村党支部牵头成立茶叶专业合作社，"
        "党员带头入社，定下统一的采摘和炒制标准，注册统一品牌，并请返乡大学生党员开网店、做直播。合作社账目"
        "每季度向全体社员公开，分红方案经社员大会表决。三年来入社农户从27户增加到160户，户均茶叶收入明显增加。"
        "要点是支部领办而不包办：规则由社员定，账目向社员公开。",
    ),
    "红色物业": (
        "三方联动：把物业服务纳入社区党建",
        "东李社区党委推动社区、物业企业和业主委员会三方联动，物业服务由居民按月评价，结果纳入物业考核。",
        "东李社区老旧小区多，物业投诉一度占到社区全部投诉的一半以上。社区党委推动在物业项目成立党的工作小组，"
        "物业企业的党员员工亮身份上岗；每月召开社区、物业、业委会三方联席会，商量维修资金使用、停车、垃圾分类等"
        "问题。居民扫码按月评价物业服务，评价结果纳入对物业企业的考核，连续两个月评价靠后的项目要到联席会上"
        "说明整改措施。一年内物业类投诉下降了六成。",
    ),
    "水质卫士": (
        "水质开放日：请用户到实验室看检测",
        "水质检测中心党支部每月举办水质开放日，请用户带自家自来水到实验室现场检测，检测数据按月向社会公开。",
        "用户对自来水质量的疑虑，很多来自“看不见”。水质检测中心党支部每月第一个周六举办水质开放日，"
        "由党员检测员带居民参观实验室，居民可以带自家的自来水来现场检测，当场看结果、听讲解。中心同时承诺："
        "用户反映水质异常，24小时内上门取样，48小时内反馈结果。开放日至今接待居民和学生3000余人次，"
        "水质类投诉明显减少。",
    ),
    "渔村振兴": (
        "党员带船：让渔民安全出海，让渔获卖上好价",
        "港东村党支部组织党员船长结对普通渔船，出海互相照应，并牵头建设村集体冷库，解决渔获“卖难、卖贱”。",
        "港东村靠近海捕捞为生，过去渔船各自出海，遇到风浪无人照应；渔获集中上岸时，又被收购商压价。"
        "村党支部组织12名党员船长每人结对3至5条渔船，出海前一起研判天气，海上保持通讯联络。支部还争取资金"
        "建起村集体冷库，渔获可以错峰销售。近两年全村没有发生海上安全事故，渔获平均售价有所提高。"
        "冷库收支由村务监督委员会每季度公开。",
    ),
    "代码报国": (
        "学生党员进社区：教老人用智能手机",
        "计算机学院学生党支部开设“数字助老课堂”，学生党员每周进社区，教老人用手机挂号、缴费、视频通话。",
        "不少老人不会用手机挂号、缴费，在数字时代遇到了新难题。计算机学院学生第一党支部与周边三个社区结对，"
        "开设“数字助老课堂”：学生党员每周六上午进社区，一对一教老人网上挂号、手机缴费和视频通话，并把常用操作"
        "做成大字版图解手册。每次课后请老人评价；针对老人反映“回家就忘”，支部又开通了电话答疑。一年来开课40余次，"
        "服务老人800余人次。",
    ),
    "智慧先锋": (
        "党员攻坚队优化学校周边信号灯",
        "海信网络科技党支部组建党员攻坚队，根据家长和居民的意见，重新设计学校周边路口的信号配时，缓解上下学拥堵。",
        "每到上下学时段，学校周边路口拥堵严重，家长和居民意见很大。公司党支部组建党员工程师攻坚队，先收集家长和"
        "居民的意见，再逐个路口采集车流数据，重新设计上下学时段的信号配时，并与交警部门联合试运行。方案实施后，"
        "试点路口高峰时段的平均通行时间明显缩短。攻坚队把每个路口优化前后的数据向社区公开，请居民评价，"
        "再按评价微调。",
    ),
}

# Brands that took up another brand's published case (推广): (adopting brand, brand whose case it is,
# days ago, how it is applied). evaluations.demo shapes the adopters' ratings around these dates.
ADOPTIONS = [
    (
        "服务零距离",
        "第一时间交给群众",
        130,
        "借鉴首问负责和限时办结：售后热线实行首接负责制，上门服务限时到达，差评24小时内回访。",
    ),
    (
        "村改居连心桥",
        "红色物业",
        100,
        "借鉴三方联动：成立社区、物业和居民代表联席会，物业服务由居民按月评价，评价靠后的项目限期整改。",
    ),
]

MILESTONES = [
    ("建立工作机制，明确责任分工", -300, 2, True),
    ("公开服务承诺，接受群众监督", -150, 3, True),
    ("开展第一次社会化评价并整改", -20, 3, False),
    ("总结年度经验，形成制度", 120, 2, False),
]


def _logo_png(seed_text: str) -> bytes:
    """A simple coloured emblem (no text, so no font is needed), stable for a given brand."""
    digest = hashlib.sha256(seed_text.encode()).digest()
    hue = digest[0] / 255
    r, g, b = (round(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.65, 0.8))
    image = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 248, 248), fill=(183, 28, 28, 255))
    draw.ellipse((40, 40, 216, 216), fill=(r, g, b, 255))
    points = 3 + digest[1] % 4
    inset = 60 + digest[2] % 20
    draw.regular_polygon((128, 128, 128 - inset), points, rotation=digest[3] % 90, fill=(255, 255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _photo_jpeg(seed_text: str) -> bytes:
    """A landscape 'photo' of coloured bands standing in for an activity picture (no text, no font)."""
    digest = hashlib.sha256(seed_text.encode()).digest()
    image = Image.new("RGB", (960, 640), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    for band in range(6):
        hue = (digest[band] / 255 + band * 0.08) % 1
        r, g, b = (round(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.45, 0.85))
        draw.rectangle((0, band * 107, 960, band * 107 + 107), fill=(r, g, b))
    draw.ellipse((380, 200, 580, 400), fill=(183, 28, 28))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _other_spec(organization: Organization, name: str, slogan: str, status: str, level: str) -> dict:
    short = organization.short_name or organization.name
    return {
        "organization": organization.name,
        "name": name,
        "slogan": slogan,
        "concept": f"{short}以“{name}”为载体，把党组织和党员的作用落到服务对象最关心的事情上，由服务对象评价工作成效。",
        "carrier": f"党员责任区、党员承诺和定期公开办理结果；{slogan}。",
        "positioning": f"面向{organization.get_domain_display()}领域服务对象的基层党建品牌。",
        "level": level,
        "status": status,
        "commitments": [f"{slogan}", "服务事项公开承诺、限时办结", "每季度公开一次群众评价和整改情况"],
        "plan": (2025, 2027, f"三年内把“{name}”建成服务对象认可的品牌：机制健全、承诺公开、评价常态化。"),
        "case": CASES.get(name),
    }


def _seed_brand(spec: dict, *, admin: User, reviewer: User) -> dict[str, int]:
    created = {"brands": 0, "commitments": 0, "milestones": 0, "reports": 0, "cases": 0, "status changes": 0}
    organization = Organization.objects.get(name=spec["organization"])
    if Brand.objects.filter(organization=organization, name=spec["name"]).exists():
        return created
    logo = images.normalize(ContentFile(_logo_png(spec["name"]), name="logo.png"), kind="logo")
    data = {key: spec[key] for key in ("name", "slogan", "concept", "carrier", "positioning", "level")}
    data["service_targets"] = list(ALL_TARGETS)
    brand = services.brand_create(user=admin, organization=organization, data=data, logo=logo)
    created["brands"] = 1
    for text in spec["commitments"]:
        services.commitment_add(user=admin, brand=brand, text=text)
        created["commitments"] += 1
    start, end, goals = spec["plan"]
    services.plan_save(user=admin, brand=brand, start_year=start, end_year=end, goals=goals)
    today = timezone.localdate()
    # Weights vary per brand (stable for a name), so the demo shows different progress figures.
    digest = hashlib.sha256(spec["name"].encode()).digest()
    for index, (title, days, weight, done) in enumerate(MILESTONES):
        weight = weight + digest[index] % 3
        milestone = services.milestone_add(
            user=admin, brand=brand, title=title, due_date=today + datetime.timedelta(days=days), weight=weight
        )
        created["milestones"] += 1
        if done and spec["status"] != S.DRAFT:
            photos = []
            if spec in ARTICLE_BRANDS:  # the article brands show photo reports; the others stay light
                photo = ContentFile(_photo_jpeg(spec["name"] + title), name="photo.jpg")
                photos.append(images.normalize(photo, kind="photo"))
            services.progress_report_add(
                user=admin,
                milestone=milestone,
                text=f"“{title}”已按计划完成，情况已向党员群众公开。",
                photos=photos,
            )
            services.milestone_set_done(user=admin, milestone=milestone, done=True)
            created["reports"] += 1
    for decision in PATHS[spec["status"]]:
        if decision == "submit":
            brand = services.brand_submit(user=admin, brand=brand)
        else:
            brand = services.brand_review(user=reviewer, brand=brand, decision=decision, comment=COMMENTS[decision])
        created["status changes"] += 1
    if spec.get("case"):
        title, summary, body = spec["case"]
        case = services.case_save(
            user=admin, brand=brand, data={"title": title, "summary": summary, "body": body}, submit=True
        )
        if brand.is_public and spec["name"] != "比学赶超 文化立局":  # one stays in the reviewers' queue
            services.case_publish(user=reviewer, case=case)
            # Published months ago, before the adoptions below (the service stamps the current time).
            days = 150 + zlib.crc32(spec["name"].encode()) % 150
            Case.objects.filter(pk=case.pk).update(published_at=timezone.now() - datetime.timedelta(days=days))
        created["cases"] += 1
    return created


def seed(stdout=None) -> dict[str, int]:
    admin = User.objects.get(username="admin")
    reviewer = User.objects.get(username="reviewer")
    specs = list(ARTICLE_BRANDS)
    for org_name, name, slogan, status, level in OTHER_BRANDS:
        specs.append(_other_spec(Organization.objects.get(name=org_name), name, slogan, status, level))
    totals: dict[str, int] = {}
    for spec in specs:
        for key, value in _seed_brand(spec, admin=admin, reviewer=reviewer).items():
            totals[key] = totals.get(key, 0) + value
    totals["adoptions"] = _seed_adoptions(admin=admin)
    return totals


def _seed_adoptions(*, admin: User) -> int:
    """The ADOPTIONS, through the service, dated back to the day each took place; one already there is kept."""
    created = 0
    today = timezone.localdate()
    for adopter_name, case_brand_name, days_ago, note in ADOPTIONS:
        adopter = Brand.objects.filter(name=adopter_name).first()
        case = Case.objects.filter(brand__name=case_brand_name, status=Case.Status.PUBLISHED).first()
        if adopter is None or case is None or CaseAdoption.objects.filter(case=case, brand=adopter).exists():
            continue
        adoption = services.case_adopt(user=admin, case=case, brand=adopter, note=note)
        CaseAdoption.objects.filter(pk=adoption.pk).update(adopted_on=today - datetime.timedelta(days=days_ago))
        created += 1
    return created
