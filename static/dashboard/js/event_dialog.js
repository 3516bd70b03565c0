// Diálogo de detalhe do evento (<dialog> nativo: Esc fecha, o foco volta a quem abriu).
// Todo dado entra por textContent; o userId leva à página do trader.
import { send } from "./api.js";
import { byId } from "./dom.js";
import { formatDateTime, formatValue } from "./format.js";
import { gettext, interpolate } from "./i18n.js";
import { traderHref } from "./event_table.js";

export class EventDialog {
  // onFilterUser(userId): botão "Ver eventos deste usuário" (só no painel).
  // onDeleted(event): a equipe excluiu o evento.
  constructor({ config, onFilterUser, onDeleted }) {
    this.config = config;
    this.dialog = byId("event-dialog");
    this.current = null;
    this.lastFocus = null;
    this.dialog.addEventListener("close", () => this.lastFocus?.focus?.());
    byId("event-dialog-close").addEventListener("click", () => this.dialog.close());
    byId("event-filter-user")?.addEventListener("click", () => {
      this.dialog.close();
      if (this.current) onFilterUser?.(this.current.userId);
    });
    byId("event-delete")?.addEventListener("click", () => this.remove(onDeleted));
  }

  open(event, opener) {
    this.current = event;
    this.lastFocus = opener || document.activeElement;
    const shown = {
      id: event.id,
      userId: event.userId,
      type: event.type,
      value: formatValue(event.value),
      timestamp: `${formatDateTime(event.timestamp)} (${event.timestamp})`,
      receivedAt: event.receivedAt ? `${formatDateTime(event.receivedAt)} (${event.receivedAt})` : "—",
    };
    for (const node of this.dialog.querySelectorAll("[data-field]")) node.textContent = shown[node.dataset.field] ?? "";
    byId("event-trader-link").href = traderHref(this.config, event.userId);
    byId("event-metadata").textContent =
      event.metadata === null || event.metadata === undefined ? gettext("Sem metadados.") : JSON.stringify(event.metadata, null, 2);
    byId("event-dialog-error").hidden = true;
    this.dialog.showModal();
    byId("event-dialog-close").focus();
  }

  async remove(onDeleted) {
    const event = this.current;
    if (!event || !window.confirm(gettext("Excluir este evento? Não dá para desfazer."))) return;
    try {
      await send("DELETE", `${this.config.api.events}/${encodeURIComponent(event.id)}`, null, { csrfToken: this.config.csrfToken });
      this.dialog.close();
      onDeleted?.(event);
    } catch (error) {
      const node = byId("event-dialog-error");
      node.textContent = interpolate(gettext("Não foi possível excluir: %(detail)s"), { detail: error.message });
      node.hidden = false;
    }
  }
}
