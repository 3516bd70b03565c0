// Painel: liga filtros, KPIs, gráficos, tabela, feed ao vivo, detalhe e insight.
// Todo texto vindo da API entra no DOM por textContent (ver dom.js).
import { getJson, send } from "./api.js";
import { Charts } from "./charts.js";
import { byId, h, setText } from "./dom.js";
import { formatDateTime, formatInt, formatTime, formatUsd, formatValue } from "./format.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { LiveFeed } from "./live.js";
import { buildOverview, USER_SAMPLE_LIMIT } from "./overview.js";

const config = JSON.parse(byId("dashboard-config").textContent);
const state = { ...config.initial, page: 1 };
const requestSeq = { overview: 0, table: 0 };
const feed = { paused: false, buffer: [], pendingForTable: 0 };
let currentEvent = null;
let lastFocus = null;

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

// --- filtros --------------------------------------------------------------------

const form = byId("filters");
const rangeSelect = byId("filter-range");
const typeSelect = byId("filter-type");
const userInput = byId("filter-user");

function filterParams() {
  const params = { range: state.range };
  if (state.type) params.type = state.type;
  if (state.userId) params.userId = state.userId;
  return params;
}

function syncUrl() {
  const url = new URL(location.href);
  const defaults = { range: "24h", type: "", userId: "", sort: "-timestamp", limit: 25 };
  for (const key of Object.keys(defaults)) {
    if (state[key] === defaults[key] || state[key] === "") url.searchParams.delete(key);
    else url.searchParams.set(key, String(state[key]));
  }
  history.replaceState(null, "", url);
}

function syncControls() {
  rangeSelect.value = state.range;
  ensureTypeOption(state.type);
  typeSelect.value = state.type;
  userInput.value = state.userId;
  byId("page-size").value = String(state.limit);
  const notes = [];
  if (state.userId) {
    notes.push(interpolate(gettext("Usuário %(user)s: KPIs e gráficos somam os eventos dele no período."), { user: state.userId }));
  } else if (state.type) {
    notes.push(gettext("Com filtro de tipo, o gráfico mostra só a contagem e usuários ativos não se aplicam."));
  }
  setText("filter-note", notes.join(" "));
}

function ensureTypeOption(type) {
  if (!type || [...typeSelect.options].some((option) => option.value === type)) return;
  typeSelect.append(h("option", { value: type, text: type }));
}

function applyFilters(changes) {
  Object.assign(state, changes, { page: 1 });
  syncControls();
  syncUrl();
  live.setFilter({ types: state.type ? [state.type] : [], userId: state.userId });
  resetFeed();
  loadOverview();
  loadTable();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  applyFilters({ range: rangeSelect.value, type: typeSelect.value, userId: userInput.value.trim() });
});
rangeSelect.addEventListener("change", () => applyFilters({ range: rangeSelect.value }));
typeSelect.addEventListener("change", () => applyFilters({ type: typeSelect.value }));
byId("filters-clear").addEventListener("click", (event) => {
  event.preventDefault();
  applyFilters({ range: "24h", type: "", userId: "" });
});

// --- visão geral: KPIs, gráficos, tops ---------------------------------------------------

const charts = new Charts({
  seriesCanvas: byId("chart-series"),
  typesCanvas: byId("chart-types"),
  onTypeClick: (type) => applyFilters({ type: type === state.type ? "" : type }),
});

async function loadOverview() {
  const token = ++requestSeq.overview;
  const range = { range: state.range };
  const userParams = state.userId ? { ...filterParams(), limit: USER_SAMPLE_LIMIT, sort: "-timestamp" } : null;
  try {
    const [summary, series, userEvents] = await Promise.all([
      getJson(config.api.summary, { ...range, top: config.topUsers }),
      getJson(config.api.timeseries, range),
      userParams ? getJson(config.api.events, userParams) : Promise.resolve(null),
    ]);
    if (token !== requestSeq.overview) return;
    clearAlert("overview");
    renderOverview(buildOverview({ summary, series, filters: state, userEvents }), summary);
  } catch (error) {
    if (token === requestSeq.overview) reportError("overview", gettext("os indicadores"), error);
  }
}

