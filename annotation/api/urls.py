from django.urls import path

from annotation.api import annotations, editor, images, projects

urlpatterns = [
    path("projects/", projects.ProjectListApi.as_view(), name="project-list"),
    path("projects/<int:project_id>/", projects.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<int:project_id>/members/", projects.MemberListApi.as_view(), name="member-list"),
    path("projects/<int:project_id>/members/<int:user_id>/", projects.MemberDeleteApi.as_view(), name="member-delete"),
    path("projects/<int:project_id>/defect-classes/", projects.DefectClassListApi.as_view(), name="defect-class-list"),
    path("defect-classes/<int:defect_class_id>/", projects.DefectClassDetailApi.as_view(), name="defect-class-detail"),
    path(
        "defect-classes/<int:defect_class_id>/merge/",
        projects.DefectClassMergeApi.as_view(),
        name="defect-class-merge",
    ),
    path(
        "defect-classes/<int:defect_class_id>/split/",
        projects.DefectClassSplitApi.as_view(),
        name="defect-class-split",
    ),
    path("projects/<int:project_id>/images/", images.ImageListApi.as_view(), name="image-list"),
    path("projects/<int:project_id>/assignments/", images.AssignmentCreateApi.as_view(), name="assignment-create"),
    path("projects/<int:project_id>/audit/", annotations.AuditListApi.as_view(), name="audit-list"),
    path("images/<int:image_id>/", images.ImageDetailApi.as_view(), name="image-detail"),
    path("images/<int:image_id>/file/<str:kind>", images.ImageFileApi.as_view(), name="image-file"),
    path(
        "images/<int:image_id>/tiles/<int:level>/<int:column>/<int:row>",
        images.ImageTileApi.as_view(),
        name="image-tile",
    ),
    path("images/<int:image_id>/editor/", editor.ImageEditorApi.as_view(), name="image-editor"),
    path("images/<int:image_id>/comments/", editor.ImageCommentListApi.as_view(), name="image-comment-list"),
    path("images/<int:image_id>/defect-free/", images.ImageDefectFreeApi.as_view(), name="image-defect-free"),
    path("images/<int:image_id>/submit/", images.ImageSubmitApi.as_view(), name="image-submit"),
    path("images/<int:image_id>/annotations/", annotations.AnnotationListApi.as_view(), name="annotation-list"),
    path("annotations/<int:annotation_id>/", annotations.AnnotationDetailApi.as_view(), name="annotation-detail"),
    path("queue/", images.QueueApi.as_view(), name="queue"),
    path("queue/next/", images.QueueNextApi.as_view(), name="queue-next"),
]
