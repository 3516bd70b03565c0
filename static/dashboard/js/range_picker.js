// Seletor de período: os prontos (RANGE_PRESETS de events/windows.py, vindos do servidor no
// HTML e no json_script) ou uma janela de/até. Os campos datetime-local usam a hora local do
// navegador; a URL e a API recebem ISO-8601 em UTC.
import { gettext } from "./i18n.js";

export const CUSTOM = "custom";

function pad(number) {
  return String(number).padStart(2, "0");
}

// "2026-11-29T12:00:00.000Z" → "2026-11-29T09:00:00" (em UTC−3).
export function toLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

// Sem fuso, data e hora são lidas como hora local (ECMAScript); sai em UTC.
export function fromLocalInput(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

export class RangePicker {
  // onPreset(range): um período pronto foi escolhido (aplica na hora). A janela de/até
  // só vale ao enviar o formulário (os dois campos precisam estar preenchidos).
  constructor({ select, custom, fromInput, toInput, onPreset }) {
    Object.assign(this, { select, custom, fromInput, toInput });
    select.addEventListener("change", () => {
      this.syncCustom();
      if (select.value !== CUSTOM) onPreset(select.value);
    });
    const check = () => this.validate();
    fromInput.addEventListener("input", check);
    toInput.addEventListener("input", check);
  }

  set({ range, from, to }) {
    if (range && ![...this.select.options].some((option) => option.value === range)) {
      this.select.add(new Option(range, range), this.select.options.length - 1);
    }
    this.select.value = range || CUSTOM;
    this.fromInput.value = toLocalInput(from);
    this.toInput.value = toLocalInput(to);
    this.syncCustom();
  }

  get() {
    if (this.select.value !== CUSTOM) return { range: this.select.value, from: "", to: "" };
    return { range: "", from: fromLocalInput(this.fromInput.value), to: fromLocalInput(this.toInput.value) };
  }

  syncCustom() {
    const custom = this.select.value === CUSTOM;
    this.custom.hidden = !custom;
    // Com "de/até" escolhido, o navegador não envia o formulário sem o início.
    this.fromInput.required = custom;
    this.validate();
  }

  validate() {
    const { from, to } = this.get();
    const backwards = this.select.value === CUSTOM && from && to && Date.parse(to) <= Date.parse(from);
    this.toInput.setCustomValidity(backwards ? gettext("O fim precisa ser depois do início.") : "");
  }
}
