"""Reads. Every lookup by id is scoped to the user's projects: another project's ids raise NotFound."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from annotation.errors import NotFound, PermissionDenied
from annotation.models import (
    Annotation,
    Assignment,
    AuditEntry,
    DefectClass,
    Image,
    ImageStatus,
    Membership,
    Project,
    Role,
)
from annotation.permissions import Capability, role_allows


def role_for(*, user: AbstractBaseUser, project: Project) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()


def project_list_for_user(*, user: AbstractBaseUser) -> QuerySet[Project]:
    projects = Project.objects.all()
    return projects if user.is_superuser else projects.filter(memberships__user=user)


def project_get_for_user(
    *,
    user: AbstractBaseUser,
    project_id: int | None = None,
    slug: str | None = None,
    capability: Capability = Capability.VIEW_PROJECT,
) -> tuple[Project, str]:
    """The project and the user's role in it, if the role grants `capability`."""
    lookup = {"pk": project_id} if project_id is not None else {"slug": slug}
    project = Project.objects.filter(**lookup).first()
    role = role_for(user=user, project=project) if project else None
    if role is None:
        raise NotFound("No such project.")
    if not role_allows(role, capability):
        raise PermissionDenied(f"Your role ({role}) may not {capability.value.replace('_', ' ')} in this project.")
    return project, role


def _images_visible_to(*, user: AbstractBaseUser, role: str, project: Project) -> QuerySet[Image]:
    images = Image.objects.filter(project=project)
    if not role_allows(role, Capability.VIEW_ALL_IMAGES):
        images = images.filter(assignments__annotator=user)  # inspectors see their own queue only
    return images


def image_list_for_project(
    *,
    user: AbstractBaseUser,
    role: str,
    project: Project,
    status: str | None = None,
    defect_class_id: int | None = None,
    is_defect_free: bool | None = None,
) -> QuerySet[Image]:
    images = _images_visible_to(user=user, role=role, project=project)
    if status:
        images = images.filter(status=status)
    if defect_class_id is not None:
        labelled = Annotation.objects.filter(image=OuterRef("pk"), defect_class_id=defect_class_id)
        if not role_allows(role, Capability.VIEW_ALL_IMAGES):
            # As in annotation_list_for_image: in dual annotation an inspector must not learn (here, by filtering)
            # what the other annotator drew.
            labelled = labelled.filter(Q(author=user) | Q(is_final=True))
        images = images.filter(Exists(labelled))
    if is_defect_free is not None:
        images = images.filter(is_defect_free=is_defect_free)
    return images.order_by("id")


def image_get_for_user(
    *, user: AbstractBaseUser, image_id: int, capability: Capability = Capability.VIEW_PROJECT
) -> tuple[Image, str]:
    image = Image.objects.select_related("project").filter(pk=image_id).first()
    if image is None:
        raise NotFound("No such image.")
    role = role_for(user=user, project=image.project)
    if role is None:
        raise NotFound("No such image.")
    if not role_allows(role, Capability.VIEW_ALL_IMAGES) and not image.assignments.filter(annotator=user).exists():
        raise NotFound("No such image.")
    if not role_allows(role, capability):
        raise PermissionDenied(f"Your role ({role}) may not {capability.value.replace('_', ' ')} in this project.")
    return image, role


def image_status_counts(*, user: AbstractBaseUser, role: str, project: Project) -> dict[str, int]:
    """Every status (zero included, so the shape never changes) and `defect_free`, in one query."""
    counts = {status: Count("id", filter=Q(status=status)) for status in ImageStatus.values}
    counts["defect_free"] = Count("id", filter=Q(is_defect_free=True))
    return _images_visible_to(user=user, role=role, project=project).aggregate(**counts)


def defect_class_list_for_project(*, project: Project) -> QuerySet[DefectClass]:
    return (
        DefectClass.objects.filter(project=project)
        .prefetch_related("severity_levels")
        .annotate(annotation_count=Count("annotations", filter=Q(annotations__is_final=True)))
    )


def defect_class_get_for_user(*, user: AbstractBaseUser, defect_class_id: int, capability: Capability) -> DefectClass:
    defect_class = DefectClass.objects.select_related("project").filter(pk=defect_class_id).first()
    if defect_class is None:
        raise NotFound("No such defect class.")
    project_get_for_user(user=user, project_id=defect_class.project_id, capability=capability)
    return defect_class


def annotation_list_for_image(*, user: AbstractBaseUser, role: str, image: Image) -> QuerySet[Annotation]:
    """Reviewers see everything; an inspector sees their own work and the image's final annotations."""
    annotations = Annotation.objects.filter(image=image).select_related("defect_class", "severity")
    if not role_allows(role, Capability.VIEW_ALL_IMAGES):
        annotations = annotations.filter(Q(author=user) | Q(is_final=True))
    return annotations.order_by("id")


def annotation_get_for_edit(*, user: AbstractBaseUser, annotation_id: int, lock: bool = False) -> Annotation:
    """An annotation the user may change. Inspectors may change only their own, on images assigned to them."""
    annotations = Annotation.objects.select_related("image__project", "defect_class", "severity")
    if lock:
        annotations = annotations.select_for_update(of=("self",))
    annotation = annotations.filter(pk=annotation_id).first()
    if annotation is None:
        raise NotFound("No such annotation.")
    image, role = image_get_for_user(user=user, image_id=annotation.image_id, capability=Capability.LABEL)
    if not role_allows(role, Capability.REVIEW) and annotation.author_id != user.pk:
        raise PermissionDenied("Inspectors may change only their own annotations.")
    return annotation


def assignment_list_for_annotator(*, user: AbstractBaseUser, project: Project | None = None) -> QuerySet[Assignment]:
    assignments = Assignment.objects.filter(annotator=user).select_related("image", "image__project")
    if project is not None:
        assignments = assignments.filter(image__project=project)
    return assignments.order_by("id")


def audit_list_for_project(*, project: Project) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(project=project).select_related("actor").order_by("-id")
