"""Install a SAM checkpoint for the editor's assist: `manage.py sam_install PATH --model-type vit_t`, or
`manage.py sam_install --download vit_t` where the server has internet (docs/deploy.md: offline installs)."""

import getpass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

DOWNLOADABLE = ("vit_t", "vit_b")  # the small official files; vit_l/vit_h (1.2-2.5 GB) are copied in by hand
MODEL_TYPES = ("vit_t", "vit_b", "vit_l", "vit_h")


class Command(BaseCommand):
    help = (
        "Verify a SAM checkpoint (official checksums; an unknown file is accepted with a warning), copy it under "
        "DEFECTLAB_SAM_DIR, export it to ONNX, check the export against PyTorch and make it the active SAM model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="the checkpoint file (.pt/.pth) on this server")
        parser.add_argument("--model-type", choices=MODEL_TYPES, default="vit_t", help="default: vit_t (MobileSAM)")
        parser.add_argument("--download", choices=DOWNLOADABLE, help="fetch the official file instead of PATH")
        parser.add_argument("--url", help="with --download: a mirror inside the plant instead of the official URL")

    def handle(self, *args, path: str | None, model_type: str, download: str | None, url: str | None, **options):
        from assist.sam.checkpoints import CheckpointError, checkpoint_download  # local: torch, installs only
        from assist.services.sam import SamInstallFailed, sam_install

        if (path is None) == (download is None):
            raise CommandError("Give a checkpoint PATH or --download vit_t|vit_b (one of them).")
        try:
            if download is not None:
                model_type = download
                folder = Path(settings.DEFECTLAB_SAM_DIR) / "downloads"
                folder.mkdir(parents=True, exist_ok=True)
                self.stdout.write(f"Downloading the official {download} checkpoint ...")
                path = str(checkpoint_download(download, folder, url=url).path)  # type: ignore[arg-type]  # argparse choices
            self.stdout.write(f"Verifying, exporting and checking {path} ({model_type}); this takes a minute ...")
            result = sam_install(checkpoint_path=str(path), model_type=model_type, installed_by=_who())
        except CheckpointError as error:
            raise CommandError(f"SAM not installed ({error.reason}): {error.message}") from None
        except SamInstallFailed as error:
            raise CommandError(str(error)) from None
        if result.warning:
            self.stderr.write(self.style.WARNING(f"Warning: {result.warning}"))
        installation = result.installation
        export = installation.report["export"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Installed SAM {installation.model_id} ({'official' if installation.is_official else 'unofficial'}"
                f" checkpoint); int8 decoder mask agreement {export['decoder_int8_mask_agreement']:.3f}, export "
                f"{export['export_seconds']} s. The editor's SAM tools use it from the next click."
            )
        )


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry
        return "unknown"
