"""A project's trained interactive model as an assist engine, "interactive-<id>": the editor's box and clicks
answered by the click-and-box network (assist/interactive/), each click with the previous answer as its fourth
input channel.

Which model a name means is the model registry's business (assist/services/models.py `model_engine_onnx_path`),
imported when a member is first built, so this module stays light for every process that imports the engines."""

from typing import TYPE_CHECKING

from assist.engines.base import engine_family

if TYPE_CHECKING:  # onnxruntime: imported when a member is first built
    from assist.interactive.engine import InteractiveEngine

FAMILY = "interactive"  # engine names "interactive-<TrainedModel id>"


def interactive_engine_name(model_id: int) -> str:
    return f"{FAMILY}-{model_id}"


def _build(name: str) -> "InteractiveEngine":
    from assist.interactive.engine import InteractiveEngine
    from assist.services.models import model_engine_onnx_path  # local: the registry reads the database

    return InteractiveEngine(model_engine_onnx_path(name), name=name)


def _is_available(name: str) -> bool:
    from assist.services.models import model_engine_is_available

    return model_engine_is_available(name)


engine_family(FAMILY, factory=_build, is_available=_is_available)
