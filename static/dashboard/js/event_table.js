// Tabela de eventos paginada (API /api/events), com ordenação e eventos ao vivo.
// Usada pelo painel e pela página do trader; os ids dos elementos são os mesmos nas duas.
import { getJson } from "./api.js";
import { byId, h, setText } from "./dom.js";
import { formatDateTime, formatInt, formatValue } from "./format.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

export function traderHref(config, userId) {
  return config.traderUrl + encodeURIComponent(userId);
}

// Um evento ao vivo só entra na visão se cair na janela escolhida: um período pronto
// termina agora, mas uma janela de/até no passado não cresce.
export function withinWindow(event, { from, to }) {
  const moment = Date.parse(event.timestamp);
  return (!from || moment >= Date.parse(from)) && (!to || moment < Date.parse(to));
}

export class EventTable {
  // filterParams(): filtros atuais da página (range/from/to, type, userId).
  // live: "prepend" põe eventos novos no topo da página 1; "notify" só avisa e oferece recarregar.
  // onChange(): ordenação ou tamanho de página mudou (a página guarda na URL).
  // onRefresh(): "atualizar tabela" depois de eventos novos (a página recarrega tudo junto).
  // onWindow(window): a janela exata que a listagem cobriu (``window`` da resposta).
  // onRows(body): linhas novas na tabela (a página marca as que têm alerta).
  constructor({ config, filterParams, showUser, live, onDetails, onError, onLoaded, onChange, onRefresh, onWindow, onRows }) {
    Object.assign(this, {
      config,
      filterParams,
      showUser,
      live,
      onDetails,
      onError,
      onLoaded,
      onChange,
      onRefresh,
      onWindow,
      onRows,
    });
    // Outra origem das linhas (filtro por alerta, no cliente): ({page, limit, sort}) → {results, total}.
    this.source = null;
    this.table = byId("events-table");
    this.body = this.table.tBodies[0];
    this.newButton = byId("table-new");
    this.page = 1;
    this.limit = config.initial.limit;
    this.sort = config.initial.sort;
    this.total = 0;
    this.pending = 0;
    this.seq = 0;

    byId("page-prev").addEventListener("click", () => this.goTo(this.page - 1));
    byId("page-next").addEventListener("click", () => this.goTo(this.page + 1));
    byId("page-size").addEventListener("change", (event) => {
      this.limit = Number(event.target.value);
      this.page = 1;
      this.onChange?.();
      this.load();
    });
    for (const button of this.table.querySelectorAll(".sort-button")) {
      button.addEventListener("click", () => {
        const field = button.dataset.sort;
        this.sort = this.sort === `-${field}` ? field : `-${field}`;
        this.page = 1;
        this.onChange?.();
        this.load();
      });
    }
    this.newButton.addEventListener("click", () => (this.onRefresh ? this.onRefresh() : this.load()));
  }

  // Ordenação e tamanho vindos da URL (voltar/avançar).
  setView({ sort, limit }) {
    this.sort = sort;
    this.limit = limit;
    byId("page-size").value = String(limit);
  }

  // Troca a origem das linhas (``null`` volta à listagem da API) e recarrega da página 1.
  setSource(source) {
    this.source = source;
    return this.reset();
  }

  goTo(page) {
    this.page = Math.max(1, page);
    this.load();
  }

  reset() {
    this.page = 1;
    return this.load();
  }

  // Os filtros mudaram e a tabela será recarregada (depois do resumo, que fixa a janela):
  // já avisa que o conteúdo atual vai mudar.
  markLoading() {
    this.seq += 1;
    setText("table-status", gettext("Carregando…"));
    this.table.setAttribute("aria-busy", "true");
  }

