"""DRF's tokens (rest_framework.authtoken, plain text, no expiry) become hashed, expiring tokens.

Scripts keep working with the key they have; the plain-text rows are deleted. The old table is left empty
rather than dropped: it belongs to DRF's migrations, which may still be recorded as applied."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"


def hash_plain_tokens(apps, schema_editor):
    from defectlab.accounts.tokens import PREFIX_CHARACTERS, password_fingerprint, token_digest

    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return  # a database made after DRF's tokens were dropped
    ApiToken = apps.get_model("accounts", "ApiToken")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {connection.ops.quote_name(OLD_TABLE)}")  # noqa: S608
        rows = cursor.fetchall()
    passwords = dict(User.objects.filter(pk__in=[user_id for _, user_id in rows]).values_list("pk", "password"))
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.DEFECTLAB_API_TOKEN_LIFETIME_SECONDS)
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            digest=token_digest(key),
            prefix=key[:PREFIX_CHARACTERS],
            name="from before tokens expired",
            password_fingerprint=password_fingerprint(passwords[user_id]),
            created_at=now,
            expires_at=expires_at,
        )
        for key, user_id in rows
        if user_id in passwords
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(OLD_TABLE)}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(hash_plain_tokens, migrations.RunPython.noop)]
