"""SAM checkpoints: verify, load and download, with a randomly initialised MobileSAM (no official weights can be
fetched here; a random state_dict has the official layout, size and loading path). Pure: no database."""

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from assist.sam import checkpoints
from assist.sam.checkpoints import (
    OFFICIAL_CHECKPOINTS,
    CheckpointError,
    checkpoint_download,
    checkpoint_load,
    checkpoint_model_type,
    checkpoint_verify,
)

UNROUTABLE_URL = "http://127.0.0.1:9/mobile_sam.pt"  # the discard port: nothing listens, refused at once


@pytest.fixture(scope="module")
def mobile_sam_state_dict() -> dict[str, torch.Tensor]:
    from mobile_sam import sam_model_registry  # type: ignore[import-untyped]

    torch.manual_seed(0)
    return sam_model_registry["vit_t"](checkpoint=None).state_dict()


@pytest.fixture
def mobile_sam_file(tmp_path: Path, mobile_sam_state_dict: dict[str, torch.Tensor]) -> Path:
    path = tmp_path / "mobile_sam.pt"
    torch.save(mobile_sam_state_dict, path)
    return path


def test_random_mobile_sam_verifies_as_unknown_with_a_warning_and_loads(mobile_sam_file, mobile_sam_state_dict):
    # when
    report = checkpoint_verify(mobile_sam_file, "vit_t")
    model = checkpoint_load(mobile_sam_file, "vit_t")
    # then
    assert report.sha256 == hashlib.sha256(mobile_sam_file.read_bytes()).hexdigest()
    assert report.size_bytes == mobile_sam_file.stat().st_size
    assert (report.is_official, report.official) == (False, None)
    assert report.warning is not None
    assert "is not the official MobileSAM (TinyViT encoder) file mobile_sam.pt" in report.warning
    assert report.model_id == f"vit_t-{report.sha256[:12]}"
    assert not model.training
    loaded = model.state_dict()
    assert loaded.keys() == mobile_sam_state_dict.keys()
    assert all(torch.equal(loaded[name], tensor) for name, tensor in mobile_sam_state_dict.items())


def test_official_checksum_makes_a_file_official(mobile_sam_file, monkeypatch):
    # given: the table says this very file is the official MobileSAM
    sha256 = hashlib.sha256(mobile_sam_file.read_bytes()).hexdigest()
    official = OFFICIAL_CHECKPOINTS["vit_t"]
    monkeypatch.setitem(OFFICIAL_CHECKPOINTS, "vit_t", replace(official, sha256=sha256))
    # when
    report = checkpoint_verify(mobile_sam_file, "vit_t")
    # then
    assert (report.is_official, report.warning) == (True, None)
    # and the official file of one model type is refused as another
    with pytest.raises(CheckpointError) as error:
        checkpoint_verify(mobile_sam_file, "vit_b")
    assert error.value.reason == "wrong_model_type"
    assert "install it as model type vit_t" in error.value.message


def test_missing_file_is_named_in_the_error(tmp_path):
    for check in (checkpoint_verify, checkpoint_load):
        with pytest.raises(CheckpointError) as error:
            check(tmp_path / "sam_vit_b_01ec64.pth", "vit_b")
        assert error.value.reason == "missing"
        assert error.value.message == f"There is no SAM checkpoint file at {tmp_path / 'sam_vit_b_01ec64.pth'}."


