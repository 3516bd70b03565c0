// Painel: liga filtros (na URL), KPIs com Δ, gráficos, tabela, feed ao vivo, detalhe e insight.
// Todo texto vindo da API entra no DOM por textContent (ver dom.js).
import { AlertCenter, alertEventsSource, alertItem, markFlagged, newAlertText, renderBadge } from "./alerts.js";
import { buildUrl, getJson, send } from "./api.js";
import { Charts } from "./charts.js";
import { byId, h, setText } from "./dom.js";
import { EventDialog } from "./event_dialog.js";
import { EventTable, traderHref, withinWindow } from "./event_table.js";
import { formatDateTime, formatInt, formatSignedInt, formatSignedValue, formatTime, formatUsd, formatValue } from "./format.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { renderKpi } from "./kpis.js";
import { LiveFeed } from "./live.js";
import { buildOverview } from "./overview.js";
import { RangePicker } from "./range_picker.js";
import { UrlState } from "./url_state.js";

const config = JSON.parse(byId("dashboard-config").textContent);
const state = { ...config.initial };
const requestSeq = { overview: 0 };
const feed = { paused: false, buffer: [] };

// --- alertas -------------------------------------------------------------------

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
  if (error?.name === "AbortError") return;
  if (error?.status === 401 || error?.status === 403) {
    const login = `${config.loginUrl}?next=${encodeURIComponent(location.pathname + location.search)}`;
    showAlert("session", gettext("Sua sessão expirou."), " ", h("a", { href: login, text: gettext("Entrar de novo") }));
    return;
  }
  const detail = error?.status === 503 ? gettext("armazenamento indisponível, tentando de novo em instantes") : error?.message || String(error);
  showAlert(key, interpolate(gettext("Não foi possível carregar %(what)s: %(detail)s"), { what, detail }));
}

// --- filtros (e a URL que os carrega) ---------------------------------------------

const form = byId("filters");
const typeSelect = byId("filter-type");
const userInput = byId("filter-user");
const picker = new RangePicker({
  select: byId("filter-range"),
  custom: byId("custom-range"),
  fromInput: byId("filter-from"),
  toInput: byId("filter-to"),
  onPreset: (range) => applyFilters({ range, from: "", to: "" }),
});
const urlState = new UrlState({ defaults: config.defaults, onNavigate: (next) => applyFilters(next, { push: false }) });

// Janela de um período pronto ("24h") fixada pela última carga da tabela (o servidor diz a
// janela exata que resolveu): a tabela, os KPIs e os gráficos pedem exatamente o mesmo
// [from, to) — os números batem entre si. A atualização periódica dos KPIs pede o período
// como escolhido (cache do servidor); a tabela avisa dos eventos novos e "atualizar" recarrega
// tudo numa janela nova.
let snapshot = null;
window.traderMonitor = { overview: null };

function requestedWindow() {
  if (!state.from && !state.to) return { range: state.range };
  const params = {};
  if (state.from) params.from = state.from;
  if (state.to) params.to = state.to;
  return params;
}

function windowParams() {
  if (!state.from && !state.to && snapshot) return { from: snapshot.from, to: snapshot.to };
  return requestedWindow();
}

// Tabela primeiro (fixa a janela), depois KPIs e gráficos na mesma janela.
async function loadAll() {
  snapshot = null;
  table.markLoading();
  if (alertFilter.value) table.source = alertSource(alertFilter.value);
  await table.reset();
  await Promise.all([loadOverview(), alertCenter.load(windowParams())]);
}

function scopeParams() {
  const params = {};
  if (state.type) params.type = state.type;
  if (state.userId) params.userId = state.userId;
  return params;
}

function filterParams() {
  return { ...windowParams(), ...scopeParams() };
}

function syncControls() {
  picker.set(state);
  ensureTypeOption(state.type);
  typeSelect.value = state.type;
  userInput.value = state.userId;
  updateExportLink();
  const note = state.userId
    ? interpolate(gettext("Usuário %(user)s: KPIs e gráficos somam os eventos dele no período."), { user: state.userId })
    : "";
  setText("filter-note", note);
}

// A exportação leva a janela exata que a tabela mostra (a do resumo, num período pronto).
function updateExportLink() {
  byId("export-csv").href = buildUrl(config.api.export, { ...filterParams(), format: "csv" }).toString();
}