  async load() {
    const token = ++this.seq;
    this.pending = 0;
    this.newButton.hidden = true;
    setText("table-status", gettext("Carregando…"));
    this.table.setAttribute("aria-busy", "true");
    try {
      const data = this.source
        ? await this.source({ page: this.page, limit: this.limit, sort: this.sort })
        : await getJson(this.config.api.events, {
            ...this.filterParams(),
            page: this.page,
            limit: this.limit,
            sort: this.sort,
          });
      if (token !== this.seq) return;
      this.onWindow?.(data.window);
      this.render(data);
      this.onLoaded?.();
    } catch (error) {
      if (token === this.seq) {
        setText("table-status", "");
        this.onError?.(error);
      }
    } finally {
      if (token === this.seq) this.table.removeAttribute("aria-busy");
    }
  }

  row(event, fresh = false) {
    const cells = [h("td", { text: formatDateTime(event.timestamp) })];
    if (this.showUser) {
      cells.push(
        h(
          "td",
          { className: "cell-user" },
          h("a", {
            href: traderHref(this.config, event.userId),
            text: event.userId,
            title: gettext("Abrir a página deste trader"),
          }),
        ),
      );
    }
    cells.push(
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
          onclick: (click) => this.onDetails(event, click.currentTarget),
        }),
      ),
    );
    return h("tr", { className: fresh ? "is-new" : null, dataset: { id: event.id } }, ...cells);
  }

  get columns() {
    return this.showUser ? 5 : 4;
  }

  render(data) {
    this.total = data.total ?? 0;
    const pages = this.pages();
    if (this.page > pages && this.total > 0) {
      this.page = pages;
      this.load();
      return;
    }
    if (data.results.length) this.body.replaceChildren(...data.results.map((event) => this.row(event)));
    else this.showEmpty();
    this.onRows?.(this.body);
    this.renderFooter();
    const [field, direction] = this.sort.startsWith("-") ? [this.sort.slice(1), "descending"] : [this.sort, "ascending"];
    for (const th of this.table.querySelectorAll("th[data-sort]")) {
      if (th.dataset.sort === field) th.setAttribute("aria-sort", direction);
      else th.removeAttribute("aria-sort");
    }
  }

  showEmpty() {
    this.body.replaceChildren(
      h("tr", {}, h("td", { colspan: this.columns, className: "muted", text: gettext("Nenhum evento com esses filtros.") })),
    );
  }

  pages() {
    return Math.max(1, Math.ceil(this.total / this.limit));
  }

  renderFooter() {
    const pages = this.pages();
    setText("table-status", interpolate(ngettext("%(n)s evento", "%(n)s eventos", this.total), { n: formatInt(this.total) }));
    setText("page-info", interpolate(gettext("Página %(page)s de %(pages)s"), { page: formatInt(this.page), pages: formatInt(pages) }));
    byId("page-prev").disabled = this.page <= 1;
    byId("page-next").disabled = this.page >= pages;
  }

  // Evento ao vivo que passa nos filtros da página.
  addLive(event) {
    // Filtrada por alerta, a tabela mostra um conjunto fechado: nada entra ao vivo.
    if (this.source) return;
    const onTop = this.page === 1 && this.sort === "-timestamp";
    if (onTop && this.live === "prepend") {
      if (this.body.querySelector(`tr[data-id="${CSS.escape(event.id)}"]`)) return;
      if (!this.body.querySelector("tr[data-id]")) this.body.replaceChildren();
      this.body.prepend(this.row(event, true));
      while (this.body.rows.length > this.limit) this.body.lastElementChild.remove();
      this.onRows?.(this.body);
      this.total += 1;
      this.renderFooter();
      return;
    }
    if (!onTop) return;
    this.pending += 1;
    this.newButton.textContent = interpolate(
      ngettext("%(n)s evento novo — atualizar tabela", "%(n)s eventos novos — atualizar tabela", this.pending),
      { n: formatInt(this.pending) },
    );
    this.newButton.hidden = false;
  }

  removeRow(eventId) {
    this.body.querySelector(`tr[data-id="${CSS.escape(eventId)}"]`)?.remove();
  }
}
