"""The assist app's domain errors; defectlab/api/errors.py maps each to its status and body."""

from defectlab.errors import DomainError


class NoAssistEngine(DomainError):
    """No assist engine can run on this server (none registered, or none has what it needs)."""

    code, status = "no_assist_engine", 409


class NoPrelabelEngine(DomainError):
    """Pre-labelling needs an engine that finds defects with no prompt; the weight-free classical engine needs a
    box from the inspector."""

    code, status = "no_prelabel_engine", 409


class SuggestionDecided(DomainError):
    """The user already accepted or deleted this suggestion."""

    code, status = "suggestion_decided", 409


class SamNotInstalled(DomainError):
    """SAM has no installed checkpoint here (`manage.py sam_install`), or its files are gone."""

    code, status = "sam_not_installed", 409


class NoPromotedModel(DomainError):
    """Label next and label-error review need the project's promoted trained model, and it has none."""

    code, status = "no_promoted_model", 409


class LabelErrorDecided(DomainError):
    """A senior already decided this label-error entry."""

    code, status = "label_error_decided", 409
