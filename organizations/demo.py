"""Demo organization tree and accounts for ``manage.py seed_demo``.

Idempotent: organizations are found by name, users by username, and nothing
that exists is changed, so a second run adds no rows.
"""

from organizations.models import Membership, Organization, User

DEMO_PASSWORD = "demo12345"

L = Organization.Level
D = Organization.Domain

# (name, short name, level, domain, region, children)
TREE = (
    "中共青岛市委员会",
    "中共青岛市委",
    L.CITY_COMMITTEE,
    D.ORGAN,
    "青岛市",
    [
        (
            "中共青岛市直属机关工作委员会",
            "市直机关工委",
            L.WORKING_COMMITTEE,
            D.ORGAN,
            "青岛市",
            [
                (
                    "中共青岛市行政审批服务局委员会",
                    "市行政审批局党委",
                    L.COMMITTEE,
                    D.ORGAN,
                    "青岛市",
                    [
                        (
                            "中共青岛市行政审批服务局政务大厅支部委员会",
                            "政务大厅党支部",
                            L.BRANCH,
                            D.ORGAN,
                            "青岛市",
                            [],
                        ),
                        (
                            "中共青岛市行政审批服务局机关第二支部委员会",
                            "审批局机关二支部",
                            L.BRANCH,
                            D.ORGAN,
                            "青岛市",
                            [],
                        ),
                    ],
                ),
                (
                    "中共青岛出入境检验检疫局委员会",
                    "检验检疫局党委",
                    L.COMMITTEE,
                    D.ORGAN,
                    "青岛市",
                    [
                        (
                            "中共青岛出入境检验检疫局卫生检疫处支部委员会",
                            "卫生检疫处党支部",
                            L.BRANCH,
                            D.ORGAN,
                            "青岛市",
                            [],
                        ),
                        (
                            "中共青岛出入境检验检疫局检验监管处支部委员会",
                            "检验监管处党支部",
                            L.BRANCH,
                            D.ORGAN,
                            "青岛市",
                            [],
                        ),
                        (
                            "中共青岛出入境检验检疫局综合服务中心支部委员会",
                            "综合服务中心党支部",
                            L.BRANCH,
                            D.ORGAN,
                            "青岛市",
                            [],
                        ),
                    ],
                ),
            ],
        ),
        (
            "中共青岛市人民政府国有资产监督管理委员会委员会",
            "市国资委党委",
            L.COMMITTEE,
            D.STATE_ENTERPRISE,
            "青岛市",
            [
                (
                    "中共青岛海润自来水集团有限公司委员会",
                    "海润自来水集团党委",
                    L.COMMITTEE,
                    D.STATE_ENTERPRISE,
                    "青岛市",
                    [
                        (
                            "中共海润自来水集团供水调度中心支部委员会",
                            "供水调度中心党支部",
                            L.BRANCH,
                            D.STATE_ENTERPRISE,
                            "市北区",
                            [],
                        ),
                        (
                            "中共海润自来水集团水质检测中心支部委员会",
                            "水质检测中心党支部",
                            L.BRANCH,
                            D.STATE_ENTERPRISE,
                            "李沧区",
                            [],
                        ),
                        (
                            "中共海润自来水集团客户服务中心支部委员会",
                            "客户服务中心党支部",
                            L.BRANCH,
                            D.STATE_ENTERPRISE,
                            "市南区",
                            [],
                        ),
                    ],
                ),
                (
                    "中共海尔集团委员会",
                    "海尔集团党委",
                    L.COMMITTEE,
                    D.STATE_ENTERPRISE,
                    "崂山区",
                    [
                        (
                            "中共海尔集团研发中心总支部委员会",
                            "海尔研发中心党总支",
                            L.GENERAL_BRANCH,
                            D.STATE_ENTERPRISE,
                            "崂山区",
                            [
                                (
                                    "中共海尔集团研发中心第一支部委员会",
                                    "研发一支部",
                                    L.BRANCH,
                                    D.STATE_ENTERPRISE,
                                    "崂山区",
                                    [],
                                ),
                                (
                                    "中共海尔集团研发中心第二支部委员会",
                                    "研发二支部",
                                    L.BRANCH,
                                    D.STATE_ENTERPRISE,
                                    "崂山区",
                                    [],
                                ),
                            ],
                        ),
                        (
                            "中共海尔集团售后服务中心支部委员会",
                            "海尔售后服务党支部",
                            L.BRANCH,
                            D.STATE_ENTERPRISE,
                            "崂山区",
                            [],
                        ),
                    ],
                ),
            ],
        ),
        (
            "中共青岛大学委员会",
            "青岛大学党委",
            L.COMMITTEE,
            D.SCHOOL,
            "市南区",
            [
                (
                    "中共青岛大学计算机学院总支部委员会",
                    "计算机学院党总支",
                    L.GENERAL_BRANCH,
                    D.SCHOOL,
                    "崂山区",
                    [
                        (
                            "中共青岛大学计算机学院学生第一支部委员会",
                            "计算机学生一支部",
                            L.BRANCH,
                            D.SCHOOL,
                            "崂山区",
                            [],
                        ),
                    ],
                ),
            ],
        ),
        (
            "中共青岛市市北区委员会",
            "市北区委",
            L.DISTRICT_COMMITTEE,
            D.ORGAN,
            "市北区",
            [
                (
                    "中共青岛市市北区辽宁路街道工作委员会",
                    "辽宁路街道党工委",
                    L.WORKING_COMMITTEE,
                    D.COMMUNITY,
                    "市北区",
                    [
                        (
                            "中共市北区辽宁路街道华阳路社区委员会",
                            "华阳路社区党委",
                            L.COMMITTEE,
                            D.COMMUNITY,
                            "市北区",
                            [
                                (
                                    "中共华阳路社区第一网格支部委员会",
                                    "华阳路第一网格党支部",
                                    L.BRANCH,
                                    D.COMMUNITY,
                                    "市北区",
                                    [],
                                ),
                                (
                                    "中共华阳路社区第二网格支部委员会",
                                    "华阳路第二网格党支部",
                                    L.BRANCH,
                                    D.COMMUNITY,
                                    "市北区",
                                    [],
                                ),
                            ],
                        ),
                        (
                            "中共市北区辽宁路街道大连路社区委员会",
                            "大连路社区党委",
                            L.COMMITTEE,
                            D.COMMUNITY,
                            "市北区",
                            [],
                        ),
                    ],
                ),
                (
                    "中共青岛市市北区台东街道工作委员会",
                    "台东街道党工委",
                    L.WORKING_COMMITTEE,
                    D.COMMUNITY,
                    "市北区",
                    [
                        (
                            "中共市北区台东街道威海路社区委员会",
                            "威海路社区党委",
                            L.COMMITTEE,
                            D.COMMUNITY,
                            "市北区",
                            [],
                        ),
                        (
                            "中共市北区台东街道台东一路社区委员会",
                            "台东一路社区党委",
                            L.COMMITTEE,
                            D.COMMUNITY,
                            "市北区",
                            [],
                        ),
                    ],
                ),
                (
                    "中共青岛市市北区非公有制经济组织工作委员会",
                    "市北区非公工委",
                    L.WORKING_COMMITTEE,
                    D.PRIVATE_ENTERPRISE,
                    "市北区",
                    [
                        (
                            "中共青岛海信网络科技股份有限公司支部委员会",
                            "海信网络科技党支部",
                            L.BRANCH,
                            D.PRIVATE_ENTERPRISE,
                            "市北区",
                            [],
                        ),
                        (
                            "中共青岛啤酒文化传播有限公司支部委员会",
                            "啤酒文化公司党支部",
                            L.BRANCH,
                            D.PRIVATE_ENTERPRISE,
                            "市北区",
                            [],
                        ),
                    ],
                ),
                ("中共青岛第二十六中学总支部委员会", "二十六中党总支", L.GENERAL_BRANCH, D.SCHOOL, "市北区", []),
            ],
        ),
        (
            "中共青岛市市南区委员会",
            "市南区委",
            L.DISTRICT_COMMITTEE,
            D.ORGAN,
            "市南区",
            [
                (
                    "中共青岛市市南区八大峡街道工作委员会",
                    "八大峡街道党工委",
                    L.WORKING_COMMITTEE,
                    D.COMMUNITY,
                    "市南区",
                    [
                        ("中共市南区八大峡街道团岛社区委员会", "团岛社区党委", L.COMMITTEE, D.COMMUNITY, "市南区", []),
                        (
                            "中共市南区八大峡街道西藏路社区委员会",
                            "西藏路社区党委",
                            L.COMMITTEE,
                            D.COMMUNITY,
                            "市南区",
                            [],
                        ),
                    ],
                ),
                (
                    "中共青岛市市南区社会组织综合委员会",
                    "市南区社会组织党委",
                    L.COMMITTEE,
                    D.SOCIAL,
                    "市南区",
                    [
                        ("中共市南区志愿者协会支部委员会", "志愿者协会党支部", L.BRANCH, D.SOCIAL, "市南区", []),
                        (
                            "中共市南区社区服务发展中心支部委员会",
                            "社区服务中心党支部",
                            L.BRANCH,
                            D.SOCIAL,
                            "市南区",
                            [],
                        ),
                    ],
                ),
            ],
        ),
        (
            "中共青岛市崂山区委员会",
            "崂山区委",
            L.DISTRICT_COMMITTEE,
            D.ORGAN,
            "崂山区",
            [
                (
                    "中共青岛市崂山区王哥庄街道工作委员会",
                    "王哥庄街道党工委",
                    L.WORKING_COMMITTEE,
                    D.RURAL,
                    "崂山区",
                    [
                        ("中共王哥庄街道港东村支部委员会", "港东村党支部", L.BRANCH, D.RURAL, "崂山区", []),
                        ("中共王哥庄街道晓望村支部委员会", "晓望村党支部", L.BRANCH, D.RURAL, "崂山区", []),
                        ("中共王哥庄街道青山村支部委员会", "青山村党支部", L.BRANCH, D.RURAL, "崂山区", []),
                    ],
                ),
                (
                    "中共青岛市崂山区沙子口街道工作委员会",
                    "沙子口街道党工委",
                    L.WORKING_COMMITTEE,
                    D.RURAL,
                    "崂山区",
                    [
                        ("中共沙子口街道东麦窑村支部委员会", "东麦窑村党支部", L.BRANCH, D.RURAL, "崂山区", []),
                        ("中共沙子口街道流清河村支部委员会", "流清河村党支部", L.BRANCH, D.RURAL, "崂山区", []),
                    ],
                ),
            ],
        ),
        (
            "中共青岛市李沧区委员会",
            "李沧区委",
            L.DISTRICT_COMMITTEE,
            D.ORGAN,
            "李沧区",
            [
                (
                    "中共青岛市李沧区李村街道工作委员会",
                    "李村街道党工委",
                    L.WORKING_COMMITTEE,
                    D.COMMUNITY,
                    "李沧区",
                    [
                        ("中共李沧区李村街道东李社区委员会", "东李社区党委", L.COMMITTEE, D.COMMUNITY, "李沧区", []),
                        (
                            "中共李沧区李村街道西大村社区委员会",
                            "西大村社区党委",
                            L.COMMITTEE,
                            D.COMMUNITY,
                            "李沧区",
                            [],
                        ),
                    ],
                ),
            ],
        ),
    ],
)

