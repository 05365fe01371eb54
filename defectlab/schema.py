"""OpenAPI generation: views keep their serializers nested (InputSerializer, OutputSerializer), so component
names are prefixed with the owning view (AnnotationSaveApi.InputSerializer -> AnnotationSaveInput)."""

from drf_spectacular import openapi
from drf_spectacular.plumbing import force_instance


class AutoSchema(openapi.AutoSchema):
    def _get_serializer_name(self, serializer, direction, bypass_extensions=False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        instance = force_instance(serializer)
        instance = getattr(instance, "child", instance)
        owner, _, nested = type(instance).__qualname__.rpartition(".")
        if owner and not name.startswith(owner):
            name = owner.split(".")[-1].removesuffix("Api") + name
        return name
