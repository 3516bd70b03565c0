"""Contrato do armazenamento: o mesmo comportamento no ``MongoStore`` e no ``InMemoryStore``.

Inclui os alertas: gravação única por ``_id``, intervalo sem repetição e estatística
atômicos (também com threads concorrentes), listagem por chave e reconhecimento.

Cada teste roda contra os dois adaptadores (fixture ``adapter``). Os testes por
propriedade comparam leituras com um oráculo em Python puro sobre a mesma lista de
documentos.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import timedelta
from typing import Any

from bson import ObjectId
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.alerts.domain import AlertFilter, AlertPosition
from events.alerts.rules import Stats
from events.buckets import decompose, floor_to
from events.domain import EventFilter, KeysetPosition, SortField
from events.store.contract import EventStore
from events.windows import Window
from tests.events.conftest import NOW

TYPES = ["login", "purchase", "deposit"]
USERS = ["u1", "u2", "u3", "u|4"]
# Histórico de 3 dias: atravessa a retenção dos baldes de minuto (48 h).
HISTORY_MS = 3 * 24 * 3600 * 1000


def make_doc(number: int, **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": ObjectId(f"{number:024x}"),
        "userId": "u1",
        "type": "purchase",
        "value": 10.0,
        "timestamp": NOW - timedelta(minutes=5),
        "receivedAt": NOW,
        "bodyHash": f"h{number}",
        "ingestId": f"i{number}",
        "schemaVersion": 1,
    }
    doc.update(overrides)
    return doc


def everything(store: EventStore) -> list[dict[str, Any]]:
    return list(store.iter_events(EventFilter()))


# --- gravação ----------------------------------------------------------------------


def test_insert_assigns_increasing_sequence_numbers(adapter: EventStore) -> None:
    seqs = [adapter.insert_event(make_doc(n)).document["seq"] for n in range(1, 4)]  # type: ignore[arg-type]

    assert seqs == [1, 2, 3]
    assert adapter.last_seq() == 3
    assert [doc["seq"] for doc in adapter.events_after_seq(1, limit=10)] == [2, 3]


def test_reading_after_a_sequence_number_stops_at_the_given_head(adapter: EventStore) -> None:
    for number in range(1, 6):
        adapter.insert_event(make_doc(number, type="login" if number % 2 else "purchase"))  # type: ignore[arg-type]

    assert [doc["seq"] for doc in adapter.events_after_seq(1, limit=100, upto=3)] == [2, 3]
    assert [doc["seq"] for doc in adapter.events_after_seq(0, limit=100, upto=4, types=("login",))] == [1, 3]
    assert [doc["seq"] for doc in adapter.events_after_seq(3, limit=1)] == [4]


def test_sequence_numbers_continue_across_single_and_bulk_inserts(adapter: EventStore) -> None:
    adapter.insert_event(make_doc(1))  # type: ignore[arg-type]
    adapter.insert_events_bulk([make_doc(2), make_doc(3)])  # type: ignore[list-item]
    adapter.insert_event(make_doc(4))  # type: ignore[arg-type]

    assert sorted(doc["seq"] for doc in everything(adapter)) == [1, 2, 3, 4]


def test_dropping_the_store_restarts_the_sequence(adapter: EventStore) -> None:
    adapter.insert_event(make_doc(1))  # type: ignore[arg-type]
    adapter.drop_all()

    assert adapter.last_seq() == 0
    assert adapter.insert_event(make_doc(2)).document["seq"] == 1  # type: ignore[arg-type]


def test_concurrent_inserts_get_distinct_gap_free_sequence_numbers(adapter: EventStore) -> None:
    seqs: list[int] = []
    lock = threading.Lock()

    def worker(offset: int) -> None:
        for n in range(10):
            seq = adapter.insert_event(make_doc(offset * 100 + n + 1)).document["seq"]  # type: ignore[arg-type]
            with lock:
                seqs.append(seq)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(seqs) == list(range(1, 41))


def test_bulk_insert_skips_existing_ids_and_counts_only_new(adapter: EventStore) -> None:
    docs = [make_doc(n) for n in range(1, 6)]
    adapter.insert_events_bulk(docs[:2])  # type: ignore[arg-type]

    inserted = adapter.insert_events_bulk(docs)  # type: ignore[arg-type]

    assert inserted == 3
    assert adapter.count_events(EventFilter()) == 5


def test_same_id_same_body_is_a_duplicate_and_another_body_a_conflict(adapter: EventStore) -> None:
    first = adapter.insert_event(make_doc(1))  # type: ignore[arg-type]
    again = adapter.insert_event(make_doc(1, ingestId="other-attempt"))  # type: ignore[arg-type]
    other = adapter.insert_event(make_doc(1, ingestId="x", bodyHash="another-body"))  # type: ignore[arg-type]

    assert (first.status, again.status, other.status) == ("created", "duplicate", "conflict")
    assert again.document["seq"] == first.document["seq"]
    assert adapter.count_events(EventFilter()) == 1


def test_a_retry_of_our_own_write_that_landed_is_created_not_duplicate(adapter: EventStore) -> None:
    adapter.insert_event(make_doc(1))  # type: ignore[arg-type]

    retry = adapter.insert_event(make_doc(1))  # type: ignore[arg-type]

    assert retry.status == "created"


def test_a_deleted_event_stays_deleted_when_its_delivery_is_replayed(adapter: EventStore) -> None:
    adapter.insert_event(make_doc(1, value=7.5))  # type: ignore[arg-type]
    window = Window(NOW - timedelta(hours=1), NOW)

    deleted = adapter.delete_event(ObjectId(f"{1:024x}"))
    replay = adapter.insert_event(make_doc(1, value=7.5, ingestId="replay"))  # type: ignore[arg-type]
    other_body = adapter.insert_event(make_doc(1, value=8.0, bodyHash="other", ingestId="r2"))  # type: ignore[arg-type]

    assert deleted is not None
    assert deleted["value"] == 7.5
    assert replay.status == "deleted"
    assert other_body.status == "conflict"
    assert adapter.get_event(ObjectId(f"{1:024x}")) is None
    assert adapter.count_events(EventFilter()) == 0
    assert everything(adapter) == []
    assert adapter.events_after_seq(0, limit=10) == []
    assert _group_total(adapter, window, EventFilter(), "type") == {}
    assert adapter.delete_event(ObjectId(f"{1:024x}")) is None


def test_deleting_an_unknown_event_returns_none(adapter: EventStore) -> None:
    assert adapter.delete_event(ObjectId()) is None


# --- leitura ---------------------------------------------------------------------


def test_keyset_pages_walk_the_whole_sorted_list_without_gaps(adapter: EventStore) -> None:
    docs = [make_doc(n, timestamp=NOW - timedelta(minutes=n % 4), value=float(n)) for n in range(1, 24)]
    adapter.insert_events_bulk(docs)  # type: ignore[arg-type]
    expected = sorted(docs, key=lambda d: (d["timestamp"], d["_id"]), reverse=True)

    walked: list[ObjectId] = []
    after = None
    while True:
        page = adapter.list_events(EventFilter(), sort_field="timestamp", descending=True, limit=5, after=after)
        if not page:
            break
        walked += [doc["_id"] for doc in page]
        after = KeysetPosition(page[-1]["timestamp"], page[-1]["_id"])

    assert walked == [doc["_id"] for doc in expected]


def test_documents_come_back_as_stored_with_aware_utc_datetimes(adapter: EventStore) -> None:
    doc = make_doc(1, metadata={"nested": {"tags": ["a", 1, 2.5, None, True]}})
    adapter.insert_event(doc)  # type: ignore[arg-type]

    stored = adapter.get_event(doc["_id"])

    assert stored is not None
    assert {key: stored[key] for key in doc} == doc
    assert stored["timestamp"].utcoffset() == timedelta(0)


def test_quarantine_is_trimmed_to_the_configured_size(adapter: EventStore) -> None:
    with override_settings(QUARANTINE_MAX_DOCS=50):
        for index in range(200):
            adapter.record_rejection({"receivedAt": NOW + timedelta(seconds=index), "reason": "bad_signature"})

    assert adapter.count_rejections() == 50
    newest = adapter.list_rejections(limit=1)[0]
    assert newest["receivedAt"] == NOW + timedelta(seconds=199)
    assert adapter.rejections_by_reason() == {"bad_signature": 50}
    assert adapter.get_rejection(newest["_id"]) == newest


# --- oráculos ------------------------------------------------------------------------

moments = st.integers(min_value=0, max_value=HISTORY_MS).map(lambda ms: NOW - timedelta(milliseconds=ms))
# Poucos instantes: empates frequentes, o desempate por _id importa.
coarse_moments = st.integers(min_value=0, max_value=12).map(lambda n: NOW - timedelta(minutes=n))


def documents(timestamps: st.SearchStrategy[Any], max_size: int = 30) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
        st.tuples(
            st.sampled_from(TYPES),
            st.sampled_from(USERS),
            timestamps,
            # Meios inteiros: somas exatas em ponto flutuante.
            st.integers(min_value=-200, max_value=2000).map(lambda n: n / 2),
        ),
        max_size=max_size,
    ).map(
        lambda rows: [
            make_doc(number + 1, type=event_type, userId=user, timestamp=moment, value=value)
            for number, (event_type, user, moment, value) in enumerate(rows)
        ]
    )


filters = st.builds(
    EventFilter,
    types=st.lists(st.sampled_from(TYPES), max_size=2, unique=True).map(tuple),
    user_id=st.none() | st.sampled_from(USERS),
    start=st.none() | coarse_moments,
    end=st.none() | coarse_moments,
)


def oracle_match(doc: dict[str, Any], flt: EventFilter) -> bool:
    return (
        (not flt.types or doc["type"] in flt.types)
        and (flt.user_id is None or doc["userId"] == flt.user_id)
        and (flt.start is None or doc["timestamp"] >= flt.start)
        and (flt.end is None or doc["timestamp"] < flt.end)
    )


def _reset(store: EventStore, docs: list[dict[str, Any]], *, one_by_one: bool = False) -> None:
    store.drop_all()
    if one_by_one:
        for doc in docs:
            store.insert_event(dict(doc))  # type: ignore[arg-type]
    else:
        store.insert_events_bulk([dict(doc) for doc in docs])  # type: ignore[misc]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    docs=documents(coarse_moments),
    event_filter=filters,
    sort_field=st.sampled_from(["timestamp", "value"]),
    descending=st.booleans(),
    limit=st.integers(min_value=1, max_value=8),
    skip=st.integers(min_value=0, max_value=12),
    data=st.data(),
)
def test_listing_and_count_match_the_python_oracle(
    adapter: EventStore,
    docs: list[dict[str, Any]],
    event_filter: EventFilter,
    sort_field: SortField,
    descending: bool,
    limit: int,
    skip: int,
    data: st.DataObject,
) -> None:
    _reset(adapter, docs)
    matching = sorted(
        (doc for doc in docs if oracle_match(doc, event_filter)),
        key=lambda d: (d[sort_field], d["_id"]),
        reverse=descending,
    )
    after = None
    keyset: bool = data.draw(st.booleans(), label="keyset")
    if matching and keyset:
        anchor = data.draw(st.sampled_from(matching), label="anchor")
        after = KeysetPosition(anchor[sort_field], anchor["_id"])
        position = matching.index(anchor)
        expected = matching[position + 1 :][:limit]
        page = adapter.list_events(
            event_filter,
            sort_field=sort_field,
            descending=descending,
            limit=limit,
            after=after,
        )
    else:
        expected = matching[skip : skip + limit]
        page = adapter.list_events(
            event_filter,
            sort_field=sort_field,
            descending=descending,
            limit=limit,
            skip=skip,
        )

    assert [doc["_id"] for doc in page] == [doc["_id"] for doc in expected]
    assert adapter.count_events(event_filter) == len(matching)


def _oracle_group(
    docs: list[dict[str, Any]], window: Window, flt: EventFilter, by: str
) -> dict[str, tuple[int, float]]:
    totals: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0])
    for doc in docs:
        if window.contains(doc["timestamp"]) and oracle_match(doc, flt):
            totals[doc[by]][0] += 1
            totals[doc[by]][1] += doc["value"]
    return {key: (count, value) for key, (count, value) in totals.items() if count}


def _group_total(store: EventStore, window: Window, flt: EventFilter, by: str) -> dict[str, tuple[int, float]]:
    totals: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0])
    for segment in decompose(window, now=NOW):
        for row in store.group(segment, by=by, event_filter=flt):  # type: ignore[arg-type]
            totals[row["key"]][0] += row["count"]
            totals[row["key"]][1] += row["sum"]
    return {key: (count, value) for key, (count, value) in totals.items() if count}


windows = st.tuples(
    st.integers(min_value=0, max_value=HISTORY_MS + 3_600_000),
    st.integers(min_value=1, max_value=HISTORY_MS),
).map(lambda pair: Window(NOW - timedelta(milliseconds=pair[0] + pair[1]), NOW - timedelta(milliseconds=pair[0])))
group_filters = st.builds(
    EventFilter,
    types=st.lists(st.sampled_from(TYPES), max_size=2, unique=True).map(tuple),
    user_id=st.none() | st.sampled_from(USERS),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    docs=documents(moments),
    window=windows,
    event_filter=group_filters,
    by=st.sampled_from(["type", "userId"]),
    one_by_one=st.booleans(),
    delete_every=st.integers(min_value=0, max_value=4),
)
def test_grouping_the_segments_of_a_window_matches_the_oracle(
    adapter: EventStore,
    docs: list[dict[str, Any]],
    window: Window,
    event_filter: EventFilter,
    by: str,
    one_by_one: bool,
    delete_every: int,
) -> None:
    _reset(adapter, docs, one_by_one=one_by_one)
    kept = docs
    if delete_every:
        doomed = docs[::delete_every]
        for doc in doomed:
            assert adapter.delete_event(doc["_id"]) is not None
        kept = [doc for doc in docs if doc not in doomed]

    assert _group_total(adapter, window, event_filter, by) == _oracle_group(kept, window, event_filter, by)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=documents(moments), window=windows, event_filter=group_filters)
def test_bucket_series_of_each_segment_matches_the_oracle(
    adapter: EventStore, docs: list[dict[str, Any]], window: Window, event_filter: EventFilter
) -> None:
    _reset(adapter, docs)
    for segment in decompose(window, now=NOW):
        if segment.level is None:
            continue
        expected: dict[tuple[Any, str], list[Any]] = defaultdict(lambda: [0, 0.0])
        for doc in docs:
            if segment.start <= doc["timestamp"] < segment.end and oracle_match(doc, event_filter):
                bucket = floor_to(doc["timestamp"], segment.level.step)
                expected[(bucket, doc["type"])][0] += 1
                expected[(bucket, doc["type"])][1] += doc["value"]

        rows = adapter.series(segment, event_filter=event_filter)

        assert {(row["bucket"], row["type"]): [row["count"], row["sum"]] for row in rows} == dict(expected)
        assert [(row["bucket"], row["type"]) for row in rows] == sorted((row["bucket"], row["type"]) for row in rows)


def test_rebuild_gives_the_same_rollups_as_incremental_maintenance_for_an_event_at_the_window_end(
    adapter: EventStore,
) -> None:
    # Regressão do exemplo do Hypothesis (@reproduce_failure 6.170.17 b'AXicY3RkgENGRyYwAwAY3QJO'):
    # um só evento, exatamente no fim (exclusivo) de uma janela de 15 min.
    window = Window(NOW - timedelta(minutes=15), NOW)
    adapter.insert_event(make_doc(1, type="login", userId="u0", value=0.0, timestamp=NOW))  # type: ignore[arg-type]
    adapter.insert_event(make_doc(2, type="login", userId="u0", value=1.0, timestamp=window.start))  # type: ignore[arg-type]
    incremental = _group_total(adapter, window, EventFilter(), "type")

    seen = adapter.rebuild_rollups()

    assert seen == 2
    assert incremental == {"login": (1, 1.0)}
    assert _group_total(adapter, window, EventFilter(), "type") == incremental
    assert _group_total(adapter, Window(window.start, NOW + timedelta(milliseconds=1)), EventFilter(), "type") == {
        "login": (2, 1.0)
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=documents(moments), window=windows, by=st.sampled_from(["type", "userId"]))
def test_rebuild_gives_the_same_rollups_as_incremental_maintenance(
    adapter: EventStore, docs: list[dict[str, Any]], window: Window, by: str
) -> None:
    _reset(adapter, docs, one_by_one=True)
    incremental = _group_total(adapter, window, EventFilter(), by)

    seen = adapter.rebuild_rollups()

    assert seen == len(docs)
    assert (
        _group_total(adapter, window, EventFilter(), by)
        == incremental
        == _oracle_group(docs, window, EventFilter(), by)
    )


# --- alertas (events/store/alerts.py) ---------------------------------------------------


def make_alert(number: int, **overrides: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "_id": ObjectId(f"{number:024x}"),
        "ruleId": 1,
        "ruleName": "regra",
        "kind": "threshold",
        "severity": "warning",
        "userId": "u1",
        "eventIds": [ObjectId(f"{1000 + number:024x}")],
        "triggeredAt": NOW - timedelta(minutes=number),
        "state": "open",
        "ackBy": None,
        "ackAt": None,
        "message": f"alerta {number}",
    }
    alert.update(overrides)
    return alert


def test_an_alert_is_stored_once_per_id(adapter: EventStore) -> None:
    assert adapter.insert_alert(make_alert(1)) is True
    assert adapter.insert_alert(make_alert(1, message="outra tentativa")) is False

    stored = adapter.get_alert(ObjectId(f"{1:024x}"))
    assert stored is not None
    assert stored["message"] == "alerta 1"
    assert adapter.get_alert(ObjectId(f"{2:024x}")) is None


def test_a_cooldown_is_claimed_once_until_it_expires(adapter: EventStore) -> None:
    minute = timedelta(minutes=1)

    assert adapter.claim_alert_cooldown("1:u1", at=NOW, cooldown=minute, claim="a") is True
    assert adapter.claim_alert_cooldown("1:u1", at=NOW + timedelta(seconds=59), cooldown=minute, claim="b") is False
    assert adapter.claim_alert_cooldown("1:u2", at=NOW, cooldown=minute, claim="c") is True
    assert adapter.claim_alert_cooldown("1:u1", at=NOW + minute, cooldown=minute, claim="d") is True
    # Um gatilho mais antigo que o último disparo nunca passa na frente.
    assert adapter.claim_alert_cooldown("1:u1", at=NOW, cooldown=timedelta(0), claim="e") is False


def test_retrying_a_cooldown_claim_recognises_its_own_earlier_write(adapter: EventStore) -> None:
    minute = timedelta(minutes=1)

    assert adapter.claim_alert_cooldown("1:u1", at=NOW, cooldown=minute, claim="mine") is True
    assert adapter.claim_alert_cooldown("1:u1", at=NOW, cooldown=minute, claim="mine") is True
    assert adapter.claim_alert_cooldown("1:u1", at=NOW, cooldown=minute, claim="theirs") is False


def test_concurrent_cooldown_claims_have_a_single_winner(adapter: EventStore) -> None:
    results: list[bool] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        won = adapter.claim_alert_cooldown("9:u1", at=NOW, cooldown=timedelta(minutes=5), claim=name)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=worker, args=(f"t{index}",)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 7 + [True]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.integers(min_value=-1000, max_value=1000), min_size=1, max_size=15))
def test_samples_return_the_statistics_from_before_each_value(adapter: EventStore, values: list[int]) -> None:
    adapter.drop_all()
    expected = Stats()
    for index, value in enumerate(values):
        before = adapter.add_alert_sample("k", float(value), sample_id=f"s{index}")
        assert before == (expected.n, expected.mean, expected.m2)
        expected = expected.add(float(value))


def test_repeating_the_last_sample_does_not_add_it_twice(adapter: EventStore) -> None:
    adapter.add_alert_sample("k", 10.0, sample_id="a")
    first = adapter.add_alert_sample("k", 20.0, sample_id="b")

    again = adapter.add_alert_sample("k", 20.0, sample_id="b")
    after = adapter.add_alert_sample("k", 30.0, sample_id="c")

    assert again == first == (1, 10.0, 0.0)
    assert after[0] == 2


def test_concurrent_samples_are_all_counted(adapter: EventStore) -> None:
    def worker(offset: int) -> None:
        for n in range(10):
            adapter.add_alert_sample("busy", float(n), sample_id=f"{offset}-{n}")

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    n, mean, _m2 = adapter.add_alert_sample("busy", 0.0, sample_id="last")
    assert n == 40
    assert abs(mean - 4.5) < 1e-9


def test_alerts_are_listed_newest_first_with_filters_and_keyset_pages(adapter: EventStore) -> None:
    same_moment = NOW - timedelta(minutes=3)
    for number in range(1, 8):
        adapter.insert_alert(
            make_alert(
                number,
                userId="u1" if number % 2 else "u2",
                severity="critical" if number <= 3 else "info",
                triggeredAt=same_moment if number in (3, 4) else NOW - timedelta(minutes=number),
                ruleId=number % 3,
            )
        )

    def ids(page: list[dict[str, Any]]) -> list[int]:
        return [int(str(doc["_id"]), 16) for doc in page]

    everything = ids(adapter.list_alerts(AlertFilter(), limit=100))
    assert everything == [1, 2, 4, 3, 5, 6, 7]

    walked: list[int] = []
    after = None
    while True:
        page = adapter.list_alerts(AlertFilter(), limit=2, after=after)
        walked += ids(page)
        if len(page) < 2:
            break
        after = AlertPosition(page[-1]["triggeredAt"], page[-1]["_id"])
    assert walked == everything

    assert ids(adapter.list_alerts(AlertFilter(user_id="u2"), limit=100)) == [2, 4, 6]
    assert ids(adapter.list_alerts(AlertFilter(severity="critical", rule_id=1), limit=100)) == [1]
    window = AlertFilter(start=NOW - timedelta(minutes=5), end=same_moment)
    assert ids(adapter.list_alerts(window, limit=100)) == [5]


def test_acknowledging_is_idempotent_and_keeps_the_first_acknowledger(adapter: EventStore) -> None:
    adapter.insert_alert(make_alert(1))
    alert_id = ObjectId(f"{1:024x}")

    first = adapter.acknowledge_alert(alert_id, by="ana", at=NOW)
    again = adapter.acknowledge_alert(alert_id, by="bia", at=NOW + timedelta(minutes=1))

    assert first is not None
    assert again is not None
    assert (first["state"], first["ackBy"], first["ackAt"]) == ("acknowledged", "ana", NOW)
    assert (again["ackBy"], again["ackAt"]) == (first["ackBy"], first["ackAt"])
    assert adapter.acknowledge_alert(ObjectId(f"{2:024x}"), by="ana", at=NOW) is None
    assert adapter.list_alerts(AlertFilter(state="open"), limit=10) == []


# --- caixa de saída das notificações --------------------------------------------------


def _alert(alert_id: str = "a1") -> dict[str, Any]:
    return {"id": alert_id, "ruleId": 1, "ruleName": "Saque alto", "userId": "u1", "triggeredAt": NOW}


def test_enqueuing_the_same_alert_for_the_same_endpoint_twice_keeps_one_delivery(adapter: EventStore) -> None:
    adapter.ensure_indexes()

    assert adapter.enqueue_deliveries(_alert(), [1, 2], now=NOW) == 2
    assert adapter.enqueue_deliveries(_alert(), [2, 3], now=NOW) == 1
    assert adapter.count_deliveries(endpoint_id=2) == 1
    assert [adapter.count_deliveries(endpoint_id=n) for n in (1, 3)] == [1, 1]


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_expires(adapter: EventStore) -> None:
    adapter.ensure_indexes()
    adapter.enqueue_deliveries(_alert(), [1], now=NOW)

    first = adapter.claim_delivery(now=NOW, lease_seconds=60, owner="a")
    during = adapter.claim_delivery(now=NOW + timedelta(seconds=59), lease_seconds=60, owner="b")
    after = adapter.claim_delivery(now=NOW + timedelta(seconds=61), lease_seconds=60, owner="b")

    assert first is not None
    assert first["leaseOwner"] == "a"
    assert during is None
    assert after is not None
    assert after["_id"] == first["_id"]
    assert after["leaseOwner"] == "b"


def test_only_the_lease_holder_records_the_attempt_and_a_retry_waits_for_its_time(adapter: EventStore) -> None:
    adapter.ensure_indexes()
    adapter.enqueue_deliveries(_alert(), [1], now=NOW)
    claimed = adapter.claim_delivery(now=NOW, lease_seconds=60, owner="a")
    assert claimed is not None
    attempt = {"at": NOW, "statusCode": 500, "durationMs": 3}

    stolen = adapter.finish_delivery_attempt(
        claimed["_id"], owner="b", attempt=attempt, status="failed", next_attempt_at=None, now=NOW
    )
    later = NOW + timedelta(seconds=5)
    recorded = adapter.finish_delivery_attempt(
        claimed["_id"], owner="a", attempt=attempt, status="pending", next_attempt_at=later, now=NOW
    )

    assert (stolen, recorded) == (False, True)
    assert adapter.claim_delivery(now=NOW + timedelta(seconds=4), lease_seconds=60, owner="a") is None
    again = adapter.claim_delivery(now=NOW + timedelta(seconds=5), lease_seconds=60, owner="a")
    assert again is not None
    assert again["attempts"] == [attempt]
    assert again["status"] == "pending"


def test_finished_deliveries_are_never_claimed_and_are_listed_newest_first(adapter: EventStore) -> None:
    adapter.ensure_indexes()
    adapter.enqueue_deliveries(_alert("old"), [7], now=NOW - timedelta(minutes=1))
    adapter.enqueue_deliveries(_alert("new"), [7], now=NOW)
    adapter.enqueue_deliveries(_alert("other"), [8], now=NOW)
    for _ in range(3):
        claimed = adapter.claim_delivery(now=NOW, lease_seconds=60, owner="a")
        assert claimed is not None
        attempt = {"at": NOW, "statusCode": 204, "durationMs": 1}
        adapter.finish_delivery_attempt(
            claimed["_id"], owner="a", attempt=attempt, status="delivered", next_attempt_at=None, now=NOW
        )

    listed = adapter.list_deliveries(endpoint_id=7, limit=10)

    assert adapter.claim_delivery(now=NOW + timedelta(days=1), lease_seconds=60, owner="a") is None
    assert [row["alertId"] for row in listed] == ["new", "old"]
    assert {row["status"] for row in listed} == {"delivered"}
    assert adapter.list_deliveries(endpoint_id=7, limit=1, skip=1)[0]["alertId"] == "old"
    assert adapter.get_delivery(listed[0]["_id"])["alert"]["ruleName"] == "Saque alto"  # type: ignore[index]
    # Terminadas ganham finishedAt (o índice TTL as expira); pendentes nunca.
    assert all(row["finishedAt"] == NOW for row in listed)
    adapter.enqueue_deliveries(_alert("pending"), [7], now=NOW)
    (pending,) = [row for row in adapter.list_deliveries(endpoint_id=7, limit=10) if row["alertId"] == "pending"]
    assert "finishedAt" not in pending


def test_concurrent_claims_never_hand_the_same_delivery_to_two_senders(adapter: EventStore) -> None:
    adapter.ensure_indexes()
    for number in range(30):
        adapter.enqueue_deliveries(_alert(f"c{number}"), [1], now=NOW)
    claimed: dict[str, list[Any]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def claim_all(owner: str) -> None:
        barrier.wait()
        while (delivery := adapter.claim_delivery(now=NOW, lease_seconds=60, owner=owner)) is not None:
            claimed[owner].append(delivery["_id"])

    threads = [threading.Thread(target=claim_all, args=(owner,)) for owner in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    everything_claimed = claimed["a"] + claimed["b"]
    assert len(everything_claimed) == 30
    assert len(set(everything_claimed)) == 30
