from django.urls import path

from qa.api import adjudications, policies, reviews, spot_checks

urlpatterns = [
    path("projects/<int:project_id>/qa/policy/", policies.QaPolicyApi.as_view(), name="qa-policy"),
    path(
        "projects/<int:project_id>/qa/assignments/",
        policies.QaAssignmentCreateApi.as_view(),
        name="qa-assignment-create",
    ),
    path("projects/<int:project_id>/qa/statistics/", policies.QaStatisticsApi.as_view(), name="qa-statistics"),
    path(
        "projects/<int:project_id>/qa/adjudications/",
        adjudications.AdjudicationListApi.as_view(),
        name="adjudication-list",
    ),
    path(
        "qa/adjudications/<int:adjudication_id>/",
        adjudications.AdjudicationDetailApi.as_view(),
        name="adjudication-detail",
    ),
    path(
        "qa/adjudications/<int:adjudication_id>/decide/",
        adjudications.AdjudicationDecideApi.as_view(),
        name="adjudication-decide",
    ),
    path(
        "projects/<int:project_id>/qa/spot-check-samples/",
        spot_checks.SpotCheckSampleListApi.as_view(),
        name="spot-check-sample-list",
    ),
    path("projects/<int:project_id>/qa/spot-checks/", spot_checks.SpotCheckListApi.as_view(), name="spot-check-list"),
    path(
        "qa/spot-checks/<int:spot_check_id>/decide/",
        spot_checks.SpotCheckDecideApi.as_view(),
        name="spot-check-decide",
    ),
    path("images/<int:image_id>/edge-cases/", reviews.EdgeCaseFlagApi.as_view(), name="edge-case-flag"),
    path("projects/<int:project_id>/qa/edge-cases/", reviews.EdgeCaseListApi.as_view(), name="edge-case-list"),
    path("qa/edge-cases/<int:edge_case_id>/decide/", reviews.EdgeCaseDecideApi.as_view(), name="edge-case-decide"),
    path("projects/<int:project_id>/precedents/", reviews.PrecedentListApi.as_view(), name="precedent-list"),
    path("projects/<int:project_id>/qa/re-reviews/", reviews.ReReviewListApi.as_view(), name="re-review-list"),
    path("qa/re-reviews/<int:re_review_id>/resolve/", reviews.ReReviewResolveApi.as_view(), name="re-review-resolve"),
]
