// Feed Socket.IO com o socket.io-client real (4.x), o cliente dos frontends.
//
// Roda pelo make test (tests/events/socketio_feed/test_socketio_node.py sobe o servidor) ou
// à mão contra qualquer servidor, por exemplo o da demo (make demo):
//
//   SOCKETIO_URL=http://127.0.0.1:8000 SOCKETIO_USERNAME=admin SOCKETIO_PASSWORD=… \
//   WEBHOOK_SECRET=whsec_… node --test tests/node/
//
// Variáveis: SOCKETIO_URL (obrigatória), SOCKETIO_TOKEN (JWT de acesso) ou
// SOCKETIO_USERNAME/SOCKETIO_PASSWORD (login em /api/auth/login), WEBHOOK_SECRET (para
// assinar o webhook), SOCKETIO_TRANSPORTS (padrão: websocket).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { io } from "socket.io-client";
import { Webhook } from "standardwebhooks";

const BASE_URL = required("SOCKETIO_URL").replace(/\/$/, "");
const SECRET = required("WEBHOOK_SECRET");
const TRANSPORTS = (process.env.SOCKETIO_TRANSPORTS || "websocket").split(",");
// Espera máxima por algo que já deveria estar a caminho (não é medida de tempo).
const WAIT_MS = 5000;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`defina ${name}`);
  return value;
}

async function accessToken() {
  if (process.env.SOCKETIO_TOKEN) return process.env.SOCKETIO_TOKEN;
  const response = await fetch(`${BASE_URL}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: required("SOCKETIO_USERNAME"), password: required("SOCKETIO_PASSWORD") }),
  });
  assert.equal(response.status, 200, `login falhou: ${response.status}`);
  return (await response.json()).access;
}

/** Conecta um socket sem reconexão automática (o teste decide) e guarda os eventos que chegam. */
function connect(namespace, auth) {
  const socket = io(`${BASE_URL}${namespace}`, { auth, transports: TRANSPORTS, reconnection: false, forceNew: true });
  socket.received = [];
  socket.onAny((name, ...args) => socket.received.push({ name, args }));
  return socket;
}

/** Espera o primeiro evento `name` (já recebido ou futuro) que satisfaz `match`. */
function waitFor(socket, name, match = () => true) {
  return new Promise((resolve, reject) => {
    const found = socket.received.find((m) => m.name === name && match(...m.args));
    if (found) return resolve(found.args);
    const timer = setTimeout(() => {
      socket.offAny(listener);
      reject(new Error(`${name} não chegou em ${WAIT_MS} ms`));
    }, WAIT_MS);
    const listener = (event, ...args) => {
      if (event === name && match(...args)) {
        clearTimeout(timer);
        socket.offAny(listener);
        resolve(args);
      }
    };
    socket.onAny(listener);
  });
}

function connected(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
}

function refused(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => reject(new Error("conectou sem credencial")));
    socket.once("connect_error", resolve);
  });
}

/** POST assinado (Standard Webhooks) de um evento; devolve o id e o instante logo antes do POST. */
async function sendSignedEvent() {
  const body = JSON.stringify({ userId: "node-client", type: "deposit", value: 42.5, metadata: { run: randomUUID() } });
  const msgId = `msg_node_${randomUUID()}`;
  const timestamp = new Date();
  const headers = {
    "content-type": "application/json",
    "webhook-id": msgId,
    "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
    "webhook-signature": new Webhook(SECRET).sign(msgId, timestamp, body),
  };
  const sentAt = performance.now();
  const response = await fetch(`${BASE_URL}/api/webhook/event`, { method: "POST", headers, body });
  const answer = await response.text();
  assert.equal(response.status, 201, answer);
  return { id: JSON.parse(answer).id, sentAt, body: JSON.parse(body) };
}

describe("feed Socket.IO com o socket.io-client", () => {
  let token;
  const sockets = [];

  before(async () => {
    token = await accessToken();
  });

  after(() => {
    for (const socket of sockets) socket.close();
  });

  test("conecta com JWT e recebe new_event depois de um webhook assinado, nos namespaces / e /dashboard", async () => {
    const root = connect("/", { token });
    const dashboard = connect("/dashboard", { token });
    sockets.push(root, dashboard);
    await Promise.all([connected(root), connected(dashboard)]);
    const [hello] = await waitFor(root, "hello");
    assert.equal(hello.auth, "jwt");
    await waitFor(dashboard, "hello");

    const sent = await sendSignedEvent();
    const [event, cursor] = await waitFor(root, "new_event", (e) => e.id === sent.id);
    const latencyMs = performance.now() - sent.sentAt;
    const [onDashboard] = await waitFor(dashboard, "new_event", (e) => e.id === sent.id);

    console.log(`new_event ${event.id} cursor ${cursor} em ${latencyMs.toFixed(1)} ms depois do POST do webhook`);
    console.log(JSON.stringify(event));
    assert.equal(event.userId, sent.body.userId);
    assert.equal(event.type, sent.body.type);
    assert.equal(event.value, sent.body.value);
    assert.deepEqual(event.metadata, sent.body.metadata);
    assert.ok(Number.isInteger(cursor) && cursor > hello.cursor);
    assert.deepEqual(onDashboard, event);
  });

  test("é recusado sem token, com connect_error que nomeia o motivo", async () => {
    const anonymous = connect("/", undefined);
    sockets.push(anonymous);

    const error = await refused(anonymous);

    console.log(`connect_error: ${error.message} (${error.data?.detail})`);
    assert.equal(error.message, "unauthenticated");
    assert.equal(error.data.code, "unauthenticated");
  });

  test("é recusado com token inválido", async () => {
    const forged = connect("/", { token: "not-a-jwt" });
    sockets.push(forged);

    const error = await refused(forged);

    assert.equal(error.message, "token_invalid");
  });

  test("retoma pelo cursor: o evento perdido chega antes do resumed", async () => {
    const first = connect("/", { token });
    sockets.push(first);
    await connected(first);
    const [hello] = await waitFor(first, "hello");
    first.close();
    const missed = await sendSignedEvent();

    const again = connect("/", { token, cursor: hello.cursor });
    sockets.push(again);
    await connected(again);
    const [replayed, cursor] = await waitFor(again, "new_event", (e) => e.id === missed.id);
    const [resumed] = await waitFor(again, "resumed");

    const order = again.received.map((m) => m.name);
    assert.ok(order.indexOf("new_event") < order.indexOf("resumed"));
    assert.equal(replayed.id, missed.id);
    assert.ok(cursor > hello.cursor && cursor <= resumed.cursor);
  });
});
