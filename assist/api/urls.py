from django.urls import path

from assist.api import assist, label_review, prelabels, sam, statistics, suggestions, training

urlpatterns = [
    path("images/<int:image_id>/assist/", assist.AssistRunApi.as_view(), name="assist-run"),
    path("images/<int:image_id>/assist/record/", assist.AssistRecordApi.as_view(), name="assist-record"),
    path("projects/<int:project_id>/assist/engines/", assist.EngineListApi.as_view(), name="assist-engine-list"),
    path(
        "projects/<int:project_id>/assist/statistics/",
        statistics.AssistStatisticsApi.as_view(),
        name="assist-statistics",
    ),
    path("projects/<int:project_id>/prelabels/", prelabels.PrelabelStartApi.as_view(), name="prelabel-start"),
    path("images/<int:image_id>/suggestions/", suggestions.SuggestionListApi.as_view(), name="suggestion-list"),
    path(
        "suggestions/<int:suggestion_id>/accept/",
        suggestions.SuggestionAcceptApi.as_view(),
        name="suggestion-accept",
    ),
    path(
        "suggestions/<int:suggestion_id>/reject/",
        suggestions.SuggestionRejectApi.as_view(),
        name="suggestion-reject",
    ),
    path("images/<int:image_id>/visits/", suggestions.ImageVisitApi.as_view(), name="image-visit"),
    path("images/<int:image_id>/embedding/", sam.ImageEmbeddingApi.as_view(), name="image-embedding"),
    path("assist/sam/decoder.onnx", sam.SamDecoderApi.as_view(), name="sam-decoder"),
    # Training runs and the model registry
    path("projects/<int:project_id>/training-runs/", training.TrainingRunListApi.as_view(), name="training-run-list"),
    path("training-runs/<int:run_id>/", training.TrainingRunDetailApi.as_view(), name="training-run-detail"),
    path("projects/<int:project_id>/models/", training.TrainedModelListApi.as_view(), name="trained-model-list"),
    path("models/<int:model_id>/", training.TrainedModelDetailApi.as_view(), name="trained-model-detail"),
    path("models/<int:model_id>/promote/", training.TrainedModelPromoteApi.as_view(), name="trained-model-promote"),
    path("models/<int:model_id>/retrain/", training.TrainedModelRetrainApi.as_view(), name="trained-model-retrain"),
    path(
        "models/<int:model_id>/evaluations/",
        training.TrainedModelEvaluateApi.as_view(),
        name="trained-model-evaluate",
    ),
    path(
        "models/<int:model_id>/files/<str:name>",
        training.TrainedModelFileApi.as_view(),
        name="trained-model-file",
    ),
    path(
        "models/<int:model_id>/worst-cases/<int:index>.png",
        training.TrainedModelWorstCaseApi.as_view(),
        name="trained-model-worst-case",
    ),
    # Label next and label-error review (the promoted model's rankings)
    path("projects/<int:project_id>/label-next/", label_review.LabelNextListApi.as_view(), name="label-next-list"),
    path(
        "projects/<int:project_id>/label-next/jobs/", label_review.LabelNextStartApi.as_view(), name="label-next-start"
    ),
    path("projects/<int:project_id>/label-errors/", label_review.LabelErrorListApi.as_view(), name="label-error-list"),
    path(
        "projects/<int:project_id>/label-errors/jobs/",
        label_review.LabelErrorsStartApi.as_view(),
        name="label-errors-start",
    ),
    path(
        "label-errors/<int:label_error_id>/decide/",
        label_review.LabelErrorDecideApi.as_view(),
        name="label-error-decide",
    ),
]
