// Página de um trader: KPIs × período anterior, por tipo, alertas, eventos paginados e ao vivo.
// Os números vêm dos mesmos endpoints do painel com userId fixo — iguais aos da API na mesma janela.
import { AlertCenter, alertItem, loadOpenCount, markFlagged, newAlertText } from "./alerts.js";
import { buildUrl, getJson } from "./api.js";
import { byId, h, setText } from "./dom.js";
import { EventDialog } from "./event_dialog.js";
import { EventTable, withinWindow } from "./event_table.js";
import { formatDateTime, formatInt, formatSignedInt, formatSignedValue, formatTime, formatValue } from "./format.js";
import { gettext, interpolate } from "./i18n.js";
import { kpiDelta, renderKpi, windowText } from "./kpis.js";
import { LiveFeed } from "./live.js";
import { typesWithPrevious } from "./overview.js";
import { RangePicker } from "./range_picker.js";
import { UrlState } from "./url_state.js";

const config = JSON.parse(byId("dashboard-config").textContent);
const userId = config.userId;
const URL_KEYS = ["range", "from", "to", "type", "sort", "limit"];
const state = { ...config.initial };
let overviewSeq = 0;

// --- mensagens ---------------------------------------------------------------------------

const alerts = new Map();

function showAlert(key, ...content) {
  clearAlert(key);
  const node = h("p", { className: "alert alert-error" }, ...content);
  alerts.set(key, node);
  byId("alerts").append(node);
}

function clearAlert(key) {
  alerts.get(key)?.remove();
  alerts.delete(key);
}

function reportError(key, what, error) {
  if (error?.status === 401 || error?.status === 403) {
    const login = `${config.loginUrl}?next=${encodeURIComponent(location.pathname + location.search)}`;
    showAlert("session", gettext("Sua sessão expirou."), " ", h("a", { href: login, text: gettext("Entrar de novo") }));
    return;
  }
  const detail = error?.status === 503 ? gettext("armazenamento indisponível, tentando de novo em instantes") : error?.message || String(error);
  showAlert(key, interpolate(gettext("Não foi possível carregar %(what)s: %(detail)s"), { what, detail }));
}

// --- filtros (na URL) ----------------------------------------------------------------------

const typeSelect = byId("filter-type");
const picker = new RangePicker({
  select: byId("filter-range"),
  custom: byId("custom-range"),
  fromInput: byId("filter-from"),
  toInput: byId("filter-to"),
  onPreset: (range) => applyFilters({ range, from: "", to: "" }),
});
const urlState = new UrlState({
  defaults: config.defaults,
  keys: URL_KEYS,
  onNavigate: (next) => applyFilters(next, { push: false }),
});

function windowParams() {
  if (!state.from && !state.to) return { range: state.range };
  const params = {};
  if (state.from) params.from = state.from;
  if (state.to) params.to = state.to;
  return params;
}

function filterParams() {
  const params = { ...windowParams(), userId };
  if (state.type) params.type = state.type;
  return params;
}

function ensureTypeOption(type) {
  if (!type || [...typeSelect.options].some((option) => option.value === type)) return;
  typeSelect.append(h("option", { value: type, text: type }));
}

function syncControls() {
  picker.set(state);
  ensureTypeOption(state.type);
  typeSelect.value = state.type;
  byId("export-csv").href = buildUrl(config.api.export, { ...filterParams(), format: "csv" }).toString();
  // O painel abre com o mesmo período.
  byId("back-to-dashboard").href = buildUrl(config.dashboardUrl, windowParams()).toString();
}

function applyFilters(changes, { push = true } = {}) {
  Object.assign(state, changes);
  syncControls();
  table.setView(state);
  if (push) urlState.push(state);
  live.setFilter({ types: state.type ? [state.type] : [], userId });
  loadOverview();
  table.reset();
  loadAlerts();
}

byId("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  applyFilters({ ...picker.get(), type: typeSelect.value });
});
typeSelect.addEventListener("change", () => applyFilters({ type: typeSelect.value }));
byId("filters-clear").addEventListener("click", (event) => {
  event.preventDefault();
  applyFilters({ range: config.defaults.range, from: "", to: "", type: "" });
});

