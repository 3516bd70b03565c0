// Cartões de KPI com a variação (Δ) em relação ao período anterior: seta, cor e, no title do
// cartão, o valor anterior e a janela que ele cobre. O período anterior vem do servidor
// (summary?compare=previous → previous.window, events.windows.Window.previous): nada de
// recalcular janelas aqui.
import { h } from "./dom.js";
import { formatDateTime, formatPercent } from "./format.js";
import { gettext, interpolate } from "./i18n.js";

const ARROWS = { up: "▲", down: "▼", flat: "=" };

// trend: up | down | flat | none (sem base de comparação); ratio é nulo quando o anterior é 0.
export function kpiDelta(current, previous) {
  if (current === null || current === undefined || previous === null || previous === undefined) {
    return { trend: "none", diff: null, ratio: null };
  }
  const diff = current - previous;
  const trend = diff > 0 ? "up" : diff < 0 ? "down" : "flat";
  return { trend, diff, ratio: previous === 0 ? null : diff / Math.abs(previous) };
}

export function windowText(span) {
  if (!span) return "";
  return interpolate(gettext("%(from)s – %(to)s"), { from: formatDateTime(span.from), to: formatDateTime(span.to) });
}

// format: número → texto; formatDiff: diferença com sinal (usada quando o anterior é 0).
export function renderKpi({ valueNode, deltaNode, current, previous, previousWindow, format, formatDiff, prefix = "" }) {
  valueNode.textContent = prefix + format(current);
  const delta = kpiDelta(current, previous);
  const card = valueNode.closest(".kpi") || valueNode;
  deltaNode.dataset.trend = delta.trend;
  if (previous === undefined) {
    deltaNode.replaceChildren();
    card.removeAttribute("title");
    return delta;
  }
  card.title = interpolate(gettext("Período anterior (%(window)s): %(value)s"), {
    window: windowText(previousWindow),
    value: format(previous),
  });
  if (delta.trend === "none") {
    deltaNode.replaceChildren(h("span", { className: "muted", text: gettext("sem base de comparação") }));
    return delta;
  }
  const amount = delta.ratio === null ? formatDiff(delta.diff) : formatPercent(delta.ratio);
  deltaNode.replaceChildren(
    h("span", { className: "kpi-arrow", "aria-hidden": "true", text: ARROWS[delta.trend] }),
    " ",
    h("span", { className: "kpi-amount", text: amount }),
    h("span", { className: "visually-hidden", text: ` ${gettext("em relação ao período anterior")}` }),
  );
  return delta;
}
