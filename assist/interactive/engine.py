"""The interactive model as an assist engine: an exported ONNX file (export.py) answering boxes and clicks.

Not registered globally: a model exists per project once trained, so the registry entry is made where a model
file is known, e.g.

    ENGINES[name] = EngineEntry(name, factory=partial(InteractiveEngine, path), is_available=path.exists)

or simply `InteractiveEngine(path).predict(image, prompt)`. The engine reads `previous_mask` (its own earlier
answer, the fourth input channel) and replays every click each time, as the model was trained to.
"""

from pathlib import Path

import numpy as np

from assist.engines.base import EngineResult, Prompt, image_check, prompt_check
from assist.interactive.export import OnnxInteractiveModel
from assist.interactive.inference import interactive_predict

ENGINE_NAME = "interactive"


class InteractiveEngine:
    def __init__(
        self,
        model_path: Path | str,
        *,
        name: str = ENGINE_NAME,
        threads: int = 1,
        flip: bool = False,
        box_margin: float | None = None,
    ) -> None:
        """`flip` and `box_margin`: see inference.interactive_predict."""
        self.model = OnnxInteractiveModel(model_path, threads=threads)
        self.name = name
        self.flip = flip
        self.box_margin = box_margin

    def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult:
        image_check(image)
        prompt_check(prompt, image_shape=image.shape)
        output = interactive_predict(
            self.model.run, self.model.geometry, image, prompt, flip=self.flip, box_margin=self.box_margin
        )
        return EngineResult(output.mask, output.offset, image.shape, output.score, self.name)
