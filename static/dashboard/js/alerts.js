// Alertas no painel e na página do trader: lista dos abertos, reconhecer (ack), selo no
// cabeçalho e a marca nos eventos que dispararam algum alerta.
//
// Fontes (API de alertas, GET /api/alerts):
//   * abertos: ?state=open (sem janela) — o painel e o selo;
//   * da janela: os alertas (qualquer estado) disparados no período da página — só para
//     marcar os eventos da tabela e do feed;
//   * ao vivo: {"type": "alert"} do /ws/events/ (live.js), somado aos dois acima.
// A retomada do feed não reenvia alertas: a cada reconexão (hello) a página relê os abertos
// (ver o README, "Tempo real").
import { getJson, send } from "./api.js";
import { h } from "./dom.js";
import { formatDateTime, formatInt } from "./format.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

// Páginas de até 200 alertas; no máximo MAX_PAGES por leitura (o selo mostra "1000+").
const PAGE_LIMIT = 200;
const MAX_PAGES = 5;
// Eventos lidos ao mesmo tempo ao filtrar a tabela pelos eventos de alertas.
const FETCH_CONCURRENCY = 6;
const MAX_FILTER_EVENTS = 500;

export const SEVERITIES = ["critical", "warning", "info"];

export function severityLabel(severity) {
  switch (severity) {
    case "critical":
      return gettext("Crítico");
    case "warning":
      return gettext("Atenção");
    default:
      return gettext("Informativo");
  }
}

function stateLabel(state) {
  switch (state) {
    case "open":
      return gettext("aberto");
    case "acknowledged":
      return gettext("reconhecido");
    default:
      return gettext("resolvido");
  }
}

// Mais recente primeiro (triggeredAt; desempate por id, como a API).
function newestFirst(a, b) {
  const diff = Date.parse(b.triggeredAt) - Date.parse(a.triggeredAt);
  if (diff) return diff;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

async function readAll(url, params) {
  const items = [];
  let cursor = null;
  let complete = true;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const data = await getJson(url, cursor ? { cursor, limit: PAGE_LIMIT } : { ...params, limit: PAGE_LIMIT });
    items.push(...(data?.results || []));
    cursor = data?.nextCursor || null;
    if (!cursor) break;
    if (page === MAX_PAGES - 1) complete = false;
  }
  return { items, complete };
}

/** Aviso (região ao vivo) de um alerta que acabou de chegar pelo feed. */
export function newAlertText(alert) {
  return interpolate(gettext("Novo alerta (%(severity)s): %(rule)s de %(user)s."), {
    severity: severityLabel(alert.severity),
    rule: alert.ruleName,
    user: alert.userId,
  });
}

export class AlertCenter {
  // apiUrl: /api/alerts; userId: só os alertas deste trader (página do trader).
  // onChange(center): a lista ou os estados mudaram (renderizar painel, selo, marcas).
  // onError(error, what): falha de leitura ou do reconhecimento.
  constructor({ apiUrl, csrfToken, userId = "", onChange, onError }) {
    Object.assign(this, { apiUrl, csrfToken, userId, onChange, onError });
    this.byId = new Map();
    this.openComplete = true;
    this.seq = 0;
    this.loaded = false;
    this.index = null;
  }

  get enabled() {
    return Boolean(this.apiUrl);
  }

  scope() {
    return this.userId ? { userId: this.userId } : {};
  }

  // Relê os abertos e os da janela (``windowParams``: range ou from/to da página).
  async load(windowParams = {}) {
    if (!this.enabled) return;
    const token = ++this.seq;
    try {
      const [open, inWindow] = await Promise.all([
        readAll(this.apiUrl, { ...this.scope(), state: "open" }),
        readAll(this.apiUrl, { ...this.scope(), ...windowParams }),
      ]);
      if (token !== this.seq) return;
      // Os abertos de antes que não vieram agora foram reconhecidos por outra pessoa.
      for (const alert of this.byId.values()) if (alert.state === "open") alert.state = "unknown";
      for (const alert of [...inWindow.items, ...open.items]) this.byId.set(alert.id, alert);
      for (const [id, alert] of this.byId) if (alert.state === "unknown") this.byId.delete(id);
      this.openComplete = open.complete;
      this.loaded = true;
      this.changed();
    } catch (error) {
      if (token === this.seq) this.onError?.(error, "load");
    }
  }

