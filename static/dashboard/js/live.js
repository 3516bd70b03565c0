// Feed ao vivo por WebSocket (/ws/events/), com retomada sem lacunas.
//
// Todo o protocolo do servidor (events/realtime.py) está neste módulo:
//   servidor → hello {cursor}            ao conectar (sessão do Django pelo cookie)
//   servidor → new_event {event, cursor}
//   servidor → alert {alert}             alerta disparado (só ao vivo: a retomada não o reenvia;
//                                        a página relê os abertos pela API a cada hello)
//   servidor → resync_required {cursor}  lacuna grande demais: recarregar pela API
//   servidor → subscribed | resumed | pong | error
//   cliente  → subscribe {types, userId} | ping
// Ao reconectar, o cliente pede os eventos depois do maior cursor visto
// (?cursor=N na URL). O servidor pode entregar um evento atrasado com cursor
// menor que o último, então a deduplicação é por id, não por cursor.

export const PROTOCOL = {
  hello: "hello",
  newEvent: "new_event",
  alert: "alert",
  resync: "resync_required",
  error: "error",
  subscribe: "subscribe",
  ping: "ping",
  cursorParam: "cursor",
  // Fechamento pelo servidor por credencial ausente/expirada/revogada.
  closeUnauthenticated: 4401,
};

const INITIAL_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
const HEARTBEAT_MS = 25000;
const HEARTBEAT_TIMEOUT_MS = 10000;
const SEEN_CAPACITY = 2048;

export function backoffDelay(attempt, random = Math.random) {
  // Exponencial com "jitter" (metade fixa, metade aleatória) para não sincronizar clientes.
  const base = Math.min(MAX_DELAY_MS, INITIAL_DELAY_MS * 2 ** attempt);
  return Math.round(base / 2 + (random() * base) / 2);
}

export class LiveFeed {
  // onAlert(alert): alerta disparado; onHello({reconnect}): cada conexão aceita (a 1ª e as seguintes).
  constructor({ path, onEvent, onStatus, onResync, onDenied, onAlert, onHello }) {
    this.path = path;
    this.onEvent = onEvent;
    this.onAlert = onAlert || (() => {});
    this.onHello = onHello || (() => {});
    this.onStatus = onStatus;
    this.onResync = onResync || (() => {});
    this.onDenied = onDenied || (() => {});
    this.cursor = null;
    this.filter = { types: [], userId: "" };
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.heartbeat = null;
    this.lastMessageAt = 0;
    this.stopped = true;
    this.seen = new Set();
    window.addEventListener("online", () => this.reconnectNow());
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.drop(1000);
    this.onStatus({ state: "paused" });
  }

  reconnectNow() {
    if (this.stopped || this.socket) return;
    clearTimeout(this.timer);
    this.connect();
  }

  setFilter({ types = [], userId = "" }) {
    this.filter = { types, userId };
    this.sendSubscribe();
  }

  url() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const url = new URL(this.path, `${scheme}//${window.location.host}`);
    if (this.cursor !== null) url.searchParams.set(PROTOCOL.cursorParam, String(this.cursor));
    return url.toString();
  }

  connect() {
    this.onStatus({ state: "connecting" });
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (socket !== this.socket) return;
      this.attempt = 0;
      this.lastMessageAt = Date.now();
      this.onStatus({ state: "online" });
      this.sendSubscribe();
      this.startHeartbeat();
    });
    socket.addEventListener("message", (message) => {
      if (socket !== this.socket) return;
      this.lastMessageAt = Date.now();
      this.handle(message.data);
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      if (event.code === PROTOCOL.closeUnauthenticated) {
        this.stopped = true;
        this.drop();
        this.onStatus({ state: "paused" });
        this.onDenied(event.reason);
        return;
      }
      this.scheduleReconnect();
    });
  }

  // Solta o socket atual sem esperar o fechamento (uma conexão morta pode demorar a fechar).
  drop(code) {
    clearInterval(this.heartbeat);
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(code);
  }

  scheduleReconnect() {
    this.drop();
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.onStatus({ state: "offline", retryInMs: delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // Uma queda de rede silenciosa não fecha o socket; o ping sem resposta revela.
  startHeartbeat() {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
      if (Date.now() - this.lastMessageAt > HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS) {
        this.scheduleReconnect();
        return;
      }
      this.socket.send(JSON.stringify({ type: PROTOCOL.ping }));
    }, HEARTBEAT_MS);
  }

  sendSubscribe() {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    const message = { type: PROTOCOL.subscribe, types: this.filter.types };
    if (this.filter.userId) message.userId = this.filter.userId;
    this.socket.send(JSON.stringify(message));
  }

  remember(id) {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > SEEN_CAPACITY) this.seen.delete(this.seen.values().next().value);
    return true;
  }

  advance(cursor) {
    if (Number.isInteger(cursor) && (this.cursor === null || cursor > this.cursor)) this.cursor = cursor;
  }

  handle(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    switch (message.type) {
      case PROTOCOL.hello: {
        // Primeira conexão: começa do agora. Reconexão: o cursor visto já foi à URL.
        const reconnect = this.cursor !== null;
        if (!reconnect) this.advance(message.cursor);
        this.onHello({ reconnect });
        break;
      }
      case PROTOCOL.alert:
        if (message.alert?.id) this.onAlert(message.alert);
        break;
      case PROTOCOL.newEvent:
        if (!message.event) return;
        this.advance(message.cursor);
        if (this.remember(message.event.id) && this.matches(message.event)) this.onEvent(message.event, message.cursor);
        break;
      case PROTOCOL.resync:
        // Perdemos eventos demais: a página recarrega pela API e segue deste cursor.
        if (Number.isInteger(message.cursor)) this.cursor = message.cursor;
        this.onResync(message);
        break;
      default:
        break;
    }
  }

  // O servidor já filtra pela assinatura; conferimos de novo aqui por segurança.
  matches(event) {
    const { types, userId } = this.filter;
    if (types.length && !types.includes(event.type)) return false;
    return !userId || event.userId === userId;
  }
}
