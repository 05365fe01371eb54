from django.urls import path

from assist.api import assist, label_review, prelabels, sam, statistics, suggestions

urlpatterns = [
    path("images/<int:image_id>/assist/", assist.AssistRunApi.as_view(), name="assist-run"),
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
