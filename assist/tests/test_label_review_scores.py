"""The label-next uncertainty and the label-error quality (assist/label_review.py) on probabilities whose answer
is known by hand."""

import numpy as np
import pytest

from assist.label_review import label_quality_of, pixel_entropy, uncertainty_of


def probabilities_with(defect: np.ndarray) -> np.ndarray:
    """Two classes, surface and one defect, from the defect probability per pixel."""
    return np.stack([1.0 - defect, defect])


def test_entropy_is_0_when_sure_and_1_when_all_classes_are_equally_likely():
    sure = np.zeros((3, 2, 2))
    sure[0] = 1.0
    even = np.full((3, 2, 2), 1 / 3)

    assert np.array_equal(pixel_entropy(sure), np.zeros((2, 2)))
    assert np.allclose(pixel_entropy(even), 1.0)
    assert pixel_entropy(probabilities_with(np.full((1, 1), 0.5)))[0, 0] == pytest.approx(1.0)


def test_uncertainty_averages_over_the_defect_region_only():
    # given: a sure surface of 96 pixels, and 4 pixels the model is unsure of (defect probability 1/2)
    defect = np.zeros((10, 10))
    defect[0, :4] = 0.5
    # when
    uncertainty = uncertainty_of(probabilities_with(defect))
    # then: the region's mean is 1; the whole image's would be diluted 25 times
    assert uncertainty.score == pytest.approx(1.0)
    assert uncertainty.mean_entropy == pytest.approx(0.04)
    assert (uncertainty.defect_region_px, uncertainty.predicted_defect_px) == (4, 0)  # ties go to the surface


def test_an_image_the_model_finds_clean_scores_0():
    uncertainty = uncertainty_of(probabilities_with(np.full((8, 8), 0.1)))
    assert (uncertainty.score, uncertainty.defect_region_px) == (0.0, 0)
    assert uncertainty.mean_entropy > 0


def test_a_label_where_the_model_sees_the_defect_scores_high_and_a_misplaced_one_low():
    # given: the model is sure of a defect in the top-left 3 x 3 block
    defect = np.full((10, 10), 0.02)
    defect[:3, :3] = 0.98
    probabilities = probabilities_with(defect)
    on_it, beside_it = np.zeros((10, 10), bool), np.zeros((10, 10), bool)
    on_it[:3, :3] = True
    beside_it[6:9, 6:9] = True
    # when
    right = label_quality_of(probabilities, [(on_it, 1)])
    wrong = label_quality_of(probabilities, [(beside_it, 1)])
    # then
    assert right.score > 0.9 > 0.1 > wrong.score
    assert right.annotations[0].self_confidence == pytest.approx(0.98)
    assert (right.annotations[0].area_px, right.unlabelled_defect_px, right.disagreeing_px) == (9, 0, 0)
    assert wrong.annotations[0].self_confidence == pytest.approx(0.02)
    assert (wrong.unlabelled_defect_px, wrong.disagreeing_px) == (9, 18)


def test_a_defect_free_judgement_is_doubted_where_the_model_sees_a_defect():
    defect = np.full((10, 10), 0.02)
    defect[5, 5] = 0.99
    quality = label_quality_of(probabilities_with(defect), [])
    assert quality.annotations == []
    assert quality.unlabelled_defect_px == 1
    assert quality.score < 0.5  # one confident pixel is enough: the softmin leans to the worst


def test_a_class_the_model_does_not_have_is_refused():
    with pytest.raises(ValueError, match="class index 2 is not one of the model's 1..1"):
        label_quality_of(probabilities_with(np.zeros((2, 2))), [(np.ones((2, 2), bool), 2)])