  // Alerta ao vivo (feed): entra na lista, e o que mudou é redesenhado.
  add(alert) {
    if (!alert?.id) return;
    if (this.userId && alert.userId !== this.userId) return;
    this.byId.set(alert.id, { ...this.byId.get(alert.id), ...alert });
    this.changed();
  }

  all() {
    return [...this.byId.values()].sort(newestFirst);
  }

  open() {
    return this.all().filter((alert) => alert.state === "open");
  }

  openCountText() {
    const count = this.open().length;
    return this.openComplete ? formatInt(count) : `${formatInt(count)}+`;
  }

  // eventId → alertas que o citam (índice refeito só quando a lista muda).
  alertsFor(eventId) {
    if (!this.index) {
      this.index = new Map();
      for (const alert of this.all()) {
        for (const id of alert.eventIds || []) {
          if (!this.index.has(id)) this.index.set(id, []);
          this.index.get(id).push(alert);
        }
      }
    }
    return this.index.get(eventId) || [];
  }

  changed() {
    this.index = null;
    this.onChange?.(this);
  }

  eventIds(alertId = "") {
    const ids = new Set();
    const alerts = alertId ? [this.byId.get(alertId)].filter(Boolean) : this.byId.values();
    for (const alert of alerts) for (const id of alert.eventIds || []) ids.add(id);
    return [...ids];
  }

  async acknowledge(alertId) {
    const updated = await send("POST", `${this.apiUrl}/${encodeURIComponent(alertId)}/ack`, null, { csrfToken: this.csrfToken });
    if (updated?.id) this.byId.set(updated.id, updated);
    else if (this.byId.has(alertId)) this.byId.get(alertId).state = "acknowledged";
    this.changed();
    return updated;
  }
}

// --- desenho ------------------------------------------------------------------------------

// Um item da lista de alertas: severidade (cor E texto), regra, trader, quando, mensagem e ações.
export function alertItem(alert, { traderHref, onAck, onShowEvents }) {
  const open = alert.state === "open";
  const actions = [];
  if (onShowEvents && alert.eventIds?.length) {
    actions.push(
      h("button", {
        type: "button",
        className: "button-secondary alert-events",
        text: gettext("Ver eventos"),
        "aria-label": interpolate(gettext("Ver eventos do alerta %(rule)s de %(user)s"), {
          rule: alert.ruleName,
          user: alert.userId,
        }),
        onclick: () => onShowEvents(alert),
      }),
    );
  }
  if (open && onAck) {
    actions.push(
      h("button", {
        type: "button",
        className: "button-primary alert-ack",
        text: gettext("Reconhecer"),
        "aria-label": interpolate(gettext("Reconhecer o alerta %(rule)s de %(user)s"), { rule: alert.ruleName, user: alert.userId }),
        onclick: (click) => onAck(alert, click.currentTarget),
      }),
    );
  }
  const meta = [h("time", { datetime: alert.triggeredAt, text: formatDateTime(alert.triggeredAt) })];
  if (traderHref) meta.push(" · ", h("a", { href: traderHref(alert.userId), text: alert.userId, className: "alert-user" }));
  if (!open) {
    const who = alert.ackBy ? interpolate(gettext("%(state)s por %(user)s"), { state: stateLabel(alert.state), user: alert.ackBy }) : stateLabel(alert.state);
    meta.push(" · ", h("span", { className: "alert-state", text: who }));
  }
  return h(
    "li",
    { className: `alert-card severity-${SEVERITIES.includes(alert.severity) ? alert.severity : "info"}`, dataset: { alertId: alert.id, state: alert.state } },
    h(
      "div",
      { className: "alert-card-head" },
      h("span", { className: "severity-tag", text: severityLabel(alert.severity) }),
      h("strong", { className: "alert-rule", text: alert.ruleName }),
    ),
    h("p", { className: "alert-message", text: alert.message }),
    h("p", { className: "alert-meta muted small" }, ...meta),
    actions.length ? h("div", { className: "button-row alert-actions" }, ...actions) : null,
  );
}

