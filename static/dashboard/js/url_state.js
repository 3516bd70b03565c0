// Filtros da página ⇄ URL: uma visão pode ser guardada, compartilhada e percorrida com voltar/avançar.
//
// A URL leva só o que difere do padrão (?range=…&type=…&userId=…&from=…&to=…&sort=…&limit=…).
// Quem valida é o servidor (ao abrir a página, dashboard/filters.py) e a API (a cada pedido):
// aqui não se interpreta período nenhum, só se copia texto entre o estado e a URL.

export const URL_KEYS = ["range", "from", "to", "type", "userId", "sort", "limit"];

function blank(value) {
  return value === undefined || value === null || value === "";
}

export function readUrlState(search, defaults, keys = URL_KEYS) {
  const params = new URLSearchParams(search);
  const state = {};
  for (const key of keys) {
    const raw = params.get(key);
    state[key] = blank(raw) ? defaults[key] : raw;
  }
  // Janela explícita (from/to) substitui o período pronto.
  if (keys.includes("range") && (params.get("from") || params.get("to"))) state.range = "";
  if (keys.includes("limit")) state.limit = Number(state.limit) || defaults.limit;
  return state;
}

export function urlForState(state, defaults, keys = URL_KEYS, href = window.location.href) {
  const url = new URL(href);
  for (const key of keys) {
    const value = state[key];
    if (blank(value) || String(value) === String(defaults[key] ?? "")) url.searchParams.delete(key);
    else url.searchParams.set(key, String(value));
  }
  return url;
}

export class UrlState {
  // onNavigate(state): voltar/avançar do navegador trouxe outra visão.
  constructor({ defaults, keys = URL_KEYS, onNavigate }) {
    this.defaults = defaults;
    this.keys = keys;
    window.addEventListener("popstate", () => onNavigate(this.read()));
  }

  read() {
    return readUrlState(window.location.search, this.defaults, this.keys);
  }

  // Uma visão nova (filtros): entra no histórico.
  push(state) {
    const url = urlForState(state, this.defaults, this.keys);
    if (url.href !== window.location.href) window.history.pushState(null, "", url);
  }

  // Ajuste da mesma visão (ordenação, tamanho da página): troca a entrada atual.
  replace(state) {
    window.history.replaceState(null, "", urlForState(state, this.defaults, this.keys));
  }
}
