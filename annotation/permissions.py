"""Who may do what in a project, in one place. Every API view and page asks here.

Membership scopes everything: a user who is not a member of a project cannot learn that its rows exist.
Django superusers act as admins of every project.
"""

from enum import Enum

from annotation.models import AssignmentStatus, Role


class Capability(Enum):
    VIEW_PROJECT = "view_project"  # see the project, its taxonomy and the images one may work on
    VIEW_ALL_IMAGES = "view_all_images"  # see every image and every annotation, not just one's queue
    LABEL = "label"  # draw and edit annotations (inspectors only on images assigned to them)
    REVIEW = "review"  # review, adjudicate, spot-check, edit anyone's annotations
    ASSIGN = "assign"  # hand images to annotators
    UPLOAD = "upload"  # add images to the project
    MANAGE_PROJECT = "manage_project"  # settings, members, taxonomy
    VIEW_AUDIT = "view_audit"
    MANAGE_VERSIONS = "manage_versions"  # create and download dataset versions
    TRAIN = "train"  # start training runs


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.INSPECTOR: frozenset({Capability.VIEW_PROJECT, Capability.LABEL}),
    Role.SENIOR: frozenset(
        {Capability.VIEW_PROJECT, Capability.VIEW_ALL_IMAGES, Capability.LABEL, Capability.REVIEW, Capability.ASSIGN}
    ),
    Role.ML_ENGINEER: frozenset({Capability.VIEW_PROJECT, Capability.VIEW_ALL_IMAGES, Capability.MANAGE_VERSIONS}),
    Role.ADMIN: frozenset(Capability),
}


def role_allows(role: str | None, capability: Capability) -> bool:
    return role is not None and capability in ROLE_CAPABILITIES.get(role, frozenset())


def is_work_closed(*, role: str, assignment_status: str | None) -> bool:
    """Whether the user's own work on an image is closed: an inspector who submitted it may not change it until a
    reviewer returns it (status `returned`). Reviewers edit anyone's work at any time."""
    return not role_allows(role, Capability.REVIEW) and assignment_status == AssignmentStatus.SUBMITTED
