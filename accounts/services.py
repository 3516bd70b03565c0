"""Escritas do domínio de contas."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User


def user_create(*, username: str, password: str, email: str = "") -> User:
    """Cria um analista (não administrador) com a senha validada e guardada em hash.

    Lança ``ValidationError`` com mensagens por campo (``username``, ``password``).
    Nomes que só diferem em maiúsculas/minúsculas são recusados: evitam contas
    que se passam por outras ("Admin" × "admin").
    """
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": [_("Este nome de usuário já está em uso.")]})
    candidate = User(username=username, email=email)
    validate_password(password, user=candidate)
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:  # corrida com outro cadastro do mesmo nome
        raise ValidationError({"username": [_("Este nome de usuário já está em uso.")]}) from None
