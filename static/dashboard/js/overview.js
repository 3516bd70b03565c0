// Modelo da visão geral (KPIs com o período anterior, série, por tipo, tops) a partir das
// respostas da API. Resumo e série já vêm exatos para os filtros da página (type, userId e a
// janela): nada é estimado aqui.
//
// O painel "Por tipo" mostra todos os tipos com os demais filtros (typesSummary, sem o filtro
// de tipo), com o tipo escolhido em destaque: é por ele que se troca de tipo.

export function kpisOf(totals) {
  if (!totals) return undefined;
  return { count: totals.count, sum: totals.sum, avg: totals.avgTicket, activeUsers: totals.activeUsers };
}

export function buildOverview({ summary, series, typesSummary, filters }) {
  return {
    kpis: kpisOf(summary.totals),
    previous: kpisOf(summary.previous?.totals),
    previousWindow: summary.previous?.window,
    purchaseAvgTicket: filters.type ? null : summary.totals.purchaseAvgTicket,
    points: series.points.map((point) => ({ t: point.t, count: point.count, sum: point.sum })),
    interval: series.interval,
    window: series.window,
    types: (typesSummary || summary).byType || [],
    topByValue: summary.topUsersByValue || [],
    topByCount: summary.topUsersByCount || [],
  };
}

// Linhas por tipo com a contagem do período anterior (0 quando o tipo não apareceu nele).
export function typesWithPrevious(summary) {
  const before = new Map((summary.previous?.byType || []).map((row) => [row.type, row]));
  return (summary.byType || []).map((row) => ({ ...row, previousCount: before.get(row.type)?.count ?? 0 }));
}
