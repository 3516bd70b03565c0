// Modelo da visão geral (KPIs, série, por tipo) a partir das respostas da API,
// aplicando os filtros de tipo e usuário.
//
// O resumo (/api/events/summary) vem dos rollups, por período; eles guardam
// tipo e usuário em separado. Então:
// - filtro de tipo: números exatos da linha do tipo (byType) e da série por tipo;
//   usuários ativos por tipo não existem nos rollups (mostramos "—");
// - filtro de usuário: somamos os eventos do usuário no período (listagem, até
//   USER_SAMPLE_LIMIT); acima disso o valor é marcado como aproximado.

export const USER_SAMPLE_LIMIT = 500;

function emptyKpis() {
  return { count: 0, sum: 0, avg: null, activeUsers: 0, approximate: false };
}

export function buildOverview({ summary, series, filters, userEvents }) {
  const byType = summary.byType || [];
  let kpis;
  let points = series.points.map((point) => ({ t: point.t, count: point.count, sum: point.sum }));
  let types = byType;

  if (filters.userId && userEvents) {
    kpis = emptyKpis();
    const events = userEvents.results;
    kpis.count = userEvents.total ?? events.length;
    kpis.sum = events.reduce((total, event) => total + event.value, 0);
    kpis.approximate = kpis.count > events.length;
    kpis.avg = events.length ? kpis.sum / events.length : null;
    kpis.activeUsers = kpis.count > 0 ? 1 : 0;
    points = bucketEvents(events, series);
    types = groupByType(events);
  } else if (filters.type) {
    const row = byType.find((item) => item.type === filters.type);
    kpis = {
      count: row ? row.count : 0,
      sum: row ? row.sum : 0,
      avg: row ? row.avg : null,
      activeUsers: null,
      approximate: false,
    };
    points = series.points.map((point) => ({ t: point.t, count: point.byType?.[filters.type] || 0, sum: null }));
  } else {
    const totals = summary.totals;
    kpis = {
      count: totals.count,
      sum: totals.sum,
      avg: totals.avgTicket,
      activeUsers: totals.activeUsers,
      approximate: false,
    };
  }
  return {
    kpis,
    purchaseAvgTicket: filters.type || filters.userId ? null : summary.totals.purchaseAvgTicket,
    points,
    interval: series.interval,
    window: series.window,
    types,
    topByValue: summary.topUsersByValue || [],
    topByCount: summary.topUsersByCount || [],
  };
}

export function bucketEvents(events, series) {
  const points = series.points.map((point) => ({ t: point.t, count: 0, sum: 0, start: Date.parse(point.t) }));
  const step = series.interval * 1000;
  for (const event of events) {
    const moment = Date.parse(event.timestamp);
    const index = points.length ? Math.floor((moment - points[0].start) / step) : -1;
    if (index >= 0 && index < points.length) {
      points[index].count += 1;
      points[index].sum += event.value;
    }
  }
  return points.map(({ t, count, sum }) => ({ t, count, sum }));
}

export function groupByType(events) {
  const groups = new Map();
  for (const event of events) {
    const row = groups.get(event.type) || { type: event.type, count: 0, sum: 0 };
    row.count += 1;
    row.sum += event.value;
    groups.set(event.type, row);
  }
  return [...groups.values()]
    .map((row) => ({ ...row, avg: row.count ? row.sum / row.count : null }))
    .sort((a, b) => b.count - a.count || a.type.localeCompare(b.type));
}
