"""Domain errors of dataset versions and exports; defectlab/api/errors.py maps each to its HTTP status."""

from defectlab.errors import DomainError


class ExportNotReady(DomainError):
    """The export's file is not built (yet, or the build failed): poll the export, or request it again."""

    code, status = "export_not_ready", 409