// A marca de "evento com alerta" (texto acessível; o símbolo é decorativo).
export function flagNode(alerts) {
  const names = [...new Set(alerts.map((alert) => alert.ruleName))].join(", ");
  const text = interpolate(ngettext("Com alerta: %(rules)s", "Com alertas: %(rules)s", alerts.length), { rules: names });
  const worst = SEVERITIES.find((severity) => alerts.some((alert) => alert.severity === severity)) || "info";
  return h(
    "span",
    { className: `event-flag severity-${worst}`, title: text, dataset: { severity: worst } },
    h("span", { "aria-hidden": "true", text: "⚑" }),
    h("span", { className: "visually-hidden", text }),
  );
}

// Marca (ou desmarca) as linhas/itens com ``data-id`` dentro de ``root``; a marca vai no
// começo do elemento ``slot`` de cada um (ou no próprio item, sem ``slot``).
export function markFlagged(root, center, slot = null) {
  if (!root) return;
  for (const node of root.querySelectorAll("[data-id]")) {
    const alerts = center.alertsFor(node.dataset.id);
    const target = (slot && node.querySelector(slot)) || node;
    target.querySelector(":scope > .event-flag")?.remove();
    node.classList.toggle("is-flagged", alerts.length > 0);
    if (alerts.length) {
      const flag = flagNode(alerts);
      node.dataset.flagSeverity = flag.dataset.severity;
      target.prepend(flag);
    } else delete node.dataset.flagSeverity;
  }
}

// Os eventos de uma lista de ids (GET /api/events/<id>), em paralelo limitado; os apagados
// (404) ficam de fora.
export async function fetchEvents(eventsUrl, ids) {
  const wanted = ids.slice(0, MAX_FILTER_EVENTS);
  const found = [];
  let next = 0;
  async function worker() {
    while (next < wanted.length) {
      const id = wanted[next];
      next += 1;
      try {
        found.push(await getJson(`${eventsUrl}/${encodeURIComponent(id)}`));
      } catch (error) {
        if (error?.status !== 404) throw error;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, wanted.length) }, worker));
  return { events: found, truncated: ids.length > wanted.length };
}

function compareEvents(sort) {
  const descending = sort.startsWith("-");
  const field = descending ? sort.slice(1) : sort;
  const key = (event) => (field === "timestamp" ? Date.parse(event.timestamp) : Number(event[field] ?? 0));
  return (a, b) => {
    const diff = key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    return descending ? -diff : diff;
  };
}

// Origem da tabela filtrada por alerta (``EventTable.setSource``): os eventos citados pelos
// alertas, lidos um a um pela API e filtrados no cliente por ``keep`` (os filtros da página);
// ordenação e paginação também no cliente. Lidos uma vez por origem.
export function alertEventsSource({ eventsUrl, ids, keep = () => true }) {
  let loaded = null;
  return async ({ page, limit, sort }) => {
    loaded ??= fetchEvents(eventsUrl, ids).catch((error) => {
      loaded = null; // a próxima carga tenta de novo
      throw error;
    });
    const { events, truncated } = await loaded;
    const rows = events.filter(keep).sort(compareEvents(sort));
    return { results: rows.slice((page - 1) * limit, page * limit), total: rows.length, truncated };
  };
}

// O selo do cabeçalho: "Alertas abertos N" (link para o painel de alertas).
export function renderBadge(countText, count) {
  const node = document.getElementById("alerts-badge-count");
  if (!node) return;
  node.textContent = countText;
  document.getElementById("alerts-badge").dataset.count = String(count);
}

// Abertos de todos os traders (a página do trader só assina o feed do seu trader).
export async function loadOpenCount(apiUrl) {
  if (!apiUrl) return;
  const { items, complete } = await readAll(apiUrl, { state: "open" });
  renderBadge(complete ? formatInt(items.length) : `${formatInt(items.length)}+`, items.length);
}
