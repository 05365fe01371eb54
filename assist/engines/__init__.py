"""Assist engines: from a prompt (a box, clicks) drawn on a grey image to a suggested defect mask.

One interface (`assist.engines.base`), several engines registered by name: `classical` (weight-free, always
present), SAM and the project's trained models when their weights are on disk."""
