"""Who may see and cancel a project's jobs. Projects and roles belong to an app, and this package imports none:
the setting DEFECTLAB_JOB_PROJECT_ACCESS names the function that answers (annotation's), looked up on first
use, so importing the jobs models or services never imports an app."""

from collections.abc import Callable
from enum import IntEnum
from functools import cache
from typing import cast

from django.conf import settings
from django.contrib.auth.models import User
from django.utils.module_loading import import_string


class JobAccess(IntEnum):
    """Ordered: each level includes the ones below it."""

    NONE = 0  # not a member: the project's jobs do not exist for this user (404)
    VIEW = 1  # a member: sees the project's jobs, cancels the ones they started
    MANAGE = 2  # manages the project: also cancels anyone's


ProjectAccessCheck = Callable[..., JobAccess]  # (*, user, project_id) -> JobAccess


@cache
def _project_access_check(path: str) -> ProjectAccessCheck:
    return cast(ProjectAccessCheck, import_string(path))


def project_job_access(*, user: User, project_id: int) -> JobAccess:
    if not user.is_authenticated:
        return JobAccess.NONE
    return _project_access_check(settings.DEFECTLAB_JOB_PROJECT_ACCESS)(user=user, project_id=project_id)
