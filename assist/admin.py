"""The admin's view of SAM: the installed checkpoints and their reports, read only.

Installing stays a command on the server (`manage.py sam_install PATH`, docs/deploy.md): a checkpoint is 40 MB
to 2.5 GB, its ONNX export takes minutes of CPU and needs torch, which a web request should not hold; and the file
usually arrives on the server itself (a USB stick, a mirror inside the plant). This page shows what was installed,
by whom, and the export's parity report; the current one is "active"."""

import json

from django.contrib import admin
from django.utils.html import format_html

from assist.engines.sam import sam_unavailable_reason
from assist.models import SamInstallation


@admin.register(SamInstallation)
class SamInstallationAdmin(admin.ModelAdmin):
    list_display = ["model_id", "model_type", "is_active", "is_official", "installed_by", "installed_at", "status"]
    readonly_fields = [field.name for field in SamInstallation._meta.fields if field.name not in {"files", "report"}]
    readonly_fields += ["files_shown", "report_shown", "status"]
    exclude = ["files", "report"]

    @admin.display(description="engine status")
    def status(self, installation: SamInstallation) -> str:
        if not installation.is_active:
            return "replaced by a later install"
        return sam_unavailable_reason() or "SAM answers the editor's assist tools"

    @admin.display(description="files")
    def files_shown(self, installation: SamInstallation) -> str:
        return format_html("<pre>{}</pre>", json.dumps(installation.files, indent=2))

    @admin.display(description="verification and parity report")
    def report_shown(self, installation: SamInstallation) -> str:
        return format_html("<pre>{}</pre>", json.dumps(installation.report, indent=2))

    def has_add_permission(self, request) -> bool:
        return False  # installs run `manage.py sam_install` on the server (see the module's docstring)

    def has_change_permission(self, request, obj=None) -> bool:
        return False
