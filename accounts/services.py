"""Escritas do domínio de contas."""

from __future__ import annotations

import logging

from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from accounts.selectors import TOKEN_VERSION_CACHE_SECONDS, token_version_cache_key

logger = logging.getLogger(__name__)


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


def user_tokens_revoke(*, user: User) -> int:
    """Derruba todas as credenciais emitidas do usuário; devolve a versão nova.

    Sobe ``token_version`` (todo JWT com o ``ver`` anterior deixa de valer, e toda sessão
    do Django cai, porque a versão entra no hash da sessão), põe na lista negra cada
    refresh ainda pendente (fica visível no admin do simplejwt e vale também para tokens
    sem o claim) e, depois do commit, grava a versão nova no cache lido pelo feed.
    """
    with transaction.atomic():
        version = user.token_version_bump()
        pending = OutstandingToken.objects.filter(
            user_id=user.pk, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
        )
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in pending], ignore_conflicts=True
        )
    cached = version if user.is_active else -1
    key = token_version_cache_key(user.pk)

    def publish() -> None:
        try:
            cache.set(key, cached, TOKEN_VERSION_CACHE_SECONDS)
        except Exception:  # cache fora do ar: o feed relê do banco quando a entrada expirar
            logger.warning("não foi possível publicar a versão de token revogada no cache")

    transaction.on_commit(publish)
    return version


def user_password_change(*, user: User, old_password: str, new_password: str) -> None:
    """Troca a senha do próprio usuário, conferindo a atual; revoga os tokens e sessões emitidos.

    Lança ``ValidationError`` por campo: ``old_password`` (não confere) ou ``new_password``
    (validadores do Django, ou igual à atual — que não revogaria nada).
    """
    if not user.check_password(old_password):
        raise ValidationError({"old_password": [_("A senha atual não confere.")]})
    if old_password == new_password:
        raise ValidationError({"new_password": [_("A nova senha precisa ser diferente da atual.")]})
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
