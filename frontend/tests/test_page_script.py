"""{% page_script %}: a page's module script with the chunks it imports preloaded, read from the build's manifest."""

import json

import pytest
from django.template import Context, Template

from frontend.templatetags import page_script

MANIFEST = {
    "src/editor-main.ts": {
        "file": "editor.js",
        "name": "editor",
        "isEntry": True,
        "imports": ["_dom.js", "_overlay.js"],
        "dynamicImports": ["src/sam/samWorker.ts"],
    },
    "_dom.js": {"file": "dom.js", "name": "dom"},
    "_overlay.js": {"file": "overlay.js", "name": "overlay", "imports": ["_dom.js", "_canvas.js"]},
    "_canvas.js": {"file": "canvas.js", "name": "canvas"},
    "src/sam/samWorker.ts": {"file": "samWorker.js", "name": "samWorker"},
}


def rendered(entry: str) -> str:
    return Template('{% load page_script %}{% page_script "' + entry + '" %}').render(Context())


@pytest.fixture
def manifest_at(tmp_path, monkeypatch):
    def write(content):
        path = tmp_path / "manifest.json"
        path.write_text(json.dumps(content))
        found = {page_script.MANIFEST: str(path)}
        monkeypatch.setattr(page_script.finders, "find", lambda name: found.get(name))

    return write


def test_the_entry_comes_with_every_chunk_it_imports_statically_once(manifest_at):
    manifest_at(MANIFEST)

    html = rendered("editor")

    assert html == (
        '<link rel="modulepreload" href="/static/frontend/build/dom.js">'
        '<link rel="modulepreload" href="/static/frontend/build/overlay.js">'
        '<link rel="modulepreload" href="/static/frontend/build/canvas.js">'
        '<script type="module" src="/static/frontend/build/editor.js"></script>'
    )  # the worker, imported lazily, is not preloaded


def test_without_a_manifest_or_an_entry_in_it_the_script_stands_alone(manifest_at, monkeypatch):
    manifest_at(MANIFEST)
    assert rendered("queue") == '<script type="module" src="/static/frontend/build/queue.js"></script>'

    monkeypatch.setattr(page_script.finders, "find", lambda name: None)
    assert rendered("editor") == '<script type="module" src="/static/frontend/build/editor.js"></script>'


def test_a_rebuilt_manifest_is_read_again(manifest_at):
    manifest_at(MANIFEST)
    assert "dom.js" in rendered("editor")

    manifest_at({**MANIFEST, "src/editor-main.ts": {**MANIFEST["src/editor-main.ts"], "imports": []}})

    assert "dom.js" not in rendered("editor")
