import { describe, expect, it } from "vitest";
import { MINIMUM_SIZE_FIELDS, minimumSizeInWords, minimumSizeOf } from "./rules";

describe("the minimum-size limits", () => {
  it("are the server's fields, px limits first (annotation/rules.py MinimumSize)", () => {
    expect(MINIMUM_SIZE_FIELDS).toEqual([
      "min_length_px",
      "min_width_px",
      "min_height_px",
      "min_area_px",
      "min_length_mm",
      "min_width_mm",
      "min_height_mm",
      "min_area_mm2",
    ]);
  });

  it("read off a defect class, absent or null meaning no limit", () => {
    // given
    const defectClass = { min_area_px: 50, min_length_mm: null, min_width_mm: 0.25 };
    // when
    const minimum = minimumSizeOf(defectClass);
    // then
    expect(minimum).toEqual({
      min_length_px: null,
      min_width_px: null,
      min_height_px: null,
      min_area_px: 50,
      min_length_mm: null,
      min_width_mm: 0.25,
      min_height_mm: null,
      min_area_mm2: null,
    });
  });

  it("are put in words with their units, as the server puts them", () => {
    // given
    const minimum = minimumSizeOf({ min_length_px: 8, min_area_px: 50, min_width_mm: 0.25, min_area_mm2: 1.5 });
    // when
    const words = minimumSizeInWords(minimum);
    // then: annotation/tests/test_minimum_size.py expects the same words
    expect(words).toEqual(["length ≥ 8 px", "area ≥ 50 px²", "width ≥ 0.25 mm", "area ≥ 1.5 mm²"]);
    expect(minimumSizeInWords(minimumSizeOf({}))).toEqual([]);
  });
});
