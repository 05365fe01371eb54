"""The versioned QA policy: reading the current version (making the first) and adding versions."""

import re
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from annotation.models import DefectClass, Project
from defectlab.errors import ValidationFailed
from defectlab.validation import integer_check
from qa.agreement import BOX, MASK, AgreementRules, ClassRule
from qa.models import QaPolicy
from qa.sampling import seed_new

RATE_FIELDS = ("spot_check_rate", "dual_annotation_rate", "image_agreement_rate")
THRESHOLD_FIELDS = ("mask_iou_threshold", "box_iou_threshold")
POLICY_FIELDS = {
    "calibration_image_count",
    *RATE_FIELDS,
    *THRESHOLD_FIELDS,
    "keypoint_tolerance_px",
    "severity_tolerance_ranks",
    "class_rules",
}


def qa_policy_current(*, project: Project, lock: bool = False) -> QaPolicy:
    """The project's newest policy version; the first call records version 1 with the defaults. With `lock`, the
    row stays locked until the transaction ends: QA decisions that count (calibration) take turns on it."""
    policies = QaPolicy.objects.filter(project=project).order_by("-version")
    policy = (policies.select_for_update() if lock else policies).first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            QaPolicy.objects.create(project=project, version=1, seed=seed_new())
    except IntegrityError:
        pass  # made by a concurrent first call
    return (policies.select_for_update() if lock else policies).get(version=1)


def _class_rules_checked(*, project: Project, class_rules: object) -> dict[str, Any]:
    if not isinstance(class_rules, dict):
        raise ValidationFailed('class_rules must map defect class ids to {"measure": ..., "iou_threshold": ...}.')
    class_ids = set(DefectClass.objects.filter(project=project).values_list("pk", flat=True))
    checked = {}
    for key, rule in class_rules.items():
        # ASCII digits only: "²" and "١" are digits to str.isdigit, and int() refuses the first.
        if not re.fullmatch(r"[0-9]{1,19}", str(key)) or int(key) not in class_ids:
            raise ValidationFailed(f"class_rules: {key!r} is not a defect class of this project.")
        if not isinstance(rule, dict) or set(rule) - {"measure", "iou_threshold"}:
            raise ValidationFailed(f'class_rules[{key}] may set only "measure" and "iou_threshold".')
        measure, threshold = rule.get("measure", MASK), rule.get("iou_threshold")
        if measure not in (MASK, BOX):
            raise ValidationFailed(f'class_rules[{key}].measure must be "{MASK}" or "{BOX}".')
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
            raise ValidationFailed(f"class_rules[{key}].iou_threshold must be a number.")
        if threshold is not None and not 0 <= threshold <= 1:
            raise ValidationFailed(f"class_rules[{key}].iou_threshold must be between 0 and 1.")
        checked[str(int(key))] = {"measure": measure, "iou_threshold": threshold}
    return checked


@transaction.atomic
def qa_policy_update(*, project: Project, actor: User | None, note: str = "", **fields: Any) -> QaPolicy:
    """Record a new policy version: the current one with `fields` changed. Earlier versions stay as they were,
    with the agreements and samples made under them."""
    unknown = set(fields) - POLICY_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown QA policy fields: {', '.join(sorted(unknown))}.")
    for field in (*RATE_FIELDS, *THRESHOLD_FIELDS):
        if field in fields and not 0 <= float(fields[field]) <= 1:
            raise ValidationFailed(f"{field} must be between 0 and 1.")
    for field in ("calibration_image_count", "keypoint_tolerance_px", "severity_tolerance_ranks"):
        if field in fields and fields[field] < 0:
            raise ValidationFailed(f"{field} cannot be negative.")
    for field in ("calibration_image_count", "severity_tolerance_ranks"):
        if field in fields:
            integer_check(fields[field], model=QaPolicy, field_name=field)
    if "class_rules" in fields:
        fields["class_rules"] = _class_rules_checked(project=project, class_rules=fields["class_rules"])
    current = qa_policy_current(project=project, lock=True)
    values = {field: getattr(current, field) for field in POLICY_FIELDS}
    values.update(fields)
    return QaPolicy.objects.create(
        project=project, version=current.version + 1, seed=current.seed, note=note, created_by=actor, **values
    )


def agreement_rules_of(policy: QaPolicy) -> AgreementRules:
    return AgreementRules(
        mask_iou_threshold=policy.mask_iou_threshold,
        box_iou_threshold=policy.box_iou_threshold,
        severity_tolerance_ranks=policy.severity_tolerance_ranks,
        class_rules={
            int(class_id): ClassRule(measure=rule.get("measure", MASK), iou_threshold=rule.get("iou_threshold"))
            for class_id, rule in policy.class_rules.items()
        },
    )
