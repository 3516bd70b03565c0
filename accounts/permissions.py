"""Permissões e acesso tipado ao usuário da requisição."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.models import User


def authenticated_user(request: Request) -> User:
    """O ``User`` autenticado; ``NotAuthenticated`` (401) se não houver.

    ``request.user`` é tipado como ``AbstractBaseUser | AnonymousUser``; este é o
    ponto único que estreita o tipo para o nosso modelo.
    """
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotAuthenticated
    return user


def _is_staff(request: Request) -> bool:
    user = request.user
    return isinstance(user, User) and user.is_authenticated and user.is_active and user.is_staff


class IsStaff(BasePermission):
    """Só administradores (``is_staff``)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return _is_staff(request)


class CanRegister(BasePermission):
    """Cadastro: administradores, ou qualquer pessoa com ``ALLOW_SIGNUP=true``."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(settings.ALLOW_SIGNUP) or _is_staff(request)
