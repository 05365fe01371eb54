"""Segment Anything (SAM, MobileSAM) for the editor's assist: checkpoints, ONNX export, onnxruntime inference and
the image-embedding cache. Plain modules: no ORM, no Django.

    checkpoints.py   the official checkpoints, checkpoint_verify / checkpoint_load / checkpoint_download
    onnx_export.py   checkpoint -> encoder.onnx, decoder.onnx, decoder.int8.onnx, with a parity report
    transforms.py    SAM's resize, normalisation, padding and coordinate transform (numpy only)
    runtime.py       SamEncoder (image -> ImageEmbedding), SamDecoder (embedding + clicks/box -> masks)
    embeddings.py    EmbeddingCache: fp16 .npy files on disk, bounded by bytes, least recently used evicted

Only checkpoints.py and onnx_export.py import torch; runtime.py needs onnxruntime only (what a server runs).
"""
