"""Factories for tests across apps. Images are real, small PNGs stored through the real ingestion path."""

import io

import factory
import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from PIL import Image as PILImage

from annotation.models import DefectClass, GeometryKind, Image, Membership, Project, Role, SeverityLevel
from datasets.ingest import sha256_of
from datasets.services.imports import images_import
from datasets.sources import Source


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda number: f"user{number}")
    password = factory.django.Password("pass")


class ProjectFactory(factory.django.DjangoModelFactory[Project]):
    class Meta:
        model = Project

    name = factory.Sequence(lambda number: f"Line {number}")
    slug = factory.Sequence(lambda number: f"line-{number}")


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.INSPECTOR


class DefectClassFactory(factory.django.DjangoModelFactory[DefectClass]):
    class Meta:
        model = DefectClass

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda number: f"defect{number}")
    geometry_kind = GeometryKind.AREA


class SeverityLevelFactory(factory.django.DjangoModelFactory[SeverityLevel]):
    class Meta:
        model = SeverityLevel

    defect_class = factory.SubFactory(DefectClassFactory)
    name = factory.Sequence(lambda number: f"level{number}")
    rank = factory.Sequence(lambda number: number + 1)


def png_bytes(width: int = 64, height: int = 48, *, mode: str = "L", seed: int = 0) -> bytes:
    """A small, distinct PNG (the seed changes its content, so its sha256)."""
    rng = np.random.default_rng(seed)
    channels = {"L": None, "RGB": 3, "RGBA": 4}[mode]
    shape = (height, width) if channels is None else (height, width, channels)
    buffer = io.BytesIO()
    PILImage.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8), mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


def image_create(
    *, project: Project, width: int = 64, height: int = 48, seed: int = 0, name: str = "part.png"
) -> Image:
    """An Image stored through the real ingestion path."""
    data = png_bytes(width, height, seed=seed)
    images_import(project=project, sources=[Source(filename=name, read=lambda: data)])
    return project.images.get(sha256=sha256_of(data))
