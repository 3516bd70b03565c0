"""Modelo de usuário próprio desde o primeiro dia (trocar depois exige migração dolorosa)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

_SESSION_HASH_SALT = "accounts.User.session_auth_hash"


class User(AbstractUser):
    """Analistas e administradores do painel. ``is_staff`` marca administradores.

    ``token_version`` é a geração das credenciais emitidas: vai no claim ``ver`` de todo
    JWT e entra no hash que prende a sessão do Django ao usuário. Subir a versão derruba de
    uma vez todo token e toda sessão já emitidos. Ela sobe sozinha quando a senha muda (por
    qualquer caminho que passe por ``set_password``: API, ``password_change`` do Django,
    admin, ``changepassword``) ou quando a conta é desativada (``is_active`` → ``False``
    num ``save()``), e por ``user_tokens_revoke`` (logout em todos os lugares).
    """

    token_version = models.PositiveIntegerField(
        _("geração das credenciais"),
        default=0,
        editable=False,
        help_text=_("Sobe a cada troca de senha, desativação ou logout geral: tokens e sessões anteriores caem."),
    )

    def set_password(self, raw_password: str | None) -> None:
        # Reescrever o hash com a mesma senha (atualização de algoritmo no login, ou o
        # admin salvando a senha de sempre) não é troca de senha: não revoga nada.
        if self.pk is not None and not (
            raw_password is not None and self.password and check_password(raw_password, self.password)
        ):
            self._revoke_on_save = True
        super().set_password(raw_password)

    def set_unusable_password(self) -> None:
        if self.pk is not None:
            self._revoke_on_save = True
        super().set_unusable_password()

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Grava; se as credenciais mudaram, sobe ``token_version`` e revoga os tokens emitidos.

        A versão nunca é gravada a partir da cópia em memória: um formulário aberto antes de
        um logout geral (versão antiga na memória) não pode devolvê-la ao banco e ressuscitar
        tokens revogados. Ela só muda por incremento atômico no banco.
        """
        adding = self._state.adding
        update_fields = kwargs.get("update_fields")
        revoke = getattr(self, "_revoke_on_save", False) or (not adding and self._being_deactivated(update_fields))
        if not adding and not kwargs.get("force_insert"):
            if update_fields is None:
                deferred = self.get_deferred_fields()
                update_fields = [
                    field.attname
                    for field in self._meta.concrete_fields
                    if not field.primary_key and field.attname not in deferred
                ]
            kwargs["update_fields"] = [name for name in update_fields if name != "token_version"]
        super().save(*args, **kwargs)
        self._revoke_on_save = False
        if revoke and not adding:
            # Import tardio: o serviço importa este modelo.
            from accounts.services import user_tokens_revoke

            user_tokens_revoke(user=self)

    def _being_deactivated(self, update_fields: Any) -> bool:
        if self.is_active or (update_fields is not None and "is_active" not in update_fields):
            return False
        return type(self)._default_manager.filter(pk=self.pk, is_active=True).exists()

    def token_version_bump(self) -> int:
        """Incremento atômico no banco; a cópia em memória passa a ter o valor novo."""
        type(self)._default_manager.filter(pk=self.pk).update(token_version=F("token_version") + 1)
        self.refresh_from_db(fields=["token_version"])
        return self.token_version

    # --- sessão do Django presa à geração das credenciais -------------------------------
    # Versão 0 usa o hash padrão do Django (só a senha): sessões abertas antes desta coluna
    # continuam valendo. Da primeira revogação em diante, a versão entra no HMAC.

    def _versioned_session_hash(self, secret: str | None) -> str:
        value = f"{self.password}\x00{self.token_version}"
        return salted_hmac(_SESSION_HASH_SALT, value, secret=secret, algorithm="sha256").hexdigest()

    def get_session_auth_hash(self) -> str:
        if not self.token_version:
            return super().get_session_auth_hash()
        return self._versioned_session_hash(None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        if not self.token_version:
            yield from super().get_session_auth_fallback_hash()
            return
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._versioned_session_hash(secret)
