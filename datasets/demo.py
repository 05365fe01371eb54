"""The demo project: magnetic-tile defects, one user per role. Demo credentials only."""

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction

from annotation.models import DefectClass, GeometryKind, Project, Role
from annotation.services.projects import defect_class_create, membership_set, project_create

DEMO_SLUG = "magnetic-tile"
DEMO_USERS = [  # username, password in DEBUG, role; printed by seed_demo. Outside DEBUG passwords are random.
    ("admin", "admin-demo-pass", Role.ADMIN),
    ("senior", "senior-demo-pass", Role.SENIOR),
    ("inspector", "inspector-demo-pass", Role.INSPECTOR),
    ("inspector2", "inspector2-demo-pass", Role.INSPECTOR),
    ("mlengineer", "mlengineer-demo-pass", Role.ML_ENGINEER),
]
SEVERITY = [
    {"name": "minor", "criterion": "Cosmetic; within tolerance, part ships."},
    {"name": "major", "criterion": "Visible to the customer or near a functional surface; rework or grade down."},
    {"name": "critical", "criterion": "Affects strength or magnetic function; scrap the part."},
]
CLASSES = [
    {
        "name": "blowhole",
        "color": "#e6194b",
        "geometry_kind": GeometryKind.AREA,
        "min_area_px": 9.0,
        "min_width_px": 2.0,
        "min_height_px": 2.0,
        "description": "Pore or void in the surface: a dark, roughly round pit.",
    },
    {
        "name": "break",
        "color": "#f58231",
        "geometry_kind": GeometryKind.AREA,
        "min_area_px": 25.0,
        "description": "Chipped edge: material missing at the tile's border.",
    },
    {
        "name": "crack",
        "color": "#3cb44b",
        "geometry_kind": GeometryKind.LINEAR,
        "min_length_px": 8.0,
        "description": "Thin line fracture; outline its full visible length.",
    },
    {
        "name": "fray",
        "color": "#4363d8",
        "geometry_kind": GeometryKind.AREA,
        "min_area_px": 25.0,
        "description": "Frayed, ragged edge region from grinding or handling.",
    },
    {
        "name": "uneven",
        "color": "#911eb4",
        "geometry_kind": GeometryKind.AREA,
        "min_area_px": 100.0,
        "description": "Grinding unevenness: a patch of different surface texture or brightness.",
    },
]


@transaction.atomic
def demo_project_seed(*, random_passwords: bool = False) -> tuple[Project, list[tuple[str, str | None, str]]]:
    """Create (or complete) the demo project and its users; returns (username, password, role) per demo user.
    Safe to run again: an existing user is left as it is. With `random_passwords` new users get random
    passwords (printed once, by seed_demo) and an existing user's password is None: it is not known here.

    No demo user is a site administrator: the demo `admin` is the admin of the demo project only, so a demo
    left running on a real installation hands out no power over other projects, users or the Django admin."""
    users = get_user_model().objects
    credentials: list[tuple[str, str | None, str]] = []
    for username, debug_password, role in DEMO_USERS:
        user = users.filter(username=username).first()
        password: str | None = secrets.token_urlsafe(12) if random_passwords else debug_password
        if user is None:
            users.create_user(username=username, password=password)
        elif random_passwords:
            password = None
        credentials.append((username, password, role))
    admin = users.get(username="admin")
    project = Project.objects.filter(slug=DEMO_SLUG).first() or project_create(
        name="Magnetic tile",
        slug=DEMO_SLUG,
        created_by=admin,
        description="Surface defects on sintered magnetic tiles (Huang, Qiu, Yuan 2020), five defect classes.",
    )
    for username, _, role in DEMO_USERS:
        membership_set(project=project, user=users.get(username=username), role=role)
    for spec in CLASSES:
        if not DefectClass.objects.filter(project=project, name=spec["name"]).exists():
            defect_class_create(project=project, actor=admin, severity_levels=SEVERITY, **spec)  # type: ignore[arg-type]
    return project, credentials
