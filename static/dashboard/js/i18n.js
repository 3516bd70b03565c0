// Traduções do Django (JavaScriptCatalog, carregado antes deste módulo).
// Sem o catálogo, os textos ficam no original em português.

export function gettext(msgid) {
  return typeof window.gettext === "function" ? window.gettext(msgid) : msgid;
}

export function ngettext(singular, plural, count) {
  if (typeof window.ngettext === "function") return window.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

// interpolate("%(n)s eventos", {n: 3}) — mesma sintaxe do catálogo do Django.
export function interpolate(fmt, values) {
  return fmt.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

export const locale = document.documentElement.lang || "pt-BR";
