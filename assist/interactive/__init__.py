"""The interactive (click-and-box) assist model: plain modules, no ORM, no Django (docs/interactive-model.md).

recipe.py     InteractiveRecipe: every choice that changes the trained model
network.py    Lite0 U-Net with 4 prompt channels (box, positive clicks, negative clicks, previous mask)
window.py     the crop around a prompt, resampled to the network's size; prompt maps; pasting back
examples.py   training examples: crops around final annotations (a jittered box or a first click), boxes on
              defect-free images
train.py      RITM-style iterative training with simulated clicks, validation by the benchmark's scores,
              checkpoints and resume
inference.py  prompt -> crop -> network -> mask, with any runner (PyTorch or onnxruntime)
export.py     ONNX export with the crop geometry as metadata, parity check, onnxruntime runner
engine.py     InteractiveEngine: an exported model answering the assist engine protocol
"""
