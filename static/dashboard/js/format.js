// Formatação de números e datas no idioma da página (Intl).
import { locale } from "./i18n.js";

const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
const usd = new Intl.NumberFormat(locale, { style: "currency", currency: "USD", maximumFractionDigits: 6 });
const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "medium" });
const time = new Intl.DateTimeFormat(locale, { timeStyle: "medium" });
const shortTime = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const dayMonth = new Intl.DateTimeFormat(locale, { day: "2-digit", month: "2-digit" });
const dayMonthTime = new Intl.DateTimeFormat(locale, { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });

const DASH = "—";

export function formatInt(value) {
  return value === null || value === undefined ? DASH : integer.format(value);
}

export function formatValue(value) {
  return value === null || value === undefined ? DASH : decimal.format(value);
}

export function formatCompact(value) {
  return value === null || value === undefined ? DASH : compact.format(value);
}

export function formatUsd(value) {
  return value === null || value === undefined ? DASH : usd.format(value);
}

export function formatDateTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : DASH;
}

export function formatTime(iso) {
  return iso ? time.format(new Date(iso)) : DASH;
}

// Rótulo de eixo conforme o tamanho do intervalo (segundos) e da janela.
export function formatTick(iso, intervalSeconds, spanSeconds) {
  const moment = new Date(iso);
  if (intervalSeconds >= 86400) return dayMonth.format(moment);
  if (spanSeconds > 86400) return dayMonthTime.format(moment);
  return shortTime.format(moment);
}

const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero" });
const signedDecimal = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: "exceptZero" });
const signedInteger = new Intl.NumberFormat(locale, { maximumFractionDigits: 0, signDisplay: "exceptZero" });

// Variação relativa (0.125 → "+12,5%").
export function formatPercent(ratio) {
  return ratio === null || ratio === undefined ? DASH : percent.format(ratio);
}

// Diferença com sinal, inteira ou com 2 casas ("+3", "−12,50").
export function formatSignedInt(value) {
  return value === null || value === undefined ? DASH : signedInteger.format(value);
}

export function formatSignedValue(value) {
  return value === null || value === undefined ? DASH : signedDecimal.format(value);
}
