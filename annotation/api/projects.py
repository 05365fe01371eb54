"""Projects, members and the defect taxonomy."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api.serializers import DefectClassOutput, ProjectOutput
from annotation.models import DefectClass, GeometryKind, Membership, Role
from annotation.permissions import Capability
from annotation.rules import MINIMUM_SIZE_FIELDS
from annotation.selectors import (
    defect_class_get_for_user,
    defect_class_list_for_project,
    image_status_counts,
    project_get_for_user,
    project_list_for_user,
)
from annotation.services.projects import (
    DEFECT_CLASS_SPLIT_MAX,
    defect_class_create,
    defect_class_delete,
    defect_class_merge,
    defect_class_split,
    defect_class_update,
    membership_remove,
    membership_set,
    project_create,
    project_update,
)
from defectlab.api.fields import NameField, column_integer_field
from defectlab.authenticated import AuthenticatedRequest
from defectlab.errors import NotFound, PermissionDenied


class ProjectListApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = NameField(max_length=200)
        slug = serializers.SlugField(max_length=80)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        px_per_mm = serializers.FloatField(required=False, allow_null=True, min_value=0.000001, default=None)

    @extend_schema(responses=ProjectOutput(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        projects = project_list_for_user(user=request.user)
        return Response(ProjectOutput(projects, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ProjectOutput})
    def post(self, request: AuthenticatedRequest) -> Response:
        if not request.user.is_superuser:
            raise PermissionDenied("Only site administrators create projects.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_create(created_by=request.user, **data.validated_data)
        return Response(ProjectOutput(project).data, status=201)


class ProjectDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = NameField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        px_per_mm = serializers.FloatField(required=False, allow_null=True, min_value=0.000001)

    class OutputSerializer(ProjectOutput):
        class Meta(ProjectOutput.Meta):
            fields = [*ProjectOutput.Meta.fields, "role", "defect_classes", "status_counts"]

        role = serializers.CharField()
        defect_classes = DefectClassOutput(many=True)
        status_counts = serializers.DictField(child=serializers.IntegerField())

    @extend_schema(responses=OutputSerializer)
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, role = project_get_for_user(user=request.user, project_id=project_id)
        body = ProjectOutput(project).data
        body["role"] = role
        body["defect_classes"] = DefectClassOutput(defect_class_list_for_project(project=project), many=True).data
        body["status_counts"] = image_status_counts(user=request.user, role=role, project=project)
        return Response(body)

    @extend_schema(request=InputSerializer, responses=ProjectOutput)
    def patch(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_user(
            user=request.user, project_id=project_id, capability=Capability.MANAGE_PROJECT
        )
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        project = project_update(project=project, actor=request.user, **data.validated_data)
        return Response(ProjectOutput(project).data)


class MemberListApi(APIView):
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        role = serializers.ChoiceField(choices=Role.choices)

    class OutputSerializer(serializers.ModelSerializer):
        username = serializers.CharField(source="user.username")

        class Meta:
            model = Membership
            fields = ["user_id", "username", "role"]

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_user(
            user=request.user, project_id=project_id, capability=Capability.MANAGE_PROJECT
        )
        members = Membership.objects.filter(project=project).select_related("user").order_by("user__username")
        return Response(self.OutputSerializer(members, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_user(
            user=request.user, project_id=project_id, capability=Capability.MANAGE_PROJECT
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_user_model().objects.filter(username=data.validated_data["username"], is_active=True).first()
        if user is None:
            raise NotFound("No such user.")
        membership = membership_set(project=project, user=user, role=data.validated_data["role"], actor=request.user)
        return Response(self.OutputSerializer(membership).data, status=201)


class MemberDeleteApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, project_id: int, user_id: int) -> Response:
        project, _ = project_get_for_user(
            user=request.user, project_id=project_id, capability=Capability.MANAGE_PROJECT
        )
        membership = Membership.objects.filter(project=project, user_id=user_id).select_related("user").first()
        if membership is None:
            raise NotFound("No such member.")
        membership_remove(project=project, user=membership.user, actor=request.user)
        return Response(status=204)


class SeverityLevelInput(serializers.Serializer):
    name = NameField(max_length=80)
    criterion = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        # A PATCH is partial in the class's own fields, not in the levels it replaces: each level needs its name.
        if "name" not in attrs:
            raise serializers.ValidationError({"name": ["This field is required."]})
        return attrs


# One optional, non-negative float per minimum-size field (annotation/rules.py MinimumSize), after the
# serializer's own fields; null clears a limit. A comment, not a docstring: the OpenAPI schema would show it.
class MinimumSizeInput(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in MINIMUM_SIZE_FIELDS:
            fields[name] = serializers.FloatField(min_value=0, required=False, allow_null=True)
        return fields


class DefectClassInput(MinimumSizeInput):
    name = NameField(max_length=80, help_text="one line, without ':' (Pascal VOC's label map separator)")
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    geometry_kind = serializers.ChoiceField(choices=GeometryKind.choices, required=False)
    position = column_integer_field(DefectClass, "position", required=False)
    is_active = serializers.BooleanField(required=False)
    severity_levels = SeverityLevelInput(many=True, required=False)


class DefectClassListApi(APIView):
    @extend_schema(responses=DefectClassOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_user(user=request.user, project_id=project_id)
        return Response(DefectClassOutput(defect_class_list_for_project(project=project), many=True).data)

    @extend_schema(request=DefectClassInput, responses={201: DefectClassOutput})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_user(
            user=request.user, project_id=project_id, capability=Capability.MANAGE_PROJECT
        )
        data = DefectClassInput(data=request.data)
        data.is_valid(raise_exception=True)
        defect_class = defect_class_create(project=project, actor=request.user, **data.validated_data)
        return Response(DefectClassOutput(defect_class).data, status=201)


class DefectClassDetailApi(APIView):
    @extend_schema(request=DefectClassInput, responses=DefectClassOutput)
    def patch(self, request: AuthenticatedRequest, defect_class_id: int) -> Response:
        defect_class = defect_class_get_for_user(
            user=request.user, defect_class_id=defect_class_id, capability=Capability.MANAGE_PROJECT
        )
        data = DefectClassInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        defect_class = defect_class_update(defect_class=defect_class, actor=request.user, **data.validated_data)
        return Response(DefectClassOutput(defect_class).data)

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, defect_class_id: int) -> Response:
        defect_class = defect_class_get_for_user(
            user=request.user, defect_class_id=defect_class_id, capability=Capability.MANAGE_PROJECT
        )
        defect_class_delete(defect_class=defect_class, actor=request.user)
        return Response(status=204)


class DefectClassMergeApi(APIView):
    """Retire this class in favour of another. Nothing is relabelled: QA flags the retired class's final
    annotations for re-review, suggesting the class merged into."""

    class InputSerializer(serializers.Serializer):
        into_defect_class_id = serializers.IntegerField(min_value=1, help_text="the active class it becomes part of")

    class OutputSerializer(serializers.Serializer):
        retired = DefectClassOutput()
        merged_into = DefectClassOutput()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: AuthenticatedRequest, defect_class_id: int) -> Response:
        source = defect_class_get_for_user(
            user=request.user, defect_class_id=defect_class_id, capability=Capability.MANAGE_PROJECT
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = defect_class_get_for_user(
            user=request.user,
            defect_class_id=data.validated_data["into_defect_class_id"],
            capability=Capability.MANAGE_PROJECT,
        )
        merged_into = defect_class_merge(source=source, target=target, actor=request.user)
        source.refresh_from_db()
        return Response(self.OutputSerializer({"retired": source, "merged_into": merged_into}).data)


class DefectClassSplitApi(APIView):
    """Retire this class and create the named classes, each with its kind, minimum sizes and severity levels.
    Which new class each annotation belongs to is a judgement: QA flags the final ones for re-review."""

    class InputSerializer(serializers.Serializer):
        into = serializers.ListField(
            child=NameField(max_length=80),
            min_length=2,
            max_length=DEFECT_CLASS_SPLIT_MAX,
            help_text="names of the new classes",
        )

    class OutputSerializer(serializers.Serializer):
        retired = DefectClassOutput()
        created = DefectClassOutput(many=True)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: AuthenticatedRequest, defect_class_id: int) -> Response:
        defect_class = defect_class_get_for_user(
            user=request.user, defect_class_id=defect_class_id, capability=Capability.MANAGE_PROJECT
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = defect_class_split(defect_class=defect_class, into=data.validated_data["into"], actor=request.user)
        defect_class.refresh_from_db()
        return Response(self.OutputSerializer({"retired": defect_class, "created": created}).data, status=201)
