"""Usuários e clientes autenticados para os testes da API (administrador, analista, anônimo)."""

from __future__ import annotations

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User

PASSWORD = "correct-horse-battery-staple-42"
WRONG = "not-the-password"


def make_user(username: str = "analyst", *, staff: bool = False, active: bool = True) -> User:
    return User.objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        is_staff=staff,
        is_active=active,
    )


def bearer_client(user: User) -> APIClient:
    """Cliente com um access token válido do usuário (sem passar pelo login)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def login_pair(username: str = "analyst", password: str = PASSWORD) -> dict[str, str]:
    """Par ``{access, refresh}`` pelo login de verdade (claims ``ver`` e ``auth_time`` incluídos)."""
    response = APIClient().post("/api/auth/login", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    tokens: dict[str, str] = response.json()
    return tokens


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client
