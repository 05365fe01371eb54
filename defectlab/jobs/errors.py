"""Domain errors of jobs; defectlab/api/errors.py maps each to its HTTP status."""

from defectlab.errors import DomainError


class JobFinished(DomainError):
    """Cancelling a job that has already ended."""

    code, status = "job_finished", 409
