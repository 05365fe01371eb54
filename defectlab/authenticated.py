"""Request types for views that require a login (every API endpoint by default: IsAuthenticated; the pages behind
login_required): their user is a User, never AnonymousUser, so services can take `User` as it is."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework.request import Request


class AuthenticatedRequest(Request):
    user: User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