# username → (display name, role, organization name); None role: superuser.
USERS = {
    "admin": ("系统管理员", None, None),
    "reviewer": ("市委组织部 审核员", Membership.Role.REVIEWER, "中共青岛市委员会"),
    "district_reviewer": ("市北区委组织部 审核员", Membership.Role.REVIEWER, "中共青岛市市北区委员会"),
    "secretary": ("华阳路社区党委书记", Membership.Role.SECRETARY, "中共市北区辽宁路街道华阳路社区委员会"),
    "secretary2": ("海润自来水集团党委书记", Membership.Role.SECRETARY, "中共青岛海润自来水集团有限公司委员会"),
}


def _ensure(node_spec, parent: Organization | None) -> int:
    name, short_name, level, domain, region, children = node_spec
    created = 0
    organization = Organization.objects.filter(name=name).first()
    if organization is None:
        fields = dict(name=name, short_name=short_name, level=level, domain=domain, region=region)
        if parent is None:
            organization = Organization.objects.add_root(fields)
        else:
            organization = Organization.objects.add_child(parent, fields)
        created = 1
    for child in children:
        created += _ensure(child, organization)
    return created


def seed(stdout=None) -> dict[str, int]:
    created_orgs = _ensure(TREE, None)
    created_users = 0
    for username, (display_name, role, org_name) in USERS.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, display_name=display_name, email=f"{username}@example.org")
            user.set_password(DEMO_PASSWORD)
            if role is None:
                user.is_superuser = user.is_staff = True
            user.save()
            created_users += 1
        if role is not None:
            organization = Organization.objects.get(name=org_name)
            Membership.objects.get_or_create(user=user, organization=organization, role=role)
    return {"organizations": created_orgs, "users": created_users}
