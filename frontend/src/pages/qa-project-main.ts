/**
 * The project's QA page (qa_project.html): the tables are the server's; this draws the plots from the same
 * statistics (json_script) and sends the policy, edge-case and re-review forms through the typed client.
 */
import { type QaStatistics, api } from "../api/client";
import { byId } from "../editor/dom";
import { type FormSubmit, apiFormsWire, jsonField, numberField, optionalNumberField, textField } from "./apiForms";
import { datasetId, jsonScriptRead } from "./pageData";
import { agreementOverTime, iouHistogram } from "./statisticsPlots";

const submits: Readonly<Record<string, FormSubmit>> = {
  "qa-policy-save": (form) =>
    api.qaPolicySave(datasetId(form, "projectId"), {
      calibration_image_count: numberField(form, "calibration_image_count"),
      spot_check_rate: numberField(form, "spot_check_rate"),
      dual_annotation_rate: numberField(form, "dual_annotation_rate"),
      mask_iou_threshold: numberField(form, "mask_iou_threshold"),
      box_iou_threshold: numberField(form, "box_iou_threshold"),
      image_agreement_rate: numberField(form, "image_agreement_rate"),
      keypoint_tolerance_px: numberField(form, "keypoint_tolerance_px"),
      severity_tolerance_ranks: numberField(form, "severity_tolerance_ranks"),
      class_rules: jsonField(form, "class_rules"),
      note: textField(form, "note"),
    }),
  "edge-case-decide": (form) =>
    api.edgeCaseDecide(datasetId(form, "edgeCaseId"), {
      decision: textField(form, "decision"),
      precedent_defect_class_id: optionalNumberField(form, "precedent_defect_class_id"),
    }),
  "re-review-resolve": (form) =>
    api.reReviewResolve(datasetId(form, "reReviewId"), {
      defect_class_id: optionalNumberField(form, "defect_class_id"),
      resolution: textField(form, "resolution"),
    }),
};

const statistics = jsonScriptRead<QaStatistics>("qa-statistics");
byId("iou-histograms").append(...statistics.classes.map(iouHistogram));
byId("agreement-over-time").appendChild(agreementOverTime(statistics.agreement_by_day));
apiFormsWire(submits);
