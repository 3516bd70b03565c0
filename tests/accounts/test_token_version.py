"""``accounts.selectors.token_version_valid``: a conferência que o feed WebSocket usa nos sockets abertos.

Vale o que a API vale: depois de uma revogação, o token da geração anterior deixa de valer
(já no commit, pelo cache); usuário inativo ou apagado, nenhum token vale.
"""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core.cache import cache

from accounts.models import User
from accounts.selectors import TOKEN_VERSION_CACHE_SECONDS, atoken_version_valid, token_version_valid
from accounts.services import user_tokens_revoke
from tests.accounts.factories import make_user

pytestmark = pytest.mark.django_db


def test_the_current_generation_is_valid_and_a_missing_claim_means_zero() -> None:
    user = make_user("ana")

    assert token_version_valid(user_id=user.pk, version=0)
    assert token_version_valid(user_id=user.pk, version=None)
    assert not token_version_valid(user_id=user.pk, version=1)


def test_after_a_revocation_the_previous_generation_is_invalid_at_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = make_user("ana")
    assert token_version_valid(user_id=user.pk, version=0)  # fica no cache

    with django_capture_on_commit_callbacks(execute=True):
        version = user_tokens_revoke(user=user)

    assert version == 1
    assert not token_version_valid(user_id=user.pk, version=0)
    assert token_version_valid(user_id=user.pk, version=1)


def test_an_inactive_or_deleted_user_has_no_valid_generation() -> None:
    inactive = make_user("ana", active=False)
    deleted = make_user("bia")
    deleted_id = deleted.pk
    deleted.delete()

    assert not token_version_valid(user_id=inactive.pk, version=0)
    assert not token_version_valid(user_id=deleted_id, version=0)


@pytest.mark.parametrize("claim", ["0", 0.0, True, [0]])
def test_a_claim_that_is_not_an_integer_is_invalid(claim: Any) -> None:
    user = make_user("ana")

    assert not token_version_valid(user_id=user.pk, version=claim)


def test_without_the_cache_entry_the_database_answers(django_capture_on_commit_callbacks: Any) -> None:
    user = make_user("ana")
    with django_capture_on_commit_callbacks(execute=True):
        user_tokens_revoke(user=user)
    cache.clear()

    assert token_version_valid(user_id=user.pk, version=1)
    assert not token_version_valid(user_id=user.pk, version=0)


def test_a_revocation_this_process_did_not_hear_about_is_seen_within_a_minute() -> None:
    # Outro processo revogou e publicou no cache dele (cache local, sem Redis).
    user = make_user("ana")
    with time_machine.travel("2026-11-29T12:00:00Z", tick=False) as clock:
        assert token_version_valid(user_id=user.pk, version=0)
        User.objects.filter(pk=user.pk).update(token_version=5)
        clock.shift(TOKEN_VERSION_CACHE_SECONDS)

        assert TOKEN_VERSION_CACHE_SECONDS <= 60
        assert not token_version_valid(user_id=user.pk, version=0)


@pytest.mark.django_db(transaction=True)  # o ORM roda em outra thread (outra conexão)
async def test_the_async_form_answers_the_same() -> None:
    from asgiref.sync import sync_to_async

    user = await sync_to_async(make_user)("ana")

    assert await atoken_version_valid(user_id=user.pk, version=0)
    assert not await atoken_version_valid(user_id=user.pk, version=7)