function renderOverview(overview, summary) {
  const { kpis } = overview;
  const prefix = kpis.approximate ? "≈ " : "";
  setText("kpi-count", formatInt(kpis.count));
  setText("kpi-sum", prefix + formatValue(kpis.sum));
  setText("kpi-avg", prefix + formatValue(kpis.avg));
  setText("kpi-users", formatInt(kpis.activeUsers));
  setText(
    "kpi-avg-note",
    overview.purchaseAvgTicket !== null && overview.purchaseAvgTicket !== undefined
      ? interpolate(gettext("Compras: %(value)s"), { value: formatValue(overview.purchaseAvgTicket) })
      : "",
  );
  const updated = summary.computedAt ? formatTime(summary.computedAt) : formatTime(new Date().toISOString());
  setText("kpi-updated", interpolate(gettext("Atualizado às %(time)s"), { time: updated }));

  const types = (summary.byType || []).map((row) => row.type).sort();
  const current = typeSelect.value;
  typeSelect.replaceChildren(
    h("option", { value: "", text: gettext("Todos os tipos") }),
    ...types.map((type) => h("option", { value: type, text: type })),
  );
  ensureTypeOption(state.type);
  typeSelect.value = current;

  byId("user-suggestions").replaceChildren(
    ...overview.topByValue.map((row) => h("option", { value: row.userId })),
  );

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
        h("button", {
          type: "button",
          className: "link-button rank-user",
          text: row.userId,
          title: gettext("Ver eventos deste usuário"),
          onclick: () => applyFilters({ userId: row.userId === state.userId ? "" : row.userId }),
        }),
        h("span", { className: "rank-value", text: describe(row) }),
      ),
    ),
  );
}

// --- tabela ------------------------------------------------------------------------------

const tableBody = byId("events-table").tBodies[0];

async function loadTable() {
  const token = ++requestSeq.table;
  feed.pendingForTable = 0;
  byId("table-new").hidden = true;
  setText("table-status", gettext("Carregando…"));
  try {
    const data = await getJson(config.api.events, {
      ...filterParams(),
      page: state.page,
      limit: state.limit,
      sort: state.sort,
    });
    if (token !== requestSeq.table) return;
    clearAlert("table");
    renderTable(data);
  } catch (error) {
    if (token === requestSeq.table) {
      setText("table-status", "");
      reportError("table", gettext("os eventos"), error);
    }
  }
}

function eventRow(event) {
  return h(
    "tr",
    { dataset: { id: event.id } },
    h("td", { text: formatDateTime(event.timestamp) }),
    h(
      "td",
      { className: "cell-user" },
      h("button", {
        type: "button",
        className: "link-button",
        text: event.userId,
        title: gettext("Ver eventos deste usuário"),
        onclick: () => applyFilters({ userId: event.userId }),
      }),
    ),
    h("td", { text: event.type }),
    h("td", { className: "num", text: formatValue(event.value) }),
    h(
      "td",
      {},
      h("button", {
        type: "button",
        className: "button-secondary",
        text: gettext("Detalhes"),
        "aria-label": interpolate(gettext("Detalhes do evento %(type)s de %(user)s"), { type: event.type, user: event.userId }),
        onclick: (click) => openDetail(event, click.currentTarget),
      }),
    ),
  );
}

function renderTable(data) {
  const total = data.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / state.limit));
  if (state.page > pages && total > 0) {
    state.page = pages;
    loadTable();
    return;
  }
  if (data.results.length) tableBody.replaceChildren(...data.results.map(eventRow));
  else tableBody.replaceChildren(h("tr", {}, h("td", { colspan: 5, className: "muted", text: gettext("Nenhum evento com esses filtros.") })));
  setText(
    "table-status",
    interpolate(ngettext("%(n)s evento", "%(n)s eventos", total), { n: formatInt(total) }),
  );
  setText("page-info", interpolate(gettext("Página %(page)s de %(pages)s"), { page: formatInt(state.page), pages: formatInt(pages) }));
  byId("page-prev").disabled = state.page <= 1;
  byId("page-next").disabled = state.page >= pages;
  const [sortField, direction] = state.sort.startsWith("-") ? [state.sort.slice(1), "descending"] : [state.sort, "ascending"];
  for (const th of document.querySelectorAll("#events-table th[data-sort]")) {
    if (th.dataset.sort === sortField) th.setAttribute("aria-sort", direction);
    else th.removeAttribute("aria-sort");
  }
}