function ensureTypeOption(type) {
  if (!type || [...typeSelect.options].some((option) => option.value === type)) return;
  typeSelect.append(h("option", { value: type, text: type }));
}

// push: false quando a mudança veio da própria URL (voltar/avançar).
function applyFilters(changes, { push = true } = {}) {
  Object.assign(state, changes);
  snapshot = null;
  syncControls();
  table.setView(state);
  if (push) urlState.push(state);
  live.setFilter({ types: state.type ? [state.type] : [], userId: state.userId });
  resetFeed();
  loadAll();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  applyFilters({ ...picker.get(), type: typeSelect.value, userId: userInput.value.trim() });
});
typeSelect.addEventListener("change", () => applyFilters({ type: typeSelect.value }));
byId("filters-clear").addEventListener("click", (event) => {
  event.preventDefault();
  applyFilters({ range: config.defaults.range, from: "", to: "", type: "", userId: "" });
});

// --- visão geral: KPIs, gráficos, tops ---------------------------------------------------

const charts = new Charts({
  seriesCanvas: byId("chart-series"),
  typesCanvas: byId("chart-types"),
  onTypeClick: (type) => applyFilters({ type: type === state.type ? "" : type }),
});

const kpiSection = document.querySelector(".kpis");

// ``periodic``: a atualização a cada ``refreshSeconds`` pede o período como escolhido.
async function loadOverview({ periodic = false } = {}) {
  const token = ++requestSeq.overview;
  const params = { ...(periodic ? requestedWindow() : windowParams()), ...scopeParams() };
  const withoutType = { ...params };
  delete withoutType.type;
  kpiSection.setAttribute("aria-busy", "true");
  try {
    const [summary, series, typesSummary] = await Promise.all([
      getJson(config.api.summary, { ...params, top: config.topUsers, compare: "previous" }),
      getJson(config.api.timeseries, params),
      state.type ? getJson(config.api.summary, { ...withoutType, top: 1 }) : Promise.resolve(null),
    ]);
    if (token !== requestSeq.overview) return;
    clearAlert("overview");
    window.traderMonitor.overview = { summary, series };
    renderOverview(buildOverview({ summary, series, typesSummary, filters: state }), summary, typesSummary || summary);
  } catch (error) {
    if (token === requestSeq.overview) reportError("overview", gettext("os indicadores"), error);
  } finally {
    if (token === requestSeq.overview) kpiSection.removeAttribute("aria-busy");
  }
}

const KPI_CARDS = [
  ["count", "count", formatInt, formatSignedInt],
  ["sum", "sum", formatValue, formatSignedValue],
  ["avg", "avg", formatValue, formatSignedValue],
  ["users", "activeUsers", formatInt, formatSignedInt],
];

function renderOverview(overview, summary, typesSummary) {
  for (const [id, field, format, formatDiff] of KPI_CARDS) {
    renderKpi({
      valueNode: byId(`kpi-${id}`),
      deltaNode: byId(`kpi-${id}-delta`),
      current: overview.kpis[field],
      previous: overview.previous?.[field],
      previousWindow: overview.previousWindow,
      format,
      formatDiff,
    });
  }
  setText(
    "kpi-avg-note",
    overview.purchaseAvgTicket !== null && overview.purchaseAvgTicket !== undefined
      ? interpolate(gettext("Compras: %(value)s"), { value: formatValue(overview.purchaseAvgTicket) })
      : "",
  );
  const updated = summary.computedAt ? formatTime(summary.computedAt) : formatTime(new Date().toISOString());
  setText("kpi-updated", interpolate(gettext("Atualizado às %(time)s"), { time: updated }));

  const types = (typesSummary.byType || []).map((row) => row.type).sort();
  const current = typeSelect.value;
  typeSelect.replaceChildren(
    h("option", { value: "", text: gettext("Todos os tipos") }),
    ...types.map((type) => h("option", { value: type, text: type })),
  );
  ensureTypeOption(state.type);
  typeSelect.value = current;

  byId("user-suggestions").replaceChildren(...overview.topByValue.map((row) => h("option", { value: row.userId })));

  charts.updateSeries(overview);
  charts.updateTypes(overview.types, state.type);
  renderSeriesCaption(overview);
  renderTypesTable(overview.types);
  renderRank("top-by-value", overview.topByValue, (row) => formatValue(row.sum));
  renderRank("top-by-count", overview.topByCount, (row) =>
    interpolate(ngettext("%(n)s evento", "%(n)s eventos", row.count), { n: formatInt(row.count) }),
  );
}

