from django.urls import path

from assist.api import assist, prelabels, sam, statistics, suggestions

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
]
