"""Who may do what with the assist, in one place; project membership scopes everything (annotation.selectors)."""

from enum import Enum

from django.contrib.auth.models import User

from annotation.models import Project, Role
from annotation.selectors import project_get_for_user
from defectlab.errors import PermissionDenied


class AssistAction(Enum):
    VIEW_ENGINES = "view_engines"  # which engines this server has, and which one a project prefers
    PRELABEL = "prelabel"  # start pre-label jobs: suggestions for the inspectors who will work on the images
    VIEW_STATISTICS = "view_statistics"  # acceptance, IoU and time per image, per class and per engine
    VIEW_MODELS = "view_models"  # training runs, the model registry, evaluations, model files
    EVALUATE = "evaluate"  # evaluate a model on a dataset version's test split (a job)
    TRAIN = "train"  # start a training run (it holds a GPU host for hours)
    PROMOTE = "promote"  # choose the model pre-labels and the assist use
    REVIEW_LABELS = "review_labels"  # the model's label-next ranking and label-error review queue, and their jobs


# Drawing with the assist and deciding suggestions is labelling: annotation's Capability.LABEL, checked with the
# image (an inspector only on images assigned to them), as for drawing by hand.
_EVERYONE = frozenset({AssistAction.VIEW_ENGINES})
ROLE_ASSIST_ACTIONS: dict[str, frozenset[AssistAction]] = {
    # Inspectors do not see the statistics: they would show other annotators' acceptance rates.
    Role.INSPECTOR: _EVERYONE,
    # Seniors assign the work the ranking orders and judge the labels the model doubts.
    Role.SENIOR: _EVERYONE
    | {AssistAction.PRELABEL, AssistAction.VIEW_STATISTICS, AssistAction.VIEW_MODELS, AssistAction.REVIEW_LABELS},
    Role.ML_ENGINEER: _EVERYONE | {AssistAction.VIEW_STATISTICS, AssistAction.VIEW_MODELS, AssistAction.EVALUATE},
    Role.ADMIN: frozenset(AssistAction),
}


def assist_allows(role: str | None, action: AssistAction) -> bool:
    return role is not None and action in ROLE_ASSIST_ACTIONS.get(role, frozenset())


def project_get_for_assist(*, user: User, project_id: int, action: AssistAction) -> tuple[Project, str]:
    """The project and the user's role, if the role may do `action`: 404 for non-members, 403 for the role."""
    project, role = project_get_for_user(user=user, project_id=project_id)
    if not assist_allows(role, action):
        raise PermissionDenied(f"Your role ({role}) may not {action.value.replace('_', ' ')} in this project.")
    return project, role
