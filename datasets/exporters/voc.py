"""Pascal VOC: `Annotations/<id>.xml` (boxes), `SegmentationClass/<id>.png` and `SegmentationObject/<id>.png`
(indexed PNGs), `ImageSets/{Main,Segmentation}/<split>.txt`, `labelmap.txt`, images under `JPEGImages/`.

- `<id>` is the image's export name without its extension (it may contain `/`: the original folders).
- Boxes use VOC's one-based, inclusive pixel coordinates: the pixel-extent box [x, y, w, h] becomes
  xmin = x + 1, ymin = y + 1, xmax = x + w, ymax = y + h. Severity, source and the DefectLab id are
  `<attributes>` (CVAT's and Datumaro's extension).
- Masks are exact (painted from the stored RLE). Class index i is the i-th defect class (0 background); colours
  are VOC's standard colour map, so every class has a distinct one, and `labelmap.txt` names them.
"""

import tempfile
import unicodedata
from typing import BinaryIO
from urllib.parse import quote
from xml.etree import ElementTree

from datasets.exporters.archive import DeterministicZip, image_entry
from datasets.exporters.registry import ExportSource, exporter
from datasets.exporters.rendering import label_maps, png_bytes


def voc_colormap(size: int = 256) -> list[tuple[int, int, int]]:
    """VOC's colour map: the bits of the index spread over the high bits of red, green and blue."""
    colours = []
    for index in range(size):
        red = green = blue = 0
        value = index
        for bit in range(7, -1, -1):
            red |= ((value >> 0) & 1) << bit
            green |= ((value >> 1) & 1) << bit
            blue |= ((value >> 2) & 1) << bit
            value >>= 3
        colours.append((red, green, blue))
    return colours


COLORMAP = voc_colormap()
PALETTE = [channel for colour in COLORMAP for channel in colour]


def _voc_unsafe(character: str) -> bool:
    return character in "%:" or unicodedata.category(character) in ("Cc", "Cs", "Zl", "Zp")


def voc_label(name: str) -> str:
    """`name` as it can stand in `labelmap.txt` and in an XML `<name>`: the characters that would end the line or
    the field (':', line breaks, other control characters) percent-encoded as UTF-8, like a URL; so are '%', a
    leading '#' (a comment line) and leading or trailing white space (readers strip the line). Names without
    them, which are all names DefectLab accepts today, are written as they are; the encoding is reversible
    (urllib.parse.unquote) and keeps distinct names distinct."""
    encoded = "".join(quote(character, safe="") if _voc_unsafe(character) else character for character in name)
    core = encoded.strip()
    start = encoded.find(core) if core else len(encoded)
    head, tail = encoded[:start], encoded[start + len(core) :]
    core = core[:1].replace("#", "%23") + core[1:]
    return quote(head, safe="") + core + quote(tail, safe="")


def labelmap_text(source: ExportSource) -> str:
    lines = ["# label:color_rgb:parts:actions", "background:0,0,0::"]
    for category in source.categories:
        red, green, blue = COLORMAP[category["id"]]
        lines.append(f"{voc_label(category['name'])}:{red},{green},{blue}::")
    return "\n".join(lines) + "\n"


def _xml_text(value: object) -> str:
    """`value` as XML 1.0 text: the characters XML cannot hold (control characters but tab and line breaks,
    surrogates, U+FFFE and U+FFFF) percent-encoded, as in voc_label; ElementTree escapes the rest."""
    return "".join(quote(character, safe="") if _xml_unsafe(character) else character for character in str(value))


def _xml_unsafe(character: str) -> bool:
    if character in "\t\n\r":
        return False
    return unicodedata.category(character) in ("Cc", "Cs") or character in "\ufffe\uffff"


def _element(parent: ElementTree.Element, tag: str, text: object | None = None) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag)
    if text is not None:
        element.text = _xml_text(text)
    return element


def voc_xml(image: dict, source: ExportSource) -> bytes:
    root = ElementTree.Element("annotation")
    _element(root, "folder", "JPEGImages")
    _element(root, "filename", image["name"])
    origin = _element(root, "source")
    _element(origin, "database", f"DefectLab {source.project_slug} {source.version_name}")
    _element(origin, "annotation", f"content hash {source.content_hash}")
    size = _element(root, "size")
    _element(size, "width", image["width"])
    _element(size, "height", image["height"])
    _element(size, "depth", image["channels"])
    _element(root, "segmented", 1)
    for annotation in image["annotations"]:
        item = _element(root, "object")
        _element(item, "name", voc_label(annotation["defect_class"]))  # as in labelmap.txt
        _element(item, "pose", "Unspecified")
        for flag in ("truncated", "difficult", "occluded"):
            _element(item, flag, 0)
        x, y, width, height = (int(value) for value in annotation["bbox"])
        box = _element(item, "bndbox")
        for tag, value in (("xmin", x + 1), ("ymin", y + 1), ("xmax", x + width), ("ymax", y + height)):
            _element(box, tag, value)
        attributes = _element(item, "attributes")
        values = [("source", annotation["source"]), ("defectlab_id", annotation["id"])]
        if annotation["severity"] is not None:
            values += [("severity", annotation["severity"]["name"]), ("severity_rank", annotation["severity"]["rank"])]
        for name, value in values:
            attribute = _element(attributes, "attribute")
            _element(attribute, "name", name)
            _element(attribute, "value", value)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


@exporter("voc", version="1.1")  # 1.1: text deflated at TEXT_COMPRESS_LEVEL 1 (same content, other bytes)
def export_voc(source: ExportSource, out: BinaryIO) -> None:
    class_index = {category["name"]: category["id"] for category in source.categories}
    id_lists = {split: tempfile.TemporaryFile() for split in source.splits}  # noqa: SIM115 - closed below
    try:
        with DeterministicZip(out) as archive:
            archive.write_bytes("labelmap.txt", labelmap_text(source).encode())
            for done, image in enumerate(source.images(), start=1):
                item_id = image["name"].rsplit(".", 1)[0]
                id_lists[image["split"]].write(f"{item_id}\n".encode())
                archive.write_bytes(f"Annotations/{item_id}.xml", voc_xml(image, source))
                if source.with_images:
                    image_entry(archive, f"JPEGImages/{image['name']}", image, source.open_image)
                classes, instances = label_maps(image, class_index)
                if instances.max(initial=0) > 255:
                    raise ValueError(f"{image['name']}: VOC instance masks hold at most 255 defects per image")
                archive.write_bytes(
                    f"SegmentationClass/{item_id}.png", png_bytes(classes, palette=PALETTE), compress=False
                )
                archive.write_bytes(
                    f"SegmentationObject/{item_id}.png",
                    png_bytes(instances.astype("uint8"), palette=PALETTE),
                    compress=False,
                )
                source.on_progress(done)
            for task in ("Main", "Segmentation"):
                for split, ids in id_lists.items():
                    archive.write_parts(f"ImageSets/{task}/{split}.txt", [ids], size=ids.tell())
    finally:
        for ids in id_lists.values():
            ids.close()