def test_truncated_file_is_reported_as_damaged(mobile_sam_file):
    # given: a download that stopped half way
    data = mobile_sam_file.read_bytes()
    mobile_sam_file.write_bytes(data[: len(data) // 2])
    # when
    with pytest.raises(CheckpointError) as error:
        checkpoint_load(mobile_sam_file, "vit_t")
    # then
    assert error.value.reason == "damaged"
    assert error.value.message.startswith("mobile_sam.pt is damaged or incomplete (")
    assert error.value.message.endswith("probably a download that stopped early: copy or download it again.")


def test_file_that_is_not_a_checkpoint_is_reported_as_damaged(tmp_path):
    path = tmp_path / "mobile_sam.pt"
    path.write_bytes(b"<html>404 Not Found</html>")  # what a failed download through a proxy saves
    with pytest.raises(CheckpointError) as error:
        checkpoint_load(path, "vit_t")
    assert error.value.reason == "damaged"


def test_pickled_code_is_refused(tmp_path):
    # given: a checkpoint that would build an arbitrary object when unpickled
    path = tmp_path / "mobile_sam.pt"
    torch.save({"model": _Arbitrary()}, path)
    # when
    with pytest.raises(CheckpointError) as error:
        checkpoint_load(path, "vit_t")
    # then
    assert error.value.reason == "not_weights"
    assert "loading it would run code" in error.value.message


def test_training_checkpoint_is_refused_with_what_to_save(tmp_path, mobile_sam_state_dict):
    path = tmp_path / "mobile_sam_epoch_12.pt"
    torch.save({"model": mobile_sam_state_dict, "epoch": torch.tensor(12)}, path)
    with pytest.raises(CheckpointError) as error:
        checkpoint_load(path, "vit_t")
    assert error.value.reason == "not_weights"
    assert error.value.message == (
        "mobile_sam_epoch_12.pt is not a plain SAM checkpoint: its entry 'model' is not a weight tensor. "
        "Save the model's state_dict alone."
    )


def test_other_model_type_is_named_without_building_the_model(mobile_sam_file):
    with pytest.raises(CheckpointError) as error:
        checkpoint_load(mobile_sam_file, "vit_b")
    assert error.value.reason == "wrong_model_type"
    assert error.value.message == (
        "mobile_sam.pt holds MobileSAM (TinyViT encoder) weights (vit_t), not vit_b: install it as model type vit_t."
    )


def test_modified_weights_do_not_load_half_way(tmp_path, mobile_sam_state_dict):
    # given: one tensor of another shape (a fine-tune with a different head)
    state_dict = dict(mobile_sam_state_dict)
    state_dict["mask_decoder.iou_prediction_head.layers.2.weight"] = torch.zeros(5, 256)
    path = tmp_path / "mobile_sam_finetuned.pt"
    torch.save(state_dict, path)
    # when
    with pytest.raises(CheckpointError) as error:
        checkpoint_load(path, "vit_t")
    # then
    assert error.value.reason == "wrong_model_type"
    assert error.value.message.startswith("mobile_sam_finetuned.pt does not fit the vit_t model (")
    assert "size mismatch for mask_decoder.iou_prediction_head.layers.2.weight" in error.value.message


def test_model_type_is_read_from_the_tensors(mobile_sam_state_dict):
    assert checkpoint_model_type(mobile_sam_state_dict) == "vit_t"
    assert checkpoint_model_type({"image_encoder.pos_embed": torch.zeros(1, 64, 64, 1024)}) == "vit_l"
    assert checkpoint_model_type({"something.else": torch.zeros(1)}) is None


def test_download_without_network_says_what_to_do_instead(tmp_path):
    # when
    with pytest.raises(CheckpointError) as error:
        checkpoint_download("vit_t", tmp_path, url=UNROUTABLE_URL, timeout_seconds=2)
    # then
    assert error.value.reason == "offline"
    assert error.value.message.startswith(f"Could not download MobileSAM (TinyViT encoder) from {UNROUTABLE_URL} (")
    assert error.value.message.endswith(
        f"This machine has no internet access: download {UNROUTABLE_URL} on another machine, copy mobile_sam.pt "
        "here and run `python manage.py sam_install PATH --model-type vit_t`."
    )
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


def test_download_checks_the_official_checksum(tmp_path, mobile_sam_file):
    # given: a "mirror" serving a file that is not the official one
    with pytest.raises(CheckpointError) as error:
        checkpoint_download("vit_t", tmp_path / "installed", url=mobile_sam_file.as_uri())
    assert error.value.reason == "checksum_mismatch"
    assert not (tmp_path / "installed").exists()


def test_download_installs_the_checked_file(tmp_path, mobile_sam_file, monkeypatch):
    # given: a mirror in the plant serving the (here: pretend) official file
    sha256 = hashlib.sha256(mobile_sam_file.read_bytes()).hexdigest()
    monkeypatch.setitem(OFFICIAL_CHECKPOINTS, "vit_t", replace(OFFICIAL_CHECKPOINTS["vit_t"], sha256=sha256))
    (tmp_path / "models").mkdir()
    # when
    report = checkpoint_download("vit_t", tmp_path / "models", url=mobile_sam_file.as_uri())
    # then
    assert (report.path, report.is_official) == (tmp_path / "models" / "mobile_sam.pt", True)
    assert sorted(path.name for path in (tmp_path / "models").iterdir()) == ["mobile_sam.pt"]


def test_official_table_has_every_model_type_with_its_published_name():
    assert list(OFFICIAL_CHECKPOINTS) == list(checkpoints.MODEL_TYPES)
    for model_type, official in OFFICIAL_CHECKPOINTS.items():
        assert official.url.endswith("/" + official.filename)
        assert official.sha256 is None or len(official.sha256) == 64
        assert model_type in official.filename or official.filename == "mobile_sam.pt"


class _Arbitrary:
    pass
