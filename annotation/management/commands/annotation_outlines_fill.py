"""Store the pixel-edge outline of final annotations saved before outlines were stored (migration 0006).

    python manage.py annotation_outlines_fill [--batch 2000]

Safe to run while people work, and to stop and run again: batches in id order, each its own transaction; a row
saved meanwhile (its revision moved on) is left for its own save, which stores its outline."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from annotation.models import Annotation
from annotation.outlines import outline_texts_for_rles


class Command(BaseCommand):
    help = "Store the pixel-edge outline of final annotations that have none (saved before outlines were stored)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=2000, help="annotations per transaction")

    def handle(self, *args, batch: int, **options) -> None:
        table = connection.ops.quote_name(Annotation._meta.db_table)
        after, filled = 0, 0
        while True:
            rows = list(
                Annotation.objects.filter(is_final=True, outline__isnull=True, pk__gt=after)
                .order_by("pk")
                .values_list("pk", "revision", "rle")[:batch]
            )
            if not rows:
                break
            texts = outline_texts_for_rles([rle for _, _, rle in rows])
            with transaction.atomic(), connection.cursor() as cursor:
                # Only where the revision is still the one traced: a newer save stored its own outline.
                cursor.executemany(
                    f"UPDATE {table} SET outline = %s WHERE id = %s AND revision = %s AND outline IS NULL",  # noqa: S608
                    [(text, pk, revision) for (pk, revision, _), text in zip(rows, texts, strict=True)],
                )
            filled += len(rows)
            after = rows[-1][0]
            self.stdout.write(f"{filled:,} outlines stored (up to annotation {after})")
        self.stdout.write(self.style.SUCCESS(f"Done: {filled:,} final annotations had no stored outline."))
