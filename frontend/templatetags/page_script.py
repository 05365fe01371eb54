"""{% page_script "editor" %}: a page's module script, preceded by a <link rel="modulepreload"> for every chunk it
imports, so the browser fetches the chunks beside the entry instead of after parsing it (on the editor that
waterfall cost about a quarter of the first paint's wait for the scripts). Vite's build manifest lists the
imports (`build.manifest` in vite.config.ts); where there is no manifest (a build from before it), the script
alone."""

import json
from functools import cache
from pathlib import Path
from typing import Any

from django import template
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

BUILD = "frontend/build/"
MANIFEST = BUILD + "manifest.json"


@register.simple_tag
def page_script(entry: str) -> SafeString:
    preloads = format_html_join(
        "", '<link rel="modulepreload" href="{}">', ((static(BUILD + name),) for name in _chunks_of(entry))
    )
    return format_html('{}<script type="module" src="{}"></script>', preloads, static(f"{BUILD}{entry}.js"))


def _chunks_of(entry: str) -> list[str]:
    """The files `entry` imports statically, directly or through another chunk (not its lazy imports)."""
    found = finders.find(MANIFEST)
    if not found:
        return []
    stat = Path(str(found)).stat()
    return _chunks_in(str(found), (stat.st_mtime_ns, stat.st_size), entry)


@cache
def _chunks_in(path: str, version: tuple[int, int], entry: str) -> list[str]:  # version: a rebuild is read again
    manifest: dict[str, dict[str, Any]] = json.loads(Path(path).read_text())
    key = next((key for key, chunk in manifest.items() if chunk.get("isEntry") and chunk.get("name") == entry), None)
    if key is None:
        return []
    chunks: list[str] = []
    pending = list(manifest[key].get("imports", []))
    while pending:
        chunk = manifest.get(pending.pop(0))
        if chunk is None or chunk["file"] in chunks:
            continue
        chunks.append(chunk["file"])
        pending.extend(chunk.get("imports", []))
    return chunks
