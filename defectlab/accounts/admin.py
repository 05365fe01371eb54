from django.contrib import admin

from defectlab.accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be looked at and deleted (revoked) here; they are made through the API, which shows the key."""

    list_display = ["prefix", "user", "name", "created_at", "created_from", "expires_at"]
    list_filter = ["expires_at"]
    search_fields = ["user__username", "prefix", "name"]
    readonly_fields = ["user", "prefix", "name", "created_at", "created_from", "expires_at"]
    exclude = ["digest", "password_fingerprint"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False
