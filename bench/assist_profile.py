"""Where a server-side SAM click's time goes, stage by stage, in-process (no HTTP, no database): the same random
MobileSAM (seed 0), tile and clicks as bench/assist.py's server measurement, through the pipeline as it was before
the low-resolution path (issue 11's latency work) and as it is now.

- before: the decoder graph as exported (SAM's wrapper upscales all four mask tokens to the image inside it), the
  four masks thresholded, the suggestion traced (annotation.geometry.mask_to_polygons) and each ring simplified
  (assist.outlines.ring_simplify), no clean-up;
- now: the graph cut at its low-resolution logits (runtime.SamDecoder), the suggestion upscaled over its window
  (masks.Upscaling), cleaned of holes and islands (masks.small_regions_remove), traced and simplified
  (outlines.mask_outline);
- both: the outline as JSON (the answer's body) and its rasterised runs and RLE (what the suggestion's row stores).

Both decoders come from today's export, so both have the rewritten decoder graph (assist/sam/decoder_graph.py);
to compare with the decoder as SAM's wrapper exports it, run this script from a commit before it (c4b96f2).

    python bench/assist_profile.py [--data DIR] [--clicks 30] [--threads 2]

Wall and CPU milliseconds (this process, all threads: load-proof) per stage, median over the clicks after warm-up;
rings and vertices of the outline. The load average is printed: on the shared 2-core machine it explains most
spread. Last line: one JSON object {"before": {stage: ms}, "now": {...}, ...}.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectlab.settings")  # datasets.ingest reads its pixel limit
os.environ.setdefault("DEFECTLAB_SECRET_KEY", "benchmark-only")
from annotation import geometry  # noqa: E402
from assist.outlines import SIMPLIFY_TOLERANCE_PX, mask_outline, ring_simplify  # noqa: E402
from assist.sam.checkpoints import checkpoint_load  # noqa: E402
from assist.sam.masks import min_region_px_for, small_regions_remove  # noqa: E402
from assist.sam.onnx_export import decoder_export, encoder_export, onnx_files_for  # noqa: E402
from assist.sam.runtime import (  # noqa: E402
    DECODER_INPUTS,
    SamDecoder,
    SamEncoder,
    onnx_session,
)
from assist.sam.transforms import LOW_RES_SIDE_PX, MASK_THRESHOLD_LOGIT, prompt_arrays  # noqa: E402
from bench._setup import SHARED_DATA  # noqa: E402
from bench.assist import WARM_UP_CLICKS, defect_prompts, tiles  # noqa: E402

Stages = dict[str, list[tuple[float, float]]]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _timed(stages: Stages, name: str, run: Callable[[], Any]) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    stages.setdefault(name, []).append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
    return result


def _medians(stages: Stages) -> dict[str, dict[str, float]]:
    return {
        name: {
            "wall_ms": round(statistics.median(wall for wall, _ in timings[WARM_UP_CLICKS:]), 2),
            "cpu_ms": round(statistics.median(cpu for _, cpu in timings[WARM_UP_CLICKS:]), 2),
        }
        for name, timings in stages.items()
    }


def _stored(polygons: list[geometry.Polygon], stages: Stages, shape: tuple[int, int]) -> None:
    _timed(stages, "json", lambda: json.dumps(geometry.polygons_to_json(polygons)))
    _timed(
        stages,
        "record_geometry",
        lambda: geometry.rle_from_runs(geometry.rasterize_runs(polygons), width=shape[1], height=shape[0]),
    )


def click_before(session, embedding, click, shape, stages: Stages) -> list[geometry.Polygon]:
    coords, labels = prompt_arrays(positive_clicks=(click,), negative_clicks=(), box=None, region_shape=shape)
    feeds = dict(
        zip(
            DECODER_INPUTS,
            (
                embedding.astype(np.float32),
                coords,
                labels,
                np.zeros((1, 1, LOW_RES_SIDE_PX, LOW_RES_SIDE_PX), np.float32),
                np.zeros(1, np.float32),
                np.array(shape, np.float32),
            ),
            strict=True,
        )
    )
    logits, scores, _ = _timed(stages, "decoder_run", lambda: session.run(None, feeds))
    masks = _timed(stages, "threshold", lambda: logits[0] > MASK_THRESHOLD_LOGIT)
    suggestion = masks[1 + int(np.argmax(scores[0, 1:]))]  # one click: SAM's best multimask answer
    traced = _timed(stages, "trace", lambda: geometry.mask_to_polygons(np.ascontiguousarray(suggestion)))
    tolerance_px = SIMPLIFY_TOLERANCE_PX["area"]
    polygons = _timed(
        stages,
        "simplify",
        lambda: [
            geometry.Polygon(
                exterior=ring_simplify(polygon.exterior, tolerance_px=tolerance_px),
                holes=tuple(ring_simplify(hole, tolerance_px=tolerance_px) for hole in polygon.holes),
            )
            for polygon in traced
        ],
    )
    _stored(polygons, stages, shape)
    return polygons


def click_now(decoder: SamDecoder, embedded, click, shape, stages: Stages) -> list[geometry.Polygon]:
    decoded = _timed(stages, "decoder_run", lambda: decoder.decode(embedded, positive_clicks=(click,)))
    window_mask, offset = _timed(stages, "upscale_window", decoded.suggestion_window)
    cleaned = _timed(
        stages,
        "clean_up",
        lambda: small_regions_remove(
            window_mask,
            min_region_px=min_region_px_for(box=None, region_shape=shape),
            offset=offset,
            positive_clicks=(click,),
        ),
    )
    polygons = _timed(stages, "trace_and_simplify", lambda: mask_outline(cleaned, offset=offset))
    _stored(polygons, stages, shape)
    return polygons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="magnetic-tile layout: CLASS/NAME.jpg + .png")
    parser.add_argument("--clicks", type=int, default=30, help="timed clicks after warm-up, per pipeline")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads, as the server's sessions")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # the ONNX exporter's tracer warnings
    torch.set_num_threads(args.threads)
    from datasets.ingest import read_grey

    tile, _ = tiles(args.data, 1)[0]
    grey = read_grey(tile.read_bytes(), tile.name)
    shape = (int(grey.shape[0]), int(grey.shape[1]))
    clicks = [click for click, _ in defect_prompts(tile.with_suffix(".png"), WARM_UP_CLICKS + args.clicks)]
    with tempfile.TemporaryDirectory() as folder:
        from mobile_sam import sam_model_registry  # type: ignore[import-untyped]

        torch.manual_seed(0)  # bench/assist.py's weights
        checkpoint = Path(folder) / "mobile_sam_random.pt"
        torch.save(sam_model_registry["vit_t"](checkpoint=None).state_dict(), checkpoint)
        model = checkpoint_load(checkpoint, "vit_t")
        files = onnx_files_for(checkpoint)
        encoder_export(model, files.encoder)
        decoder_export(model, files.decoder)
        embedded = SamEncoder(files.encoder, threads=args.threads).encode(grey)
        as_exported = onnx_session(files.decoder, threads=args.threads)
        decoder = SamDecoder(files.decoder, threads=args.threads)
    _log(f"tile {tile.name} {shape[1]}x{shape[0]} px, {len(clicks)} clicks ({WARM_UP_CLICKS} warm-up)")

    results: dict[str, Any] = {}
    pipelines: dict[str, Callable[..., list[geometry.Polygon]]] = {
        "before": partial(click_before, as_exported, embedded.embedding),
        "now": partial(click_now, decoder, embedded),
    }
    for name, click_run in pipelines.items():
        stages: Stages = {}
        rings, vertices = [], []
        for click in clicks:
            polygons = _timed(stages, "total", partial(click_run, click, shape, stages))
            rings.append(sum(1 + len(polygon.holes) for polygon in polygons))
            vertices.append(geometry.vertex_count(polygons))
        results[name] = {
            **_medians(stages),
            "rings": statistics.median(rings[WARM_UP_CLICKS:]),
            "vertices": statistics.median(vertices[WARM_UP_CLICKS:]),
        }
        _log(f"{name}: {results[name]}")
    load = os.getloadavg()
    _log(f"load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print(json.dumps({**results, "tile": tile.name, "threads": args.threads, "load_average_1min": round(load[0], 2)}))


if __name__ == "__main__":
    main()
