"""Serializers de entrada/saída da API de contas (nunca expõem senha nem hash)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from rest_framework import serializers

from accounts.models import User


class RegisterInputSerializer(serializers.Serializer[dict[str, Any]]):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=4096, style={"input_type": "password"}
    )


class UserOutputSerializer(serializers.ModelSerializer[User]):
    # O e-mail é opcional no cadastro: pode sair vazio, então não é declarado com formato "email".
    email = serializers.CharField(read_only=True, help_text="E-mail; vazio quando não informado.")
    firstName = serializers.CharField(source="first_name", read_only=True)
    lastName = serializers.CharField(source="last_name", read_only=True)
    isStaff = serializers.BooleanField(source="is_staff", read_only=True)
    dateJoined = serializers.DateTimeField(source="date_joined", read_only=True)
    lastLogin = serializers.DateTimeField(source="last_login", read_only=True, allow_null=True)

    class Meta:
        model = User
        # Lista explícita: um campo novo no modelo (ou a senha) nunca sai por acidente.
        fields = ("id", "username", "email", "firstName", "lastName", "isStaff", "dateJoined", "lastLogin")
        read_only_fields = fields


class TokenPairOutputSerializer(serializers.Serializer[dict[str, str]]):
    access = serializers.CharField(help_text="JWT de acesso (curto); envie em `Authorization: Bearer …`.")
    refresh = serializers.CharField(help_text="JWT de renovação; use em /api/auth/refresh e /api/auth/logout.")


class LoginInputSerializer(serializers.Serializer[dict[str, str]]):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class RefreshInputSerializer(serializers.Serializer[dict[str, str]]):
    refresh = serializers.CharField()


class PasswordChangeInputSerializer(serializers.Serializer[dict[str, str]]):
    old_password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=4096, style={"input_type": "password"}
    )
    new_password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=4096, style={"input_type": "password"}
    )