// --- KPIs e por tipo ------------------------------------------------------------------------

const KPI_CARDS = [
  ["count", "count", formatInt, formatSignedInt],
  ["sum", "sum", formatValue, formatSignedValue],
  ["avg", "avgTicket", formatValue, formatSignedValue],
];

const kpiSection = document.querySelector(".kpis");

async function loadOverview() {
  const token = ++overviewSeq;
  const params = filterParams();
  const allTypes = { ...params };
  delete allTypes.type;
  kpiSection.setAttribute("aria-busy", "true");
  try {
    const [summary, typesSummary] = await Promise.all([
      getJson(config.api.summary, { ...params, top: 1, compare: "previous" }),
      state.type ? getJson(config.api.summary, { ...allTypes, top: 1, compare: "previous" }) : Promise.resolve(null),
    ]);
    if (token !== overviewSeq) return;
    clearAlert("overview");
    renderOverview(summary, typesSummary || summary);
  } catch (error) {
    if (token === overviewSeq) reportError("overview", gettext("os indicadores"), error);
  } finally {
    if (token === overviewSeq) kpiSection.removeAttribute("aria-busy");
  }
}

function renderOverview(summary, typesSummary) {
  for (const [id, field, format, formatDiff] of KPI_CARDS) {
    renderKpi({
      valueNode: byId(`kpi-${id}`),
      deltaNode: byId(`kpi-${id}-delta`),
      current: summary.totals[field],
      previous: summary.previous?.totals[field],
      previousWindow: summary.previous?.window,
      format,
      formatDiff,
    });
  }
  const windowNode = byId("kpi-window");
  windowNode.dataset.from = summary.window.from;
  windowNode.dataset.to = summary.window.to;
  setText(
    "kpi-window",
    interpolate(gettext("Período: %(current)s · comparado com %(previous)s · atualizado às %(time)s"), {
      current: windowText(summary.window),
      previous: windowText(summary.previous?.window),
      time: formatTime(summary.computedAt),
    }),
  );

  const types = (typesSummary.byType || []).map((row) => row.type).sort();
  typeSelect.replaceChildren(
    h("option", { value: "", text: gettext("Todos os tipos") }),
    ...types.map((type) => h("option", { value: type, text: type })),
  );
  ensureTypeOption(state.type);
  typeSelect.value = state.type;
  renderTypes(typesWithPrevious(typesSummary));
}

function renderTypes(rows) {
  const body = byId("types-table").tBodies[0];
  if (!rows.length) {
    body.replaceChildren(h("tr", {}, h("td", { colspan: 5, className: "muted", text: gettext("Sem eventos no período.") })));
    return;
  }
  body.replaceChildren(
    ...rows.map((row) => {
      const delta = kpiDelta(row.count, row.previousCount);
      return h(
        "tr",
        { className: row.type === state.type ? "is-selected" : null, dataset: { type: row.type } },
        h(
          "td",
          {},
          h("button", {
            type: "button",
            className: "link-button",
            text: row.type,
            "aria-pressed": String(row.type === state.type),
            onclick: () => applyFilters({ type: row.type === state.type ? "" : row.type }),
          }),
        ),
        h("td", { className: "num", text: formatInt(row.count) }),
        h("td", {
          className: "num delta",
          dataset: { trend: delta.trend },
          title: interpolate(gettext("Período anterior: %(n)s"), { n: formatInt(row.previousCount) }),
          text: formatSignedInt(delta.diff),
        }),
        h("td", { className: "num", text: formatValue(row.sum) }),
        h("td", { className: "num", text: formatValue(row.avg) }),
      );
    }),
  );
}

// --- alertas do trader (quando a API de alertas existe neste servidor) ------------------------

const alertList = byId("trader-alerts");

// Todos os alertas do trader na janela da página, mais os abertos de qualquer época; os abertos
// primeiro. O selo do cabeçalho conta os abertos de todos os traders (fica no painel).
const alertCenter = new AlertCenter({
  apiUrl: config.alertsApi,
  csrfToken: config.csrfToken,
  userId,
  onChange: renderAlerts,
  onError: (error) => reportError("alerts", gettext("os alertas"), error),
});

