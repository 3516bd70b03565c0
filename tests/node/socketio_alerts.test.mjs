// Alertas no feed Socket.IO com o socket.io-client real: um webhook que cruza uma regra de
// limite produz o evento `alert` (o mesmo JSON de GET /api/alerts/<id>) em / e /dashboard.
//
// Roda pelo make test (tests/events/socketio_feed/test_socketio_node_alerts.py cria a regra e
// sobe o servidor) ou à mão contra a demo, com uma regra `threshold` já criada:
//
//   SOCKETIO_URL=http://127.0.0.1:8000 SOCKETIO_USERNAME=admin SOCKETIO_PASSWORD=… \
//   WEBHOOK_SECRET=whsec_… ALERT_EVENT_TYPE=withdraw ALERT_EVENT_VALUE=9000 \
//   node --test tests/node/socketio_alerts.test.mjs
//
// Sem ALERT_EVENT_TYPE/ALERT_EVENT_VALUE o teste é pulado (o servidor precisa da regra).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, test } from "node:test";

import { io } from "socket.io-client";
import { Webhook } from "standardwebhooks";

const BASE_URL = (process.env.SOCKETIO_URL || "").replace(/\/$/, "");
const EVENT_TYPE = process.env.ALERT_EVENT_TYPE;
const EVENT_VALUE = Number(process.env.ALERT_EVENT_VALUE);
const TRANSPORTS = (process.env.SOCKETIO_TRANSPORTS || "websocket").split(",");
// Espera máxima por algo que já deveria estar a caminho (não é medida de tempo).
const WAIT_MS = 5000;
const skip = !BASE_URL || !EVENT_TYPE || !Number.isFinite(EVENT_VALUE) ? "defina SOCKETIO_URL, ALERT_EVENT_TYPE e ALERT_EVENT_VALUE" : false;

async function accessToken() {
  if (process.env.SOCKETIO_TOKEN) return process.env.SOCKETIO_TOKEN;
  const response = await fetch(`${BASE_URL}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: process.env.SOCKETIO_USERNAME, password: process.env.SOCKETIO_PASSWORD }),
  });
  assert.equal(response.status, 200, `login falhou: ${response.status}`);
  return (await response.json()).access;
}

function nextEvent(socket, name, match) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(name, listener);
      reject(new Error(`${name} não chegou em ${WAIT_MS} ms`));
    }, WAIT_MS);
    const listener = (...args) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      socket.off(name, listener);
      resolve(args);
    };
    socket.on(name, listener);
  });
}

async function connectedWithHello(namespace, token) {
  const socket = io(`${BASE_URL}${namespace}`, { auth: { token }, transports: TRANSPORTS, reconnection: false, forceNew: true });
  await nextEvent(socket, "hello", () => true);
  return socket;
}

describe("alertas no feed Socket.IO com o socket.io-client", { skip }, () => {
  const sockets = [];

  after(() => {
    for (const socket of sockets) socket.close();
  });

  test("um webhook que cruza a regra chega como `alert` nos namespaces / e /dashboard", async () => {
    const token = await accessToken();
    const root = await connectedWithHello("/", token);
    const dashboard = await connectedWithHello("/dashboard", token);
    sockets.push(root, dashboard);
    const userId = `node-alerta-${randomUUID()}`;
    const onRoot = nextEvent(root, "alert", (alert) => alert.userId === userId);
    const onDashboard = nextEvent(dashboard, "alert", (alert) => alert.userId === userId);

    const body = JSON.stringify({ userId, type: EVENT_TYPE, value: EVENT_VALUE });
    const msgId = `msg_node_${randomUUID()}`;
    const now = new Date();
    const response = await fetch(`${BASE_URL}/api/webhook/event`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": msgId,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": new Webhook(process.env.WEBHOOK_SECRET).sign(msgId, now, body),
      },
      body,
    });
    const answer = await response.text();
    assert.equal(response.status, 201, answer);
    const eventId = JSON.parse(answer).id;

    const [alert] = await onRoot;
    const [same] = await onDashboard;
    const detail = await fetch(`${BASE_URL}/api/alerts/${alert.id}`, { headers: { authorization: `Bearer ${token}` } });
    console.log(`alert ${alert.id} (${alert.ruleName}) para ${alert.userId}`);
    assert.deepEqual(alert.eventIds, [eventId]);
    assert.equal(alert.state, "open");
    assert.deepEqual(same, alert);
    assert.equal(detail.status, 200);
    assert.deepEqual(await detail.json(), alert);
  });
});
