"""QA's domain errors: DomainError subclasses with a stable `code` (defectlab/api/errors.py maps them)."""

from defectlab.errors import DomainError


class AlreadyDecided(DomainError):
    """Someone decided this adjudication, spot check, edge case or re-review first."""

    code, status = "already_decided", 409


class CalibrationIncomplete(DomainError):
    """Spot checks start once the calibration images are compared."""

    code, status = "calibration_incomplete", 409


class NothingToSample(DomainError):
    code, status = "nothing_to_sample", 409