function renderSeriesCaption(overview) {
  let text;
  const peak = overview.points.reduce((best, point) => (point.count > (best?.count ?? 0) ? point : best), null);
  if (!peak) text = gettext("Sem eventos no período.");
  else {
    text = interpolate(gettext("Pico de %(n)s eventos em %(when)s (intervalos de %(minutes)s min)."), {
      n: formatInt(peak.count),
      when: formatDateTime(peak.t),
      minutes: formatInt(overview.interval / 60),
    });
  }
  setText("series-caption", text);
  byId("chart-series").setAttribute("aria-label", `${gettext("Gráfico de eventos e valor por intervalo")}. ${text}`);
}

function renderTypesTable(rows) {
  const body = byId("types-table").tBodies[0];
  if (!rows.length) {
    body.replaceChildren(h("tr", {}, h("td", { colspan: 4, className: "muted", text: gettext("Sem eventos no período.") })));
    return;
  }
  body.replaceChildren(
    ...rows.map((row) =>
      h(
        "tr",
        {},
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
        h("td", { className: "num", text: formatValue(row.sum) }),
        h("td", { className: "num", text: formatValue(row.avg) }),
      ),
    ),
  );
}

function renderRank(id, rows, describe) {
  const list = byId(id);
  if (!rows.length) {
    list.replaceChildren(h("li", { className: "muted", text: gettext("Sem dados no período.") }));
    return;
  }
  list.replaceChildren(
    ...rows.map((row) =>
      h(
        "li",
        { className: row.userId === state.userId ? "is-selected" : null },
        h("a", {
          className: "rank-user",
          href: traderHref(config, row.userId),
          text: row.userId,
          title: gettext("Abrir a página deste trader"),
        }),
        h("span", { className: "rank-value", text: describe(row) }),
      ),
    ),
  );
}

// --- alertas disparados: painel, selo, marcas e filtro ------------------------------------------

const alertList = byId("alerts-list");
// value: "" (todos), "*" (só com alerta) ou o id de um alerta; ids: os eventIds da origem atual.
const alertFilter = { value: "", ids: "" };
const alertSelect = byId("filter-alert");

const alertCenter = new AlertCenter({
  apiUrl: config.alertsApi,
  csrfToken: config.csrfToken,
  onChange: renderAlerts,
  onError: (error) => reportError("alerts", gettext("os alertas"), error),
});

function alertLabel(alert) {
  return interpolate(gettext("Eventos do alerta: %(rule)s · %(user)s · %(when)s"), {
    rule: alert.ruleName,
    user: alert.userId,
    when: formatDateTime(alert.triggeredAt),
  });
}

function renderAlerts(center) {
  clearAlert("alerts");
  const open = center.open();
  const countText = center.openCountText();
  renderBadge(countText, open.length);
  setText("alerts-count", `(${countText})`);
  if (alertList) {
    alertList.replaceChildren(
      ...(open.length
        ? open.map((alert) =>
            alertItem(alert, {
              traderHref: (userId) => traderHref(config, userId),
              onAck: acknowledgeAlert,
              onShowEvents: (chosen) => {
                applyAlertFilter(chosen.id);
                alertSelect.focus();
              },
            }),
          )
        : [h("li", { className: "muted alert-empty", text: gettext("Nenhum alerta aberto.") })]),
    );
  }
  renderAlertOptions(center);
  // Filtrada por alerta, a tabela acompanha os alertas que chegaram (ou a primeira leitura).
  if (alertFilter.value && alertFilter.ids !== idsKey(alertFilter.value)) table.setSource(alertSource(alertFilter.value));
  markFlagged(table.body, center, "td:first-child");
  markFlagged(feedList, center);
}

