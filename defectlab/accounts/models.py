from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A key a script sends as `Authorization: Token <key>`. Only the key's SHA-256 is stored (tokens.py); the
    key itself is shown once, when the token is made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, hex")
    prefix = models.CharField(max_length=8, help_text="the key's first characters, to tell tokens apart")
    name = models.CharField(max_length=100, blank=True, help_text="what the owner said the token is for")
    password_fingerprint = models.CharField(max_length=64, help_text="of the owner's password when made")
    created_at = models.DateTimeField(default=timezone.now)
    created_from = models.GenericIPAddressField(null=True, blank=True, help_text="client address that asked")
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… of {self.user_id}"
