"""SAM core timings in onnxruntime: encoder seconds per 1024 x 1024 image, decoder milliseconds per click (fp32 and
int8), with a randomly initialised MobileSAM (same graph and speed as the official weights; none can be fetched
here) or a real checkpoint.

    python bench/sam_core.py [--checkpoint mobile_sam.pt --model-type vit_t] [--threads 2] [--clicks 30]

Progress goes to stderr; the last line of stdout is one JSON object. The machine's load average is reported with
the timings: on a shared machine it explains most of the spread.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assist.sam.checkpoints import checkpoint_load  # noqa: E402 - pure modules: no Django set-up
from assist.sam.onnx_export import decoder_export, decoder_quantize, encoder_export, onnx_files_for  # noqa: E402
from assist.sam.runtime import SamDecoder, SamEncoder  # noqa: E402

IMAGE_SIDE_PX = 1024
ENCODER_RUNS = 3  # after one warm-up run
WARM_UP_CLICKS = 3


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _milliseconds(seconds: list[float], cpu_seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
        "cpu_median_ms": round(statistics.median(cpu_seconds) * 1000, 1),  # all threads' CPU time: load-proof
    }


def _timed(run) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds over all its threads) of `run()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def _decode_timings(decoder: SamDecoder, embedding, prompt: dict, *, runs: int) -> list[tuple[float, float]]:
    return [_timed(lambda: decoder.decode(embedding, **prompt)) for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, help="a SAM checkpoint; default: a random MobileSAM")
    parser.add_argument("--model-type", default="vit_t", choices=["vit_t", "vit_b", "vit_l", "vit_h"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clicks", type=int, default=30, help="timed decoder runs per prompt kind and decoder")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")  # the exporter's tracer warnings about SAM's Python control flow

    with tempfile.TemporaryDirectory() as folder:
        checkpoint = args.checkpoint
        if checkpoint is None:
            from mobile_sam import sam_model_registry  # type: ignore[import-untyped]

            checkpoint = Path(folder) / "mobile_sam.pt"
            torch.save(sam_model_registry["vit_t"](checkpoint=None).state_dict(), checkpoint)
        model = checkpoint_load(checkpoint, args.model_type)
        files = onnx_files_for(Path(folder) / checkpoint.name)
        started = time.perf_counter()
        encoder_export(model, files.encoder)
        decoder_export(model, files.decoder)
        decoder_quantize(files.decoder, files.decoder_int8)
        export_seconds = time.perf_counter() - started
        _log(f"exported in {export_seconds:.1f} s")

        image = np.random.default_rng(0).integers(0, 256, size=(IMAGE_SIDE_PX, IMAGE_SIDE_PX), dtype=np.uint8)
        encoder = SamEncoder(files.encoder, threads=args.threads)
        embedding = encoder.encode(image)
        encode_seconds, encode_cpu_seconds = [], []
        for _ in range(ENCODER_RUNS):
            wall, cpu = _timed(lambda: encoder.encode(image))
            encode_seconds.append(wall)
            encode_cpu_seconds.append(cpu)
            _log(f"encode {wall:.2f} s (CPU {cpu:.2f} s)")

        prompts: dict[str, dict] = {
            "one_click": {"positive_clicks": ((512, 512),)},
            "three_clicks_and_box": {
                "positive_clicks": ((500, 500), (540, 520)),
                "negative_clicks": ((300, 300),),
                "box": (400, 400, 640, 620),
            },
        }
        decoders = {"fp32": SamDecoder(files.decoder, threads=args.threads)}
        decoders["int8"] = SamDecoder(files.decoder_int8, threads=args.threads)
        decode: dict[str, dict[str, dict[str, float]]] = {}
        for name, decoder in decoders.items():
            decode[name] = {}
            for prompt_name, prompt in prompts.items():
                for _ in range(WARM_UP_CLICKS):
                    decoder.decode(embedding, **prompt)
                timings = _decode_timings(decoder, embedding, prompt, runs=args.clicks)
                decode[name][prompt_name] = _milliseconds([wall for wall, _ in timings], [cpu for _, cpu in timings])
                _log(f"decode {name} {prompt_name}: {decode[name][prompt_name]}")

        result = {
            "model_type": args.model_type,
            "weights": "random" if args.checkpoint is None else str(args.checkpoint),
            "threads": args.threads,
            "image_px": [IMAGE_SIDE_PX, IMAGE_SIDE_PX],
            "encoder_seconds": {
                "median": round(statistics.median(encode_seconds), 2),
                "runs": [round(value, 2) for value in encode_seconds],
                "cpu_median": round(statistics.median(encode_cpu_seconds), 2),
            },
            "decoder_per_click": decode,
            "file_bytes": {name: path.stat().st_size for name, path in vars(files).items()},
            "export_seconds": round(export_seconds, 1),
            "cpu_count": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