function renderAlertOptions(center) {
  if (!alertSelect) return;
  const known = center.all().slice(0, 100);
  if (alertFilter.value && alertFilter.value !== "*" && !known.some((alert) => alert.id === alertFilter.value)) {
    const chosen = center.byId.get(alertFilter.value);
    if (chosen) known.push(chosen);
  }
  alertSelect.replaceChildren(
    h("option", { value: "", text: gettext("Todos os eventos") }),
    h("option", { value: "*", text: gettext("Só eventos com alerta") }),
    ...known.map((alert) => h("option", { value: alert.id, text: alertLabel(alert) })),
  );
  alertSelect.value = alertFilter.value;
}

async function acknowledgeAlert(alert, button) {
  button.disabled = true;
  const nextId = button.closest("li")?.nextElementSibling?.dataset.alertId;
  try {
    await alertCenter.acknowledge(alert.id);
    setText("alerts-status", interpolate(gettext("Alerta %(rule)s de %(user)s reconhecido."), { rule: alert.ruleName, user: alert.userId }));
    // O item saiu da lista: o foco vai ao próximo alerta, ou ao painel.
    const next = nextId && alertList.querySelector(`li[data-alert-id="${CSS.escape(nextId)}"] .alert-ack`);
    (next || byId("alerts-panel")).focus();
  } catch (error) {
    button.disabled = false;
    if (error?.status === 401) {
      reportError("session", "", error);
      return;
    }
    setText("alerts-status", interpolate(gettext("Não foi possível reconhecer o alerta: %(detail)s"), { detail: error.message }));
  }
}

// Eventos do alerta (id) ou de todos os alertas conhecidos ("*"): filtro no cliente sobre os
// eventIds (a listagem /api/events não filtra por alerta). "*" respeita os filtros da página.
function idsKey(value) {
  return alertCenter.eventIds(value === "*" ? "" : value).join(",");
}

function alertSource(value) {
  alertFilter.ids = idsKey(value);
  if (value === "*") {
    return alertEventsSource({
      eventsUrl: config.api.events,
      ids: alertCenter.eventIds(),
      keep: (event) => matchesPage(event),
    });
  }
  return alertEventsSource({ eventsUrl: config.api.events, ids: alertCenter.eventIds(value) });
}

function matchesPage(event) {
  const types = state.type ? state.type.split(",") : [];
  if (types.length && !types.includes(event.type)) return false;
  if (state.userId && event.userId !== state.userId) return false;
  return withinWindow(event, state.from || state.to ? state : snapshot || {});
}

function applyAlertFilter(value) {
  alertFilter.value = value;
  if (alertSelect) alertSelect.value = value;
  let note = "";
  if (value === "*") note = gettext("Só eventos com alerta (dos alertas abertos e dos disparados no período), com os filtros acima.");
  else if (value) {
    const chosen = alertCenter.byId.get(value);
    note = chosen ? interpolate(gettext("Só os eventos do alerta %(rule)s de %(user)s."), { rule: chosen.ruleName, user: chosen.userId }) : "";
  }
  setText("alert-filter-note", note);
  table.setSource(value ? alertSource(value) : null);
}

alertSelect?.addEventListener("change", () => applyAlertFilter(alertSelect.value));

function onLiveAlert(alert) {
  alertCenter.add(alert);
  setText("alerts-status", newAlertText(alert));
}

// --- tabela ------------------------------------------------------------------------------

const dialog = new EventDialog({
  config,
  onFilterUser: (userId) => applyFilters({ userId }),
  onDeleted: (event) => {
    feedList.querySelector(`li[data-id="${CSS.escape(event.id)}"]`)?.remove();
    loadAll();
  },
});

const table = new EventTable({
  config,
  filterParams,
  showUser: true,
  live: "notify",
  onDetails: (event, opener) => dialog.open(event, opener),
  onError: (error) => reportError("table", gettext("os eventos"), error),
  onLoaded: () => clearAlert("table"),
  onChange: () => {
    Object.assign(state, { sort: table.sort, limit: table.limit });
    urlState.replace(state);
  },
  // Os eventos novos estão depois da janela fixada: recarrega tudo numa janela nova.
  onRefresh: () => loadAll(),
  onWindow: (window) => {
    if (state.from || state.to || !window) return;
    snapshot = window;
    updateExportLink();
  },
  onRows: (body) => markFlagged(body, alertCenter, "td:first-child"),
});

