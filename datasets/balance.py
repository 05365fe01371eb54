"""The balance report of a dataset version, from its counts. Pure: no ORM.

Guidance (docs/background: labelling pipelines for manufacturing QA): keep at least 5 defect-free images per
defective image on safety-critical lines (automotive, aerospace) and 10 per defective image on cosmetic lines;
with transfer learning, 200-500 images per class give reasonable results.
"""

GOOD_TO_DEFECTIVE_GUIDANCE = {"safety_critical": 5.0, "cosmetic": 10.0}  # keys: datasets.models.LineKind
"Defect-free images per defective image that the guidance asks for, by kind of line."
MIN_IMAGES_PER_CLASS = 200
"A defect class with fewer images than this is flagged: too few to train on (guidance: 200-500 per class)."


def balance_report(*, counts: dict, line_kind: str, min_images_per_class: int = MIN_IMAGES_PER_CLASS) -> dict:
    """Instances and images per class, the defect-free : defective ratio against the line's guidance, and the
    classes below the minimum image count."""
    defect_free = counts["defect_free_images"]["total"]
    defective = counts["images"]["total"] - defect_free
    guidance = GOOD_TO_DEFECTIVE_GUIDANCE[line_kind]
    ratio = defect_free / defective if defective else None
    classes = [
        {
            "name": name,
            "instances": per_class["annotations"]["total"],
            "images": per_class["images"]["total"],
            "is_below_minimum": per_class["images"]["total"] < min_images_per_class,
        }
        for name, per_class in counts["classes"].items()
    ]
    return {
        "defect_free_images": defect_free,
        "defective_images": defective,
        "defect_free_per_defective": None if ratio is None else round(ratio, 2),
        "guidance_defect_free_per_defective": guidance,
        "meets_guidance": ratio is None or ratio >= guidance,
        "line_kind": line_kind,
        "min_images_per_class": min_images_per_class,
        "classes": classes,
        "classes_below_minimum": [item["name"] for item in classes if item["is_below_minimum"]],
    }
