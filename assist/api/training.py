"""Training runs and the model registry: start a run (admins), follow it, list and read runs and models, promote
a model, download its files, evaluate it on a version's test split."""

from typing import Any

from django.http import FileResponse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api.serializers import ErrorOutput
from assist.models import TrainedModel, TrainingRun
from assist.permissions import AssistAction, project_get_for_assist
from assist.selectors import (
    trained_model_get_for_user,
    trained_model_list_for_project,
    training_run_get_for_user,
    training_run_list_for_project,
)
from assist.services.evaluation import model_evaluation_start
from assist.services.models import model_file_path, model_files, model_worst_case_path, trained_model_promote
from assist.services.retraining import trained_model_retrain
from assist.services.training import training_recipe, training_run_start
from defectlab.authenticated import AuthenticatedRequest
from defectlab.jobs.api import JobOutput, job_output

MAX_ID = 2**63 - 1


class TrainedModelOutput(serializers.Serializer[TrainedModel]):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="segmentation (pre-labels) or interactive (the editor's box and clicks)")
    run_id = serializers.IntegerField()
    project_id = serializers.IntegerField()
    dataset_version_id = serializers.IntegerField(source="run.dataset_version_id")
    dataset_version_name = serializers.CharField(source="run.dataset_version.name")
    content_hash = serializers.CharField(source="run.content_hash")
    recipe = serializers.DictField(source="run.recipe")
    code_version = serializers.CharField(source="run.code_version")
    defect_classes = serializers.ListField(child=serializers.CharField())
    metrics = serializers.DictField(help_text="On the version's test split (assist/training/evaluate.py).")
    validation_metrics = serializers.DictField()
    decision = serializers.DictField()
    parity = serializers.DictField()
    files = serializers.ListField(child=serializers.CharField(), source="file_names")
    is_promoted = serializers.BooleanField()
    promoted_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class TrainingRunOutput(serializers.Serializer[TrainingRun]):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="segmentation or interactive: what the run trains")
    project_id = serializers.IntegerField()
    dataset_version_id = serializers.IntegerField()
    dataset_version_name = serializers.CharField(source="dataset_version.name")
    content_hash = serializers.CharField()
    recipe = serializers.DictField()
    seed = serializers.IntegerField()
    code_version = serializers.CharField()
    device = serializers.CharField()
    epoch = serializers.IntegerField()
    step = serializers.IntegerField()
    total_steps = serializers.IntegerField(allow_null=True)
    eta_seconds = serializers.FloatField(allow_null=True)
    elapsed_seconds = serializers.FloatField()
    history = serializers.ListField(child=serializers.DictField(), help_text="One row per validation.")
    resumed_at_steps = serializers.ListField(child=serializers.IntegerField(), help_text="after lost workers")
    loss_curve = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()), help_text="[step, training loss] pairs"
    )
    job = serializers.SerializerMethodField()
    model_id = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()

    @extend_schema_field(JobOutput)
    def get_job(self, run: TrainingRun) -> dict[str, Any]:
        return job_output(job=run.job, user=self.context["user"])

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_model_id(self, run: TrainingRun) -> int | None:
        model = getattr(run, "trained_model", None)
        return model.pk if model is not None else None


def _run_output(run: TrainingRun, request: AuthenticatedRequest) -> dict[str, Any]:
    return TrainingRunOutput(run, context={"user": request.user}).data


def _model_output(model: TrainedModel) -> dict[str, Any]:
    model.file_names = list(model_files(model.kind))  # type: ignore[attr-defined]  # what the files endpoint serves
    return TrainedModelOutput(model).data


class TrainingRunListApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        version_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        recipe = serializers.CharField(
            required=False,
            max_length=100,
            help_text='a named recipe (default: the first); "interactive": click-and-box',
        )
        minutes = serializers.FloatField(required=False, min_value=0.01, help_text="wall-clock training budget")
        epochs = serializers.IntegerField(required=False, min_value=1, max_value=100_000)
        seed = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)

    @extend_schema(responses=TrainingRunOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        """The project's training runs, newest first (seniors, ML engineers, admins)."""
        project, _ = project_get_for_assist(user=request.user, project_id=project_id, action=AssistAction.VIEW_MODELS)
        runs = training_run_list_for_project(project=project)[:100]
        return Response([_run_output(run, request) for run in runs])

    @extend_schema(request=InputSerializer, responses={202: TrainingRunOutput, 400: ErrorOutput, 403: ErrorOutput})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        """Train a model on one of the project's dataset versions (admins): 202 with the run, whose job a worker on
        the training queue takes. Without minutes or epochs the recipe's own budget applies."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        project_get_for_assist(user=request.user, project_id=project_id, action=AssistAction.TRAIN)
        recipe = training_recipe(
            recipe_name=values.get("recipe"),
            minutes=values.get("minutes"),
            epochs=values.get("epochs"),
            seed=values.get("seed"),
            changes={},
        )
        run = training_run_start(
            user=request.user, project_id=project_id, version_id=values["version_id"], recipe=recipe
        )
        return Response(_run_output(run, request), status=202)


class TrainingRunDetailApi(APIView):
    @extend_schema(responses=TrainingRunOutput)
    def get(self, request: AuthenticatedRequest, run_id: int) -> Response:
        """A run with its live figures: step, epoch, ETA, the loss curve, one row per validation, its job."""
        return Response(_run_output(training_run_get_for_user(user=request.user, run_id=run_id), request))


class TrainedModelListApi(APIView):
    @extend_schema(responses=TrainedModelOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        """The project's models, newest first, the promoted one flagged."""
        project, _ = project_get_for_assist(user=request.user, project_id=project_id, action=AssistAction.VIEW_MODELS)
        return Response([_model_output(model) for model in trained_model_list_for_project(project=project)[:100]])


class TrainedModelDetailApi(APIView):
    @extend_schema(responses=TrainedModelOutput)
    def get(self, request: AuthenticatedRequest, model_id: int) -> Response:
        return Response(_model_output(trained_model_get_for_user(user=request.user, model_id=model_id)))


class TrainedModelPromoteApi(APIView):
    @extend_schema(request=None, responses={200: TrainedModelOutput, 403: ErrorOutput, 404: ErrorOutput})
    def post(self, request: AuthenticatedRequest, model_id: int) -> Response:
        """Make this model the project's promoted one (admins): pre-labels and the assist use it."""
        return Response(_model_output(trained_model_promote(user=request.user, model_id=model_id)))


class TrainedModelRetrainApi(APIView):
    @extend_schema(request=None, responses={202: TrainingRunOutput, 400: ErrorOutput, 403: ErrorOutput})
    def post(self, request: AuthenticatedRequest, model_id: int) -> Response:
        """Train this model's recipe again on the project's newest dataset version (admins): 202 with the new run.
        Its model is promoted by hand, once its evaluation is read."""
        run = trained_model_retrain(user=request.user, model_id=model_id)
        return Response(_run_output(run, request), status=202)


class TrainedModelFileApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes, 404: ErrorOutput})
    def get(self, request: AuthenticatedRequest, model_id: int, name: str) -> FileResponse:
        """One of the model's files: checkpoint (best.pt), onnx_fp32, onnx_int8 or decision (JSON)."""
        model = trained_model_get_for_user(user=request.user, model_id=model_id)
        path = model_file_path(model, name)
        return FileResponse(
            open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
            as_attachment=True,
            filename=f"{model.project.slug}-model-{model.pk}-{path.name}",
        )


class TrainedModelWorstCaseApi(APIView):
    @extend_schema(responses={(200, "image/png"): bytes, 404: ErrorOutput})
    def get(self, request: AuthenticatedRequest, model_id: int, index: int) -> FileResponse:
        """The `index`th worst test case as a PNG: the image, the truth (green), the prediction (red)."""
        model = trained_model_get_for_user(user=request.user, model_id=model_id)
        response = FileResponse(open(model_worst_case_path(model, index), "rb"), content_type="image/png")  # noqa: SIM115
        response["Cache-Control"] = "private, max-age=31536000, immutable"  # a model's files never change
        return response


class TrainedModelEvaluateApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        version_id = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_ID, help_text="default: the version the model was trained on"
        )

    @extend_schema(request=InputSerializer, responses={202: JobOutput, 403: ErrorOutput, 404: ErrorOutput})
    def post(self, request: AuthenticatedRequest, model_id: int) -> Response:
        """Evaluate the model on a version's test split as a `model_evaluation` job (ML engineers, admins): 202
        with the job; its result holds the metrics."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = model_evaluation_start(
            user=request.user, model_id=model_id, version_id=data.validated_data.get("version_id")
        )
        return Response(job_output(job=job, user=request.user), status=202)