byId("page-prev").addEventListener("click", () => {
  state.page = Math.max(1, state.page - 1);
  loadTable();
});
byId("page-next").addEventListener("click", () => {
  state.page += 1;
  loadTable();
});
byId("page-size").addEventListener("change", (event) => {
  state.limit = Number(event.target.value);
  state.page = 1;
  syncUrl();
  loadTable();
});
for (const button of document.querySelectorAll("#events-table .sort-button")) {
  button.addEventListener("click", () => {
    const field = button.dataset.sort;
    state.sort = state.sort === `-${field}` ? field : `-${field}`;
    state.page = 1;
    syncUrl();
    loadTable();
  });
}
byId("table-new").addEventListener("click", () => loadTable());

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
      { type: "button", onclick: (click) => openDetail(event, click.currentTarget) },
      h("span", { className: "feed-time", text: formatTime(event.timestamp) }),
      h("span", { className: "feed-main" }, h("strong", { text: event.type }), " · ", event.userId),
      h("span", { className: "feed-value", text: formatValue(event.value) }),
    ),
  );
}

function prependToFeed(events) {
  for (const event of events) {
    if (feedList.querySelector(`li[data-id="${CSS.escape(event.id)}"]`)) continue;
    feedList.prepend(feedItem(event, true));
  }
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
  if (state.page === 1 && state.sort === "-timestamp") {
    feed.pendingForTable += 1;
    const button = byId("table-new");
    button.textContent = interpolate(
      ngettext("%(n)s evento novo — atualizar tabela", "%(n)s eventos novos — atualizar tabela", feed.pendingForTable),
      { n: formatInt(feed.pendingForTable) },
    );
    button.hidden = false;
  }
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
    loadOverview();
  }
}

const live = new LiveFeed({
  path: config.ws,
  onEvent: onLiveEvent,
  onStatus: onLiveStatus,
  onResync: () => {
    loadOverview();
    loadTable();
  },
  onDenied: () => reportError("session", "", { status: 401 }),
});

// --- detalhe do evento --------------------------------------------------------------------

const dialog = byId("event-dialog");

function openDetail(event, opener) {
  currentEvent = event;
  lastFocus = opener || document.activeElement;
  const shown = {
    id: event.id,
    userId: event.userId,
    type: event.type,
    value: formatValue(event.value),
    timestamp: `${formatDateTime(event.timestamp)} (${event.timestamp})`,
    receivedAt: event.receivedAt ? `${formatDateTime(event.receivedAt)} (${event.receivedAt})` : "—",
  };
  for (const node of dialog.querySelectorAll("[data-field]")) node.textContent = shown[node.dataset.field] ?? "";
  byId("event-metadata").textContent =
    event.metadata === null || event.metadata === undefined ? gettext("Sem metadados.") : JSON.stringify(event.metadata, null, 2);
  byId("event-dialog-error").hidden = true;
  dialog.showModal();
  byId("event-dialog-close").focus();
}

dialog.addEventListener("close", () => lastFocus?.focus?.());
byId("event-dialog-close").addEventListener("click", () => dialog.close());
byId("event-filter-user").addEventListener("click", () => {
  dialog.close();
  if (currentEvent) applyFilters({ userId: currentEvent.userId });
});
byId("event-delete")?.addEventListener("click", async () => {
  if (!currentEvent || !window.confirm(gettext("Excluir este evento? Não dá para desfazer."))) return;
  try {
    await send("DELETE", `${config.api.events}/${encodeURIComponent(currentEvent.id)}`, null, { csrfToken: config.csrfToken });
    feedList.querySelector(`li[data-id="${CSS.escape(currentEvent.id)}"]`)?.remove();
    dialog.close();
    loadTable();
    loadOverview();
  } catch (error) {
    const node = byId("event-dialog-error");
    node.textContent = interpolate(gettext("Não foi possível excluir: %(detail)s"), { detail: error.message });
    node.hidden = false;
  }
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
    const data = await send("POST", config.api.insights, { range: state.range }, {
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
loadOverview();
loadTable();
setInterval(() => {
  if (document.visibilityState === "visible") loadOverview();
}, config.refreshSeconds * 1000);

// Ponto de inspeção para testes de navegador e depuração no console.
window.traderMonitor = { live, state, loadOverview, loadTable };
