"""Protocolo do feed no cliente (static/dashboard/js/live.js), exercitado no Chromium.

Sem servidor de WebSocket: as mensagens são entregues direto ao ``handle``.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = """
async (messages) => {
  const { LiveFeed } = await import("/static/dashboard/js/live.js");
  const delivered = [];
  const resyncs = [];
  const feed = new LiveFeed({
    path: "/ws/events/",
    onEvent: (event, cursor) => delivered.push([event.id, cursor]),
    onStatus: () => {},
    onResync: (message) => resyncs.push(message.cursor),
  });
  for (const message of messages) {
    if (message.filter) feed.setFilter(message.filter);
    else feed.handle(typeof message === "string" ? message : JSON.stringify(message));
  }
  return { delivered, resyncs, cursor: feed.cursor, url: feed.url() };
}
"""


def event(event_id: str, cursor: int, kind: str = "purchase", user: str = "u-1") -> dict[str, object]:
    return {"type": "new_event", "event": {"id": event_id, "type": kind, "userId": user}, "cursor": cursor}


def run(page: Page, messages: list[Any]) -> Any:
    page.goto("/login/")
    return page.evaluate(SCRIPT, messages)


def test_hello_sets_the_cursor_used_to_resume(page):
    result = run(page, [{"type": "hello", "cursor": 41}])

    assert result["cursor"] == 41
    assert result["url"].endswith("/ws/events/?cursor=41")


def test_duplicates_are_dropped_by_id_and_late_events_still_arrive(page):
    result = run(
        page,
        [{"type": "hello", "cursor": 10}, event("a", 12), event("b", 11), event("a", 12), "não é JSON", event("c", 13)],
    )

    assert result["delivered"] == [["a", 12], ["b", 11], ["c", 13]]
    assert result["cursor"] == 13


def test_events_outside_the_subscription_are_not_shown_but_advance_the_cursor(page):
    result = run(
        page,
        [
            {"filter": {"types": ["deposit"], "userId": ""}},
            event("a", 5, kind="purchase"),
            event("b", 6, kind="deposit"),
        ],
    )

    assert result["delivered"] == [["b", 6]]
    assert result["cursor"] == 6


def test_resync_jumps_to_the_server_cursor_and_tells_the_page(page):
    result = run(page, [{"type": "hello", "cursor": 3}, {"type": "resync_required", "cursor": 900}])

    assert result["resyncs"] == [900]
    assert result["cursor"] == 900


def test_reconnect_delay_grows_exponentially_with_jitter_and_a_cap(page):
    page.goto("/login/")

    delays = page.evaluate(
        """async () => {
          const { backoffDelay } = await import("/static/dashboard/js/live.js");
          return [0, 1, 2, 5, 12].map((attempt) => [backoffDelay(attempt, () => 0), backoffDelay(attempt, () => 1)]);
        }"""
    )

    assert delays == [[500, 1000], [1000, 2000], [2000, 4000], [15000, 30000], [15000, 30000]]