// --- feed ao vivo --------------------------------------------------------------------------

const feedList = byId("feed");
const feedToggle = byId("feed-toggle");
const statusNode = byId("live-status");

function feedItem(event, fresh) {
  return h(
    "li",
    { className: fresh ? "is-new" : null, dataset: { id: event.id } },
    h(
      "button",
      {
        type: "button",
        className: "feed-detail",
        "aria-label": interpolate(gettext("Detalhes do evento %(type)s de %(user)s"), { type: event.type, user: event.userId }),
        onclick: (click) => dialog.open(event, click.currentTarget),
      },
      h("span", { className: "feed-time", text: formatTime(event.timestamp) }),
      h("strong", { className: "feed-type", text: event.type }),
      h("span", { className: "feed-value", text: formatValue(event.value) }),
    ),
    h("a", { className: "feed-user", href: traderHref(config, event.userId), text: event.userId }),
  );
}

function prependToFeed(events) {
  for (const event of events) {
    if (feedList.querySelector(`li[data-id="${CSS.escape(event.id)}"]`)) continue;
    feedList.prepend(feedItem(event, true));
  }
  markFlagged(feedList, alertCenter);
  while (feedList.children.length > config.feedSize) feedList.lastElementChild.remove();
}

function resetFeed() {
  feed.buffer = [];
  feedList.replaceChildren();
  updateFeedNote();
}

function updateFeedNote() {
  let text = "";
  if (feed.paused) {
    text = interpolate(
      ngettext("Pausado — %(n)s evento novo aguardando.", "Pausado — %(n)s eventos novos aguardando.", feed.buffer.length),
      { n: formatInt(feed.buffer.length) },
    );
  } else if (!feedList.children.length) {
    text = gettext("Aguardando eventos…");
  }
  setText("feed-note", text);
  feedToggle.textContent = feed.paused ? gettext("Retomar") : gettext("Pausar");
  feedToggle.setAttribute("aria-pressed", String(feed.paused));
}

function onLiveEvent(event) {
  if (feed.paused) {
    feed.buffer.push(event);
    if (feed.buffer.length > config.feedSize) feed.buffer.shift();
  } else {
    prependToFeed([event]);
  }
  updateFeedNote();
  if (withinWindow(event, state)) table.addLive(event);
}

feedToggle.addEventListener("click", () => {
  feed.paused = !feed.paused;
  if (!feed.paused) {
    prependToFeed(feed.buffer);
    feed.buffer = [];
  }
  updateFeedNote();
});

const STATUS_TEXT = {
  connecting: () => gettext("Conectando…"),
  online: () => gettext("Ao vivo"),
  offline: (status) =>
    interpolate(gettext("Sem conexão — nova tentativa em %(s)s s"), { s: formatInt(Math.ceil((status.retryInMs || 0) / 1000)) }),
  paused: () => gettext("Desconectado"),
};

let wasOffline = false;
function onLiveStatus(status) {
  statusNode.dataset.state = status.state;
  statusNode.querySelector(".status-text").textContent = STATUS_TEXT[status.state](status);
  if (status.state === "offline") wasOffline = true;
  if (status.state === "online" && wasOffline) {
    // Os eventos perdidos chegam pela retomada com cursor; os números são recarregados.
    wasOffline = false;
    loadOverview({ periodic: true });
  }
}

const live = new LiveFeed({
  path: config.ws,
  onEvent: onLiveEvent,
  onStatus: onLiveStatus,
  onResync: () => loadAll(),
  onDenied: () => reportError("session", "", { status: 401 }),
  onAlert: onLiveAlert,
  // A retomada não reenvia alertas: a cada reconexão, os abertos são relidos pela API.
  onHello: ({ reconnect }) => {
    if (reconnect) alertCenter.load(windowParams());
  },
});

// --- insight ---------------------------------------------------------------------------------

const insightButton = byId("insight-button");
const insightOutput = byId("insight-output");