function renderAlerts(center) {
  clearAlert("alerts");
  if (alertList) {
    const items = [...center.open(), ...center.all().filter((alert) => alert.state !== "open")];
    alertList.replaceChildren(
      ...(items.length
        ? items.map((alert) => alertItem(alert, { onAck: acknowledgeAlert }))
        : [h("li", { className: "muted alert-empty", text: gettext("Nenhum alerta deste trader.") })]),
    );
  }
  markFlagged(table.body, center, "td:first-child");
}

async function acknowledgeAlert(alert, button) {
  button.disabled = true;
  try {
    await alertCenter.acknowledge(alert.id);
    setText("alerts-status", interpolate(gettext("Alerta %(rule)s de %(user)s reconhecido."), { rule: alert.ruleName, user: alert.userId }));
    byId("trader-alerts-panel")?.focus();
  } catch (error) {
    button.disabled = false;
    setText("alerts-status", interpolate(gettext("Não foi possível reconhecer o alerta: %(detail)s"), { detail: error.message }));
  }
}

async function loadAlerts() {
  await alertCenter.load(windowParams());
  try {
    await loadOpenCount(config.alertsApi);
  } catch (error) {
    reportError("alerts", gettext("os alertas"), error);
  }
}

function onLiveAlert(alert) {
  if (alert.userId !== userId) return;
  alertCenter.add(alert);
  setText("alerts-status", newAlertText(alert));
}

// --- tabela, detalhe e ao vivo -------------------------------------------------------------------

const dialog = new EventDialog({
  config,
  onDeleted: (event) => {
    table.removeRow(event.id);
    table.load();
    loadOverview();
  },
});

const table = new EventTable({
  config,
  filterParams,
  showUser: false,
  live: "prepend",
  onDetails: (event, opener) => dialog.open(event, opener),
  onError: (error) => reportError("table", gettext("os eventos"), error),
  onLoaded: () => clearAlert("table"),
  onChange: () => {
    Object.assign(state, { sort: table.sort, limit: table.limit });
    urlState.replace(state);
  },
  onRows: (body) => markFlagged(body, alertCenter, "td:first-child"),
});

const STATUS_TEXT = {
  connecting: () => gettext("Conectando…"),
  online: () => gettext("Ao vivo"),
  offline: (status) =>
    interpolate(gettext("Sem conexão — nova tentativa em %(s)s s"), { s: formatInt(Math.ceil((status.retryInMs || 0) / 1000)) }),
  paused: () => gettext("Desconectado"),
};

function onLiveStatus(status) {
  const node = byId("live-status");
  node.dataset.state = status.state;
  node.querySelector(".status-text").textContent = STATUS_TEXT[status.state](status);
}

function onLiveEvent(event) {
  const lastSeen = byId("trader-last-seen");
  if (lastSeen && (!lastSeen.dateTime || Date.parse(event.timestamp) > Date.parse(lastSeen.dateTime))) {
    lastSeen.replaceWith(h("time", { id: "trader-last-seen", datetime: event.timestamp, text: formatDateTime(event.timestamp) }));
  }
  if (withinWindow(event, state)) table.addLive(event);
}

const live = new LiveFeed({
  path: config.ws,
  onEvent: onLiveEvent,
  onStatus: onLiveStatus,
  onResync: () => {
    loadOverview();
    table.load();
  },
  onDenied: () => reportError("session", "", { status: 401 }),
  onAlert: onLiveAlert,
  onHello: ({ reconnect }) => {
    if (reconnect) loadAlerts();
  },
});

// --- início ------------------------------------------------------------------------------------

for (const node of document.querySelectorAll("time[datetime]")) node.textContent = formatDateTime(node.getAttribute("datetime"));
syncControls();
live.setFilter({ types: state.type ? [state.type] : [], userId });
live.start();
loadOverview();
table.load();
loadAlerts();
setInterval(() => {
  if (document.visibilityState === "visible") {
    loadOverview();
    loadOpenCount(config.alertsApi).catch(() => {});
  }
}, config.refreshSeconds * 1000);

window.traderMonitor = { live, state, loadOverview, loadTable: () => table.load(), alerts: alertCenter };
