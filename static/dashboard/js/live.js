// Feed ao vivo por WebSocket (/ws/events/), com retomada sem lacunas.
//
// Todo o protocolo do servidor está neste módulo (nomes das mensagens em PROTOCOL):
//   servidor → {"type": "hello", "cursor": N}                 ao conectar
//   servidor → {"type": "new_event", "event": {...}, "cursor": N}
//   cliente  → {"type": "subscribe", "types": [...], "userId": "..."}
// Ao reconectar, o cliente pede os eventos depois do último cursor visto
// (parâmetro ?cursor=N na URL); eventos com cursor já visto são descartados,
// então uma reentrega nunca duplica linhas.

export const PROTOCOL = {
  hello: "hello",
  newEvent: "new_event",
  subscribe: "subscribe",
  cursorParam: "cursor",
};

const INITIAL_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

export function backoffDelay(attempt, random = Math.random) {
  // Exponencial com "jitter" (metade fixa, metade aleatória) para não sincronizar clientes.
  const base = Math.min(MAX_DELAY_MS, INITIAL_DELAY_MS * 2 ** attempt);
  return Math.round(base / 2 + (random() * base) / 2);
}

export class LiveFeed {
  constructor({ path, onEvent, onStatus, onHello }) {
    this.path = path;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onHello = onHello || (() => {});
    this.cursor = null;
    this.filter = { types: [], userId: "" };
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    window.addEventListener("online", () => this.reconnectNow());
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
    this.onStatus({ state: "paused" });
  }

  reconnectNow() {
    if (this.stopped || (this.socket && this.socket.readyState <= WebSocket.OPEN)) return;
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
      this.onStatus({ state: "online" });
      this.sendSubscribe();
    });
    socket.addEventListener("message", (message) => {
      if (socket === this.socket) this.handle(message.data);
    });
    socket.addEventListener("close", () => {
      if (socket !== this.socket || this.stopped) return;
      this.socket = null;
      const delay = backoffDelay(this.attempt);
      this.attempt += 1;
      this.onStatus({ state: "offline", retryInMs: delay });
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  sendSubscribe() {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    const message = { type: PROTOCOL.subscribe, types: this.filter.types };
    if (this.filter.userId) message.userId = this.filter.userId;
    this.socket.send(JSON.stringify(message));
  }

  handle(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (message.type === PROTOCOL.hello) {
      // Primeira conexão: começa do agora. Reconexão: mantém o cursor já visto.
      if (this.cursor === null && Number.isInteger(message.cursor)) this.cursor = message.cursor;
      this.onHello(message);
      return;
    }
    if (message.type !== PROTOCOL.newEvent || !message.event) return;
    const cursor = Number.isInteger(message.cursor) ? message.cursor : null;
    if (cursor !== null) {
      if (this.cursor !== null && cursor <= this.cursor) return;
      this.cursor = cursor;
    }
    if (!this.matches(message.event)) return;
    this.onEvent(message.event, cursor);
  }

  // O servidor já filtra pela assinatura; conferimos de novo aqui por segurança.
  matches(event) {
    const { types, userId } = this.filter;
    if (types.length && !types.includes(event.type)) return false;
    return !userId || event.userId === userId;
  }
}
