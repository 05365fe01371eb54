"""Inference time per image of exported models through the onnxruntime Predictor (what is deployed).

    python bench/predictor_latency.py --data ../shared/data/magnetic-tile model.onnx model.int8.onnx [--images 60]

Each model predicts the same images (every n-th image of the folder, so all sizes occur) after two warm-up
predictions. Wall clock includes waiting for a core on a shared machine; CPU time is what one image costs on an
idle core. The last line of stdout is one JSON object: model file name -> figures in ms.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assist.training.export import Predictor  # noqa: E402 - pure modules: no Django set-up
from assist.training.samples import samples_read_folder  # noqa: E402

WARM_UP_IMAGES = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads (the Predictor's)")
    parser.add_argument("models", type=Path, nargs="+")
    arguments = parser.parse_args()

    samples, _ = samples_read_folder(arguments.data)
    images = [sample.image for sample in samples[:: max(len(samples) // arguments.images, 1)]][: arguments.images]
    figures = {}
    for path in arguments.models:
        predictor = Predictor(path, threads=arguments.threads)
        for image in images[:WARM_UP_IMAGES]:
            predictor.predict(image)
        wall, cpu = [], []
        for image in images:
            started, started_cpu = time.perf_counter(), time.process_time()
            predictor.predict(image)  # network, tiling and the decision: what a caller waits for
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        figures[path.name] = {
            "images": len(images),
            "wall_ms_median": round(float(np.median(wall)), 1),
            "wall_ms_p95": round(float(np.percentile(wall, 95)), 1),
            "cpu_ms_mean": round(float(np.mean(cpu)), 1),
            "cpu_ms_p95": round(float(np.percentile(cpu, 95)), 1),
            "pixels_mean": round(float(np.mean([image.size for image in images]))),
        }
        print(path.name, figures[path.name], file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
