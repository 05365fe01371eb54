from defectlab.errors import DomainError


class LoginLockedOut(DomainError):
    """Too many failed logins for this username or from this address (defectlab/accounts/logins.py)."""

    code, status = "login_locked_out", 429


class TokenCredentialsInvalid(DomainError):
    """Wrong username or password; the same answer whether or not the user exists."""

    code, status = "invalid", 400
