"""Who may do what in QA, in one place. Project membership scopes everything (annotation.selectors)."""

from enum import Enum

from django.contrib.auth.models import User

from annotation.models import Project, Role
from annotation.selectors import project_get_for_user
from defectlab.errors import PermissionDenied


class QaAction(Enum):
    VIEW_POLICY = "view_policy"  # read the QA policy (thresholds, rates)
    FLAG_EDGE_CASE = "flag_edge_case"  # anyone who can see an image may flag it
    VIEW_PRECEDENTS = "view_precedents"  # decided edge cases attached to a defect class
    ASSIGN = "assign"  # hand images out for dual annotation
    ADJUDICATE = "adjudicate"  # the adjudication queue: decide disagreements
    SPOT_CHECK = "spot_check"  # draw samples, the spot-check queue: accept or return
    DECIDE_EDGE_CASE = "decide_edge_case"  # record consensus decisions and precedents
    RE_REVIEW = "re_review"  # final annotations flagged by taxonomy changes
    VIEW_ALL_EDGE_CASES = "view_all_edge_cases"  # not only one's own flags
    VIEW_STATISTICS = "view_statistics"  # per-annotator and per-class agreement, the QA page
    MANAGE_POLICY = "manage_policy"  # edit the QA policy (adds a version)


_EVERYONE = frozenset({QaAction.VIEW_POLICY, QaAction.FLAG_EDGE_CASE, QaAction.VIEW_PRECEDENTS})
_REVIEWER = _EVERYONE | {
    QaAction.ASSIGN,
    QaAction.ADJUDICATE,
    QaAction.SPOT_CHECK,
    QaAction.DECIDE_EDGE_CASE,
    QaAction.RE_REVIEW,
    QaAction.VIEW_ALL_EDGE_CASES,
    QaAction.VIEW_STATISTICS,
}
ROLE_QA_ACTIONS: dict[str, frozenset[QaAction]] = {
    # Inspectors see neither the queues nor other annotators' rates: in dual annotation they must not learn
    # what the other annotator drew.
    Role.INSPECTOR: _EVERYONE,
    Role.SENIOR: _REVIEWER,
    Role.ML_ENGINEER: _EVERYONE | {QaAction.VIEW_ALL_EDGE_CASES, QaAction.VIEW_STATISTICS},
    Role.ADMIN: frozenset(QaAction),
}


def qa_allows(role: str | None, action: QaAction) -> bool:
    return role is not None and action in ROLE_QA_ACTIONS.get(role, frozenset())


def qa_check(role: str | None, action: QaAction) -> None:
    if not qa_allows(role, action):
        raise PermissionDenied(f"Your role ({role}) may not {action.value.replace('_', ' ')} in this project.")


def project_get_for_qa(*, user: User, project_id: int, action: QaAction) -> tuple[Project, str]:
    """The project and the user's role, if the role may do `action`: 404 for non-members, 403 for the role."""
    project, role = project_get_for_user(user=user, project_id=project_id)
    qa_check(role, action)
    return project, role