function insightMeta(data) {
  const parts = [
    data.source === "openai"
      ? interpolate(gettext("Fonte: OpenAI (%(model)s)"), { model: data.model || "?" })
      : gettext("Fonte: motor offline"),
  ];
  const usage = data.usage || {};
  if (usage.costUsd !== undefined && usage.costUsd !== null) {
    parts.push(interpolate(gettext("custo: %(cost)s"), { cost: formatUsd(usage.costUsd) }));
  }
  if (usage.inputTokens || usage.outputTokens) {
    parts.push(
      interpolate(gettext("tokens: %(input)s entrada / %(output)s saída"), {
        input: formatInt(usage.inputTokens || 0),
        output: formatInt(usage.outputTokens || 0),
      }),
    );
  }
  if (data.cached) parts.push(gettext("do cache"));
  if (data.generatedAt) parts.push(interpolate(gettext("gerado às %(time)s"), { time: formatTime(data.generatedAt) }));
  return parts.join(" · ");
}

// Por que o motor offline respondeu (fallbackReason da API), em palavras do analista.
function insightFallbackText(reason) {
  switch (reason) {
    case null:
    case undefined:
      return "";
    case "no_api_key":
      return gettext("O servidor não tem chave da OpenAI configurada; o texto veio do motor offline.");
    case "not_permitted":
      return gettext(
        "Seu usuário não tem permissão para usar o modelo pago (OpenAI): ele é reservado à equipe e a quem recebe a permissão no admin. O texto veio do motor offline.",
      );
    case "budget_exhausted":
      return gettext("O orçamento diário de insights acabou; o texto veio do motor offline.");
    case "rate_limited":
      return gettext("Você pediu insights demais em pouco tempo; o texto veio do motor offline.");
    case "unverified_numbers":
      return gettext("O texto do modelo citou números que não estão nos dados e foi descartado; o texto veio do motor offline.");
    default:
      return gettext("O modelo não respondeu a tempo ou falhou; o texto veio do motor offline.");
  }
}

const insightRefresh = byId("insight-refresh");
const insightReason = byId("insight-reason");

function showInsightReason(reason) {
  const text = insightFallbackText(reason);
  insightReason.textContent = text;
  insightReason.hidden = !text;
}

async function generateInsight({ refresh }) {
  insightButton.disabled = true;
  insightRefresh.disabled = true;
  insightOutput.setAttribute("aria-busy", "true");
  insightOutput.replaceChildren(h("p", { className: "muted", text: gettext("Gerando insight…") }));
  setText("insight-meta", "");
  showInsightReason(null);
  try {
    const data = await send("POST", config.api.insights, windowParams(), {
      csrfToken: config.csrfToken,
      body: refresh ? { refresh: true } : undefined,
    });
    const paragraphs = String(data.text || "").split(/\n{2,}/).filter((part) => part.trim());
    insightOutput.replaceChildren(...paragraphs.map((part) => h("p", { text: part })));
    setText("insight-meta", insightMeta(data));
    showInsightReason(data.source === "offline" ? data.fallbackReason : null);
    insightRefresh.hidden = !data.cached;
  } catch (error) {
    const message =
      error.status === 404
        ? gettext("Insights ainda não estão disponíveis neste servidor.")
        : interpolate(gettext("Não foi possível gerar o insight: %(detail)s"), { detail: error.message });
    insightOutput.replaceChildren(h("p", { className: "alert alert-error", text: message }));
  } finally {
    insightButton.disabled = false;
    insightRefresh.disabled = false;
    insightOutput.removeAttribute("aria-busy");
  }
}

insightButton.addEventListener("click", () => generateInsight({ refresh: false }));
insightRefresh.addEventListener("click", () => generateInsight({ refresh: true }));

// --- início ------------------------------------------------------------------------------------

syncControls();
updateFeedNote();
live.setFilter({ types: state.type ? [state.type] : [], userId: state.userId });
live.start();
loadAll();
setInterval(() => {
  if (document.visibilityState === "visible") {
    loadOverview({ periodic: true });
    // Reconhecimentos feitos por colegas não chegam pelo feed: relidos aqui.
    alertCenter.load(windowParams());
  }
}, config.refreshSeconds * 1000);

// Ponto de inspeção para testes de navegador e depuração no console (``overview``: as
// últimas respostas de resumo e série que os KPIs e gráficos mostram).
Object.assign(window.traderMonitor, { live, state, loadOverview, loadTable: () => table.load(), alerts: alertCenter });
