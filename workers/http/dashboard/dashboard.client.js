/*
 * The monitoring dashboard, in the browser: plain DOM and uPlot, no framework, no CDN. Every
 * number comes from the API with the user's own token. The view is the address's fragment:
 * #/models/<name>/<tab>?window=24h, #/jobs, #/alerts. Open views refresh every minute.
 */
(() => {
  const $ = (id) => document.getElementById(id);
  const WINDOWS = ['1h', '6h', '24h', '7d', '30d'];
  const TABS = [
    ['overview', 'Overview'],
    ['drift', 'Drift'],
    ['predictions', 'Predictions'],
    ['errors', 'Errors'],
    ['alerts', 'Alerts'],
    ['rollouts', 'Rollouts'],
  ];
  const REFRESH_MS = 60_000;
  const PALETTE = ['#f38020', '#2e90fa', '#12b76a', '#7a5af8', '#d92d20', '#667085', '#f79009', '#0e9384'];
  const COLORS = { p50: '#2e90fa', p95: '#f79009', p99: '#d92d20', hit: '#12b76a', psi: '#7a5af8', ks: '#2e90fa' };
  const state = {
    token: sessionStorage.getItem('modelflare.token'),
    workspace: sessionStorage.getItem('modelflare.workspace') || '',
    models: [],
    ticket: 0,
  };

  // ── the API ─────────────────────────────────────────────────────────────────────────────
  async function request(path, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (state.token) headers.authorization = `Bearer ${state.token}`;
    if (state.workspace) headers['modelflare-workspace'] = state.workspace;
    const res = await fetch(path, { ...init, headers });
    if (!res.ok) {
      const text = await res.text();
      let body = null;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the status says it
      }
      const message = typeof body?.error === 'string' ? body.error : body?.error?.message || res.statusText;
      throw Object.assign(new Error(message), { status: res.status, code: body?.error?.code });
    }
    return res;
  }
  const api = async (path, init) => {
    const text = await (await request(path, init)).text();
    return text ? JSON.parse(text) : null;
  };
  const enc = encodeURIComponent;

  // ── formatting ──────────────────────────────────────────────────────────────────────────
  const pad = (n) => String(n).padStart(2, '0');
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  /** A bucket size as people say it: 1 min, 15 min, 2 h, 1 day. */
  const stepText = (minutes) =>
    minutes < 60 ? `${minutes} min` : minutes < 1440 ? `${minutes / 60} h` : `${minutes / 1440} day`;
  /** Time axis labels in the viewer's time, 24-hour: times within two days, else dates. */
  const timeLabels = (spanMs) => (u, splits) =>
    splits.map((s) => {
      const d = new Date(s * 1000);
      const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
      if (spanMs <= 2 * 86_400_000) return hm;
      const day = `${d.getDate()} ${MONTHS[d.getMonth()]}`;
      return d.getHours() === 0 && d.getMinutes() === 0 ? day : `${day} ${hm}`;
    });
  const none = (n) => n === null || n === undefined || Number.isNaN(n);
  const fmt = {
    int: (n) => (none(n) ? '–' : Math.round(n).toLocaleString('en-US')),
    pct: (n) => (none(n) ? '–' : `${(n * 100).toFixed(n > 0 && n < 0.01 ? 2 : 1)}%`),
    ms: (n) => (none(n) ? '–' : `${n < 10 ? n.toFixed(2) : Math.round(n).toLocaleString('en-US')} ms`),
    num: (n) => (none(n) ? '–' : Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3)),
    time: (iso) => {
      if (!iso) return '–';
      const d = new Date(iso);
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    },
    ago: (iso) => {
      if (!iso) return '–';
      const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
      if (s < 90) return `${s} s ago`;
      if (s < 5400) return `${Math.round(s / 60)} min ago`;
      if (s < 129600) return `${Math.round(s / 3600)} h ago`;
      return `${Math.round(s / 86400)} d ago`;
    },
    json: (v) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v)),
  };

  /*
   * Axis ticks at round values (1, 2 or 5 times a power of ten), labelled with as many decimals
   * as the step needs: 0, 2, 4, 6 rather than 0, 3, 5, 8.
   */
  function niceStep(span, most, integer) {
    if (!(span > 0)) return integer ? 1 : 0.1;
    const raw = span / most;
    const power = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
    return integer ? Math.max(1, Math.round(step)) : step;
  }
  function niceTicks(min, max, integer, most = 5) {
    const step = niceStep(max - min, most, integer);
    const ticks = [];
    for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) {
      ticks.push(Number(v.toFixed(12)));
    }
    return ticks;
  }
  const decimalsOf = (step) => Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  function tickLabels(ticks, kind) {
    const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
    if (kind === 'pct') {
      const d = decimalsOf(step * 100);
      return ticks.map((t) => `${(t * 100).toFixed(d)}%`);
    }
    const d = decimalsOf(step);
    return ticks.map((t) => (d === 0 ? Math.round(t).toLocaleString('en-US') : t.toFixed(d)));
  }
  /** A y scale from 0 (or below, for data below it) to a round top above the data and any line drawn. */
  function niceRange(kind, lines = []) {
    return (u, min, max) => {
      if (kind === 'pct') return [0, 1];
      const top = Math.max(max > 0 ? max : 0, ...lines.map((l) => l.value)) || 1;
      const lo = min < 0 ? min : 0;
      const step = niceStep(top - lo, 4, kind === 'int');
      return [lo < 0 ? Math.floor(lo / step) * step : 0, Math.ceil((top * 1.05) / step) * step];
    };
  }

  // ── DOM helpers ─────────────────────────────────────────────────────────────────────────
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
    return node;
  }
  const card = (label, value, key) =>
    el(
      'div',
      { class: 'card', 'data-card': key },
      el('div', { class: 'label' }, label),
      el('div', { class: 'value' }, value),
    );
  const badge = (text, tone = '') => el('span', { class: `badge ${tone}` }, text);
  const panel = (id, title, ...children) =>
    el('div', { class: 'panel', id: `panel-${id}`, 'data-panel': id }, el('h3', {}, title), ...children);
  const emptyRow = (cols, text) => el('tr', {}, el('td', { colspan: String(cols), class: 'muted' }, text));
  /** A table that scrolls sideways on a narrow screen; `rows` are its tbody's, or the tbody itself. */
  function table(id, headers, rows) {
    const head = el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map(([h, cls]) => el('th', { class: cls }, h)),
      ),
    );
    const body = rows?.tagName === 'TBODY' ? rows : el('tbody', {}, rows);
    return el('div', { class: 'scroll' }, el('table', { 'data-table': id }, head, body));
  }
  const stateBadge = (s) => badge(s, s === 'firing' ? 'bad' : s === 'ok' ? '' : 'none');
  const JOB_TONES = {
    succeeded: '',
    partially_failed: 'busy',
    failed: 'bad',
    cancelled: 'none',
    queued: 'none',
    running: 'busy',
  };

  // ── charts ──────────────────────────────────────────────────────────────────────────────
  function chartWidth(box) {
    return Math.max(260, box.clientWidth - 24);
  }

  /** Draws on a chart's canvas with the lines and labels of its thresholds and marks, then puts the pen back. */
  function drawOn(u, baseline, draw) {
    const ctx = u.ctx;
    const px = uPlot.pxRatio;
    ctx.save();
    ctx.lineWidth = 1.5 * px;
    ctx.font = `${11 * px}px system-ui, sans-serif`;
    // uPlot leaves the alignment of its last axis label behind.
    ctx.textAlign = 'left';
    ctx.textBaseline = baseline;
    draw(ctx, px);
    ctx.restore();
  }

  /**
   * Dashed lines across the plot at thresholds (drift's, alert rules'), each labelled; the panel
   * lists them in data-lines.
   */
  function thresholdLines(box, lines) {
    box.dataset.lines = lines.map((l) => l.label).join(',');
    return (u) =>
      drawOn(u, 'bottom', (ctx, px) => {
        for (const line of lines) {
          const y = Math.round(u.valToPos(line.value, 'y', true));
          if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
          ctx.strokeStyle = ctx.fillStyle = line.color;
          ctx.setLineDash((line.dash ?? [6, 4]).map((d) => d * px));
          ctx.beginPath();
          ctx.moveTo(u.bbox.left, y);
          ctx.lineTo(u.bbox.left + u.bbox.width, y);
          ctx.stroke();
          ctx.fillText(line.label, u.bbox.left + 6 * px, y - 4 * px);
        }
      });
  }

  /**
   * Dotted vertical lines at moments (a rollout's steps, its rollback), labelled at the top; where
   * labels would overlap, the later moment's is the one written.
   */
  function eventMarks(marks) {
    return (u) =>
      drawOn(u, 'top', (ctx, px) => {
        let leftmost = Infinity;
        for (const mark of [...marks].sort((a, b) => b.at - a.at)) {
          const x = Math.round(u.valToPos(mark.at / 1000, 'x', true));
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.strokeStyle = ctx.fillStyle = mark.color;
          ctx.setLineDash([2 * px, 3 * px]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          // Near the right edge the label goes to the left of its line.
          const width = ctx.measureText(mark.label).width;
          const start = x > u.bbox.left + u.bbox.width * 0.75 ? x - 4 * px - width : x + 4 * px;
          if (start + width + 6 * px > leftmost) continue;
          ctx.fillText(mark.label, start, u.bbox.top + 2 * px);
          leftmost = start;
        }
      });
  }

  /** The y axis: round ticks, recorded in data-y-ticks as drawn. */
  const yAxis = (box, kind, label) => ({
    label,
    size: 60,
    splits: (u) => niceTicks(u.scales.y.min, u.scales.y.max, kind === 'int'),
    values: (u, ticks) => {
      const labels = tickLabels(ticks, kind);
      box.dataset.yTicks = labels.join(',');
      return labels;
    },
  });

  /**
   * A time chart over [from, to] (ms): one line per series, nulls are gaps, `lines` dashed
   * across. The panel says what it drew (data-points, data-series, data-window, data-y-ticks).
   */
  function timeChart(box, { from, to, xs, series, kind, label, lines = [], marks = [] }) {
    const points = series.reduce((n, s) => n + s.values.filter((v) => !none(v)).length, 0);
    box.dataset.points = String(points);
    box.dataset.series = series.map((s) => s.label).join(',');
    box.dataset.window = `${from}/${to}`;
    if (marks.length) box.dataset.marks = marks.map((m) => m.label).join(',');
    if (points === 0) return box.append(el('div', { class: 'empty' }, 'No data in this window.'));
    const holder = el('div');
    box.append(holder);
    const chart = new uPlot(
      {
        width: chartWidth(box),
        height: 200,
        legend: { show: true },
        cursor: { points: { show: false } },
        scales: { x: { time: true, range: () => [from / 1000, to / 1000] }, y: { range: niceRange(kind, lines) } },
        axes: [{ space: 60, values: timeLabels(to - from) }, yAxis(box, kind, label)],
        hooks: { draw: [thresholdLines(box, lines), eventMarks(marks)] },
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            dash: s.dash,
            width: 2,
            spanGaps: false,
            points: { show: s.values.filter((v) => !none(v)).length < 40, size: 5 },
            value: (u, v) => (none(v) ? '–' : kind === 'pct' ? fmt.pct(v) : kind === 'ms' ? fmt.ms(v) : fmt.num(v)),
          })),
        ],
      },
      [xs.map((x) => x / 1000), ...series.map((s) => s.values)],
      holder,
    );
    box.uplot = chart;
  }

  /** Bars per feature (the latest drift report), with the thresholds as dashed lines. */
  function featureChart(box, report) {
    const names = report ? report.features.map((f) => f.name) : [];
    box.dataset.points = String(names.length);
    box.dataset.features = names.join(',');
    if (names.length === 0) return box.append(el('div', { class: 'empty' }, 'No drift report yet.'));
    const holder = el('div');
    box.append(holder);
    const t = report.thresholds || {};
    const lines = [
      ...(none(t.psi) ? [] : [{ value: t.psi, label: `PSI threshold ${t.psi}`, color: COLORS.psi }]),
      ...(none(t.ks) ? [] : [{ value: t.ks, label: `KS threshold ${t.ks}`, color: COLORS.ks, dash: [2, 3] }]),
    ];
    const bars = (align) => uPlot.paths.bars({ size: [0.35, 60], align });
    const chart = new uPlot(
      {
        width: chartWidth(box),
        height: 220,
        cursor: { points: { show: false } },
        scales: { x: { time: false, range: [-0.5, names.length - 0.5] }, y: { range: niceRange('num', lines) } },
        axes: [
          {
            splits: () => names.map((_, i) => i),
            values: (u, splits) => splits.map((i) => names[i] ?? ''),
            rotate: names.length > 6 ? -30 : 0,
          },
          yAxis(box, 'num', 'PSI, KS'),
        ],
        hooks: { draw: [thresholdLines(box, lines)] },
        series: [
          {},
          { label: 'PSI', fill: COLORS.psi, stroke: COLORS.psi, paths: bars(-1), points: { show: false } },
          { label: 'KS', fill: COLORS.ks, stroke: COLORS.ks, paths: bars(1), points: { show: false } },
        ],
      },
      [names.map((_, i) => i), report.features.map((f) => f.psi), report.features.map((f) => f.ks)],
      holder,
    );
    box.uplot = chart;
  }

  /** The charts drawn in a view (each panel holds its own). */
  const chartsIn = (root) => [...root.querySelectorAll('[data-panel]')].filter((box) => box.uplot);
  function destroyCharts(root) {
    for (const box of chartsIn(root)) {
      box.uplot.destroy();
      delete box.uplot;
    }
  }

  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const box of chartsIn($('content'))) box.uplot.setSize({ width: chartWidth(box), height: box.uplot.height });
    }, 150);
  });

  // ── the address ─────────────────────────────────────────────────────────────────────────
  function parseRoute() {
    const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const params = new URLSearchParams(query);
    const span = WINDOWS.includes(params.get('window')) ? params.get('window') : '24h';
    if (parts[0] === 'jobs') return { view: 'jobs', window: span, status: params.get('status') || '' };
    if (parts[0] === 'alerts') return { view: 'alerts', window: span };
    const tab = TABS.some(([t]) => t === parts[2]) ? parts[2] : 'overview';
    return { view: 'models', model: parts[1] || null, tab, window: span };
  }
  function hrefOf(route) {
    const q = `?window=${route.window}`;
    if (route.view === 'jobs') return `#/jobs${q}${route.status ? `&status=${enc(route.status)}` : ''}`;
    if (route.view === 'alerts') return `#/alerts${q}`;
    return route.model ? `#/models/${enc(route.model)}/${route.tab}${q}` : `#/models${q}`;
  }
  const go = (changes) => {
    location.hash = hrefOf({ ...parseRoute(), ...changes });
  };

  // ── sign-in ─────────────────────────────────────────────────────────────────────────────
  function showSignedIn(on) {
    $('signin').hidden = on;
    $('app').hidden = !on;
    $('views').hidden = !on;
    $('controls').hidden = !on;
  }

  async function signIn(event) {
    event.preventDefault();
    $('signin-error').textContent = '';
    try {
      state.workspace = $('workspace').value.trim();
      if ($('email').value && $('password').value) {
        const login = await api('/v1/auth/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: $('email').value, password: $('password').value }),
        });
        state.token = login.access_token;
      } else {
        state.token = $('token').value.trim();
      }
      // Shown before the charts are drawn: a hidden element has no width to size them by.
      showSignedIn(true);
      await loadModels();
      sessionStorage.setItem('modelflare.token', state.token);
      sessionStorage.setItem('modelflare.workspace', state.workspace);
      await render();
    } catch (err) {
      showSignedIn(false);
      state.token = null;
      $('signin-error').textContent = err.status === 401 ? 'That credential was not accepted.' : err.message;
    }
  }

  async function loadModels() {
    const { models } = await api('/v1/models?limit=100');
    state.models = models;
  }

  function drawModelNav(route) {
    const nav = $('models');
    nav.hidden = route.view !== 'models';
    nav.replaceChildren();
    if (state.models.length === 0) nav.append(el('div', { class: 'hint' }, 'No models in this workspace yet.'));
    for (const m of state.models) {
      const link = el(
        'a',
        { href: hrefOf({ ...route, view: 'models', model: m.name }), 'data-model': m.name },
        el('span', {}, m.name),
        m.latest_version ? el('span', { class: 'muted' }, `v${m.latest_version}`) : null,
      );
      link.classList.toggle('active', route.model === m.name);
      nav.append(link);
    }
    for (const a of $('views').querySelectorAll('a')) {
      a.classList.toggle('active', a.dataset.view === route.view);
      a.href = hrefOf({ ...route, view: a.dataset.view });
    }
    $('window').value = route.window;
    $('app').style.gridTemplateColumns = route.view === 'models' ? '' : 'minmax(0, 1fr)';
  }

  // ── views ───────────────────────────────────────────────────────────────────────────────
  /** Whether a refresh would lose what the user opened: older pages, a prediction's details. */
  const busyReading = () => !!$('content').querySelector('[data-extended], tr.detail:not([hidden])');

  async function render({ quiet = false } = {}) {
    const route = parseRoute();
    if (route.view === 'models' && !route.model && state.models[0]) {
      history.replaceState(null, '', hrefOf({ ...route, model: state.models[0].name }));
      return render({ quiet });
    }
    if (quiet && busyReading()) return;
    const ticket = ++state.ticket;
    drawModelNav(route);
    const content = $('content');
    const fresh = el('div');
    if (quiet) {
      // Drawn offscreen at the view's width, then swapped in: a refresh never shows a half-drawn view.
      const pad = parseFloat(getComputedStyle(content).paddingLeft) * 2;
      fresh.style.cssText = `position:absolute;left:-10000px;top:0;width:${content.clientWidth - pad}px`;
      document.body.append(fresh);
    } else {
      delete content.dataset.ready;
      destroyCharts(content);
      // In place at once: charts are sized by the width of what holds them.
      content.replaceChildren(fresh);
      fresh.append(el('p', { class: 'muted', 'data-loading': '' }, 'Loading…'));
    }
    try {
      const views = { jobs: jobsView, alerts: workspaceAlertsView, models: modelView };
      await views[route.view](fresh, route);
      fresh.querySelector('[data-loading]')?.remove();
    } catch (err) {
      if (ticket === state.ticket && err.status === 401) {
        sessionStorage.removeItem('modelflare.token');
        state.token = null;
        showSignedIn(false);
        $('signin-error').textContent = 'The session ended: sign in again.';
        return;
      }
      destroyCharts(fresh);
      fresh.replaceChildren(el('p', { class: 'error', role: 'alert' }, `Could not load this view: ${err.message}`));
    }
    if (ticket !== state.ticket) {
      // A later view took over while this one loaded.
      destroyCharts(fresh);
      fresh.remove();
      return;
    }
    if (quiet) {
      destroyCharts(content);
      fresh.style.cssText = '';
      content.replaceChildren(fresh);
    }
    content.dataset.ready = route.view === 'models' ? `${route.model}/${route.tab}` : route.view;
  }

  function modelHeader(route, extra) {
    const model = state.models.find((m) => m.name === route.model);
    const aliases = model ? Object.entries(model.aliases).map(([a, v]) => `${a} → v${v}`) : [];
    return [
      el(
        'div',
        { class: 'title' },
        el('h2', { id: 'model-title' }, route.model),
        extra,
        aliases.length ? el('span', { class: 'muted' }, aliases.join(' · ')) : null,
      ),
      el(
        'nav',
        { class: 'tabs', 'aria-label': 'model views' },
        TABS.map(([tab, label]) =>
          el(
            'a',
            { href: hrefOf({ ...route, tab }), 'data-tab': tab, class: tab === route.tab ? 'active' : '' },
            label,
          ),
        ),
      ),
    ];
  }

  async function modelView(root, route) {
    if (!route.model) return root.append(el('p', { class: 'muted' }, 'No models yet: upload one, then come back.'));
    const name = enc(route.model);
    const drift = await api(`/v1/models/${name}/drift`).catch((err) =>
      err.status === 404 ? null : Promise.reject(err),
    );
    const status = drift?.report?.status;
    const driftBadge = el(
      'span',
      {
        id: 'drift-status',
        class: `badge ${status === 'drifted' ? 'bad' : status === 'ok' ? '' : 'none'}`,
        title: 'latest drift report',
      },
      status ? `drift: ${status}` : 'no drift report',
    );
    root.append(...modelHeader(route, driftBadge));
    const views = {
      overview,
      drift: driftView,
      predictions,
      errors: errorsView,
      alerts: modelAlertsView,
      rollouts: rolloutsView,
    };
    await views[route.tab](root, route, { name, drift });
  }

  const windowOf = (stats) => ({ from: Date.parse(stats.window.from), to: Date.parse(stats.window.to) });

  async function overview(root, route, { name, drift }) {
    const [stats, performance, rules, history] = await Promise.all([
      api(`/v1/models/${name}/stats?window=${route.window}&by=version`),
      api(`/v1/models/${name}/performance?window=${route.window}`),
      api(`/v1/models/${name}/alerts`),
      drift?.baseline ? api(`/v1/models/${name}/drift/history?window=${route.window}&limit=100`) : { reports: [] },
    ]);
    const t = stats.total;
    const firing = rules.alerts.filter((a) => a.state === 'firing').length;
    root.append(
      el(
        'div',
        { class: 'cards' },
        card('requests', fmt.int(t.requests), 'requests'),
        card('rows predicted', fmt.int(t.rows), 'rows'),
        card('error rate', fmt.pct(t.error_rate), 'error_rate'),
        card('p50 latency', fmt.ms(t.latency_ms.p50), 'p50'),
        card('p99 latency', fmt.ms(t.latency_ms.p99), 'p99'),
        card('cache hit ratio', fmt.pct(t.cache.hit_ratio), 'cache'),
        card(
          performance.kind === 'regression' ? 'MAE' : 'accuracy',
          performance.kind === 'regression' ? fmt.num(performance.metrics.mae) : fmt.pct(performance.metrics.accuracy),
          'quality',
        ),
        card('alerts firing', `${firing} of ${rules.alerts.length}`, 'alerts'),
      ),
    );
    const charts = el('div', { class: 'charts' });
    root.append(charts);
    const { from, to } = windowOf(stats);
    const xs = stats.series.map((p) => Date.parse(p.at));
    const step = stepText(stats.window.step_minutes);
    // An enabled alert rule's threshold, drawn on the chart of its metric.
    const alertLines = (metrics, color) =>
      rules.alerts
        .filter((a) => a.enabled && metrics.includes(a.metric))
        .map((a) => ({ value: a.threshold, label: `alert: ${a.name}`, color }));
    // One line per version when there is more than one; else the model's own.
    const versions = stats.versions.length > 1 ? [...stats.versions].sort((a, b) => a.version - b.version) : [];
    const perVersion = (pick, quietNull) =>
      versions.map((v, i) => ({
        label: `v${v.version}`,
        color: PALETTE[i % PALETTE.length],
        values: v.series.map((p) => (quietNull && p.requests === 0 ? null : pick(p))),
      }));
    const quietNull = (values) => values.map((v, i) => (stats.series[i].requests === 0 ? null : v));

    const traffic = panel('traffic', `Requests per ${step}`);
    const latency = panel('latency', 'Latency percentiles');
    const errors = panel('errors', 'Error rate');
    const cache = panel('cache', 'Cache hit ratio');
    const quality = panel(
      'performance',
      performance.kind === 'regression' ? 'Mean absolute error (feedback)' : 'Accuracy (feedback)',
    );
    const driftTrend = panel('drift-trend', 'Drift: highest PSI of any feature');
    charts.append(traffic, latency, errors, cache, quality, driftTrend);
    timeChart(traffic, {
      from,
      to,
      xs,
      kind: 'int',
      label: 'requests',
      series: versions.length
        ? perVersion((p) => p.requests, false)
        : [{ label: 'requests', color: PALETTE[0], values: stats.series.map((p) => p.requests) }],
    });
    timeChart(latency, {
      from,
      to,
      xs,
      kind: 'ms',
      label: 'ms',
      lines: alertLines(['latency_p99_ms'], COLORS.p99),
      series: [
        { label: 'p50', color: COLORS.p50, values: quietNull(stats.series.map((p) => p.p50)) },
        { label: 'p95', color: COLORS.p95, values: quietNull(stats.series.map((p) => p.p95)) },
        { label: 'p99', color: COLORS.p99, values: quietNull(stats.series.map((p) => p.p99)) },
      ],
    });
    timeChart(errors, {
      from,
      to,
      xs,
      kind: 'pct',
      label: 'errors',
      lines: alertLines(['error_rate'], '#1d2433'),
      series: versions.length
        ? perVersion((p) => p.error_rate, true)
        : [{ label: 'error rate', color: COLORS.p99, values: quietNull(stats.series.map((p) => p.error_rate)) }],
    });
    timeChart(cache, {
      from,
      to,
      xs,
      kind: 'pct',
      label: 'hits',
      series: [{ label: 'hit ratio', color: COLORS.hit, values: stats.series.map((p) => p.cache_hit_ratio) }],
    });
    timeChart(quality, {
      from,
      to,
      xs: performance.series.map((p) => Date.parse(p.at)),
      kind: performance.kind === 'regression' ? 'num' : 'pct',
      label: performance.kind === 'regression' ? 'MAE' : 'accuracy',
      lines: alertLines(['accuracy', 'mae'], '#1d2433'),
      series: [
        {
          label: performance.kind === 'regression' ? 'MAE' : 'accuracy',
          color: COLORS.hit,
          values: performance.series.map((p) => p.value),
        },
      ],
    });
    const reports = [...history.reports].reverse().filter((r) => r.status !== 'insufficient_data');
    const psiThreshold = drift?.report?.thresholds?.psi;
    timeChart(driftTrend, {
      from,
      to,
      xs: reports.map((r) => Date.parse(r.created_at)),
      kind: 'num',
      label: 'PSI',
      lines: [
        ...(none(psiThreshold)
          ? []
          : [{ value: psiThreshold, label: `PSI threshold ${psiThreshold}`, color: COLORS.psi }]),
        ...alertLines(['drift_psi'], '#1d2433'),
      ],
      series: [
        {
          label: 'highest PSI',
          color: COLORS.psi,
          values: reports.map((r) => Math.max(...r.features.map((f) => f.psi))),
        },
      ],
    });
  }

  async function driftView(root, route, { name, drift }) {
    if (!drift?.baseline) {
      root.append(
        panel(
          'drift-none',
          'No baseline',
          el(
            'p',
            { class: 'muted' },
            'Drift is measured against a baseline. Set one with PUT /v1/models/{name}/versions/{version}/baseline (rows, an upload, or {"capture": N}).',
          ),
        ),
      );
      root.querySelector('[data-panel="drift-none"]').dataset.points = '0';
      return;
    }
    const history = await api(`/v1/models/${name}/drift/history?window=${route.window}&limit=100`);
    const report = drift.report;
    const b = drift.baseline;
    root.append(
      el(
        'div',
        { class: 'cards' },
        card('version', `v${drift.version}`, 'version'),
        card(
          'baseline',
          b.status === 'ready' ? `${fmt.int(b.rows)} rows` : `capturing ${fmt.int(b.rows)}/${fmt.int(b.target_rows)}`,
          'baseline',
        ),
        card('latest report', report ? fmt.ago(report.created_at) : '–', 'latest'),
        card('rows in its window', report ? fmt.int(report.rows) : '–', 'rows'),
        card('PSI threshold', fmt.num(report?.thresholds?.psi), 'psi_threshold'),
        card('KS threshold', fmt.num(report?.thresholds?.ks), 'ks_threshold'),
      ),
    );
    const charts = el('div', { class: 'charts' });
    root.append(charts);
    const features = panel('drift', 'Latest report: PSI and KS per feature');
    const trend = panel('drift-history', 'PSI per feature over the window');
    charts.append(features, trend);
    featureChart(features, report);
    const reports = [...history.reports].reverse().filter((r) => r.status !== 'insufficient_data');
    const names = report ? report.features.map((f) => f.name) : [];
    const now = Date.now();
    const span = { '1h': 60, '6h': 360, '24h': 1440, '7d': 10080, '30d': 43200 }[route.window] * 60000;
    timeChart(trend, {
      from: now - span,
      to: now,
      xs: reports.map((r) => Date.parse(r.created_at)),
      kind: 'num',
      label: 'PSI',
      lines: none(report?.thresholds?.psi)
        ? []
        : [{ value: report.thresholds.psi, label: `PSI threshold ${report.thresholds.psi}`, color: '#1d2433' }],
      series: names.map((n, i) => ({
        label: n,
        color: PALETTE[i % PALETTE.length],
        values: reports.map((r) => r.features.find((f) => f.name === n)?.psi ?? null),
      })),
    });
    root.append(
      panel(
        'drift-features',
        'Features',
        table(
          'drift-features',
          [['feature'], ['kind', 'wide'], ['PSI', 'num'], ['KS', 'num'], ['drifted']],
          report
            ? report.features.map((f) =>
                el(
                  'tr',
                  { 'data-row': f.name },
                  el('td', {}, f.name),
                  el('td', { class: 'wide' }, f.kind),
                  el('td', { class: 'num' }, fmt.num(f.psi)),
                  el('td', { class: 'num' }, fmt.num(f.ks)),
                  el('td', {}, f.drifted ? badge('drifted', 'bad') : badge('ok')),
                ),
              )
            : [emptyRow(5, 'No report yet: the cron makes one every run, or POST …/drift/check.')],
        ),
      ),
      panel(
        'drift-reports',
        'Reports in the window',
        table(
          'drift-reports',
          [['made'], ['status'], ['rows', 'num'], ['highest PSI', 'num'], ['PSI / KS thresholds', 'wide']],
          history.reports.length
            ? history.reports
                .slice(0, 20)
                .map((r) =>
                  el(
                    'tr',
                    { 'data-row': String(r.id) },
                    el('td', {}, fmt.time(r.created_at)),
                    el('td', {}, badge(r.status, r.status === 'drifted' ? 'bad' : r.status === 'ok' ? '' : 'none')),
                    el('td', { class: 'num' }, fmt.int(r.rows)),
                    el('td', { class: 'num' }, fmt.num(Math.max(...r.features.map((f) => f.psi)))),
                    el('td', { class: 'wide' }, `${fmt.num(r.thresholds?.psi)} / ${fmt.num(r.thresholds?.ks)}`),
                  ),
                )
            : [emptyRow(5, 'No reports in this window.')],
        ),
      ),
    );
  }

  // ── rollouts: split aliases, their scorecards and a line per route ──────────────────────
  const STATUS_TONES = { split: 'busy', ramping: 'busy', rolled_back: 'bad', promoted: '', plain: 'none' };
  const STATUS_TEXT = {
    split: 'split',
    ramping: 'ramping',
    rolled_back: 'rolled back',
    promoted: 'promoted',
    plain: 'plain',
  };
  const routeLabel = (r) => (r.route === null ? `v${r.version} (past route)` : `v${r.version} (route ${r.route})`);
  /** Weights are whole percents, or fractions after a step of a 3+ route split. */
  const weightText = (w) => `${Math.round(w * 100) / 100}%`;
  const weightsText = (routes) => routes.map((r) => `v${r.version} ${weightText(r.weight)}`).join(' · ');
  /** A difference of proportions in percentage points, signed. */
  const pp = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(Math.abs(x) < 0.001 && x !== 0 ? 3 : 1)} pp`;
  const pText = (p) => (none(p) ? '' : p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

  /** A route against the first: the difference, and whether there is enough to say it means anything. */
  function verdictCell(test, enough, few, worseIfUp) {
    if (!test) return el('td', { class: 'muted' }, '–');
    const worse = worseIfUp ? test.difference > 0 : test.difference < 0;
    const verdict = !enough ? 'too-few' : test.significant ? 'significant' : 'not-significant';
    const [text, tone] = {
      'too-few': [`too few ${few}`, 'none'],
      significant: ['significant', worse ? 'bad' : ''],
      'not-significant': ['not significant', 'none'],
    }[verdict];
    return el(
      'td',
      { 'data-verdict': verdict, class: 'nowrap' },
      `${pp(test.difference)} `,
      badge(text, tone),
      test.p_value === null || !enough ? null : el('div', { class: 'muted' }, pText(test.p_value)),
    );
  }

  function guardText(guard) {
    if (!guard) return null;
    const limits = [
      none(guard.max_error_rate) ? null : `error rate ≤ ${fmt.pct(guard.max_error_rate)}`,
      none(guard.max_p99_ms) ? null : `p99 ≤ ${fmt.ms(guard.max_p99_ms)}`,
      none(guard.max_accuracy_drop) ? null : `accuracy drop ≤ ${fmt.pct(guard.max_accuracy_drop)}`,
    ].filter(Boolean);
    return `Guard: ${limits.join(', ')} once a route has ${fmt.int(guard.min_requests)} requests in ${guard.window_minutes ?? 60} min`;
  }

  const eventLabel = (e) =>
    ({
      set: 'set',
      stepped: `step ${weightText(e.routes?.at(-1)?.weight ?? 0)}`,
      rolled_back: 'rolled back',
      promoted: `promoted v${e.routes?.[0]?.version}`,
      removed: 'removed',
    })[e.kind];
  const EVENT_COLORS = { rolled_back: '#d92d20', promoted: '#12b76a' };

  /** What the alias is doing now; a plain alias whose last change in the window was a promotion says so. */
  function rolloutStatus(view, events) {
    if (view.routes) return view.state.status;
    return events.at(-1)?.kind === 'promoted' ? 'promoted' : 'plain';
  }

  function rolloutNotes(view, status, events, card) {
    const notes = [];
    if (view.shadow)
      notes.push(
        `Shadow: v${view.shadow.version} gets ${weightText(view.shadow.percent)} of requests, mirrored after the answer.`,
      );
    if (view.routes) notes.push(guardText(view.guard) ?? 'No guard: nothing rolls it back by itself.');
    if (view.steps) {
      const at = `, at ${weightText(view.routes.at(-1).weight)} now`;
      const next =
        view.state.next_step === null ? '' : `; next ${view.state.next_step}% at ${fmt.time(view.state.next_step_at)}`;
      const where = status === 'rolled_back' ? ', stopped by the rollback' : `${at}${next}`;
      notes.push(`Steps: ${view.steps.join(' → ')}% every ${view.step_minutes} min${where}.`);
    }
    const rollback = view.state.rollback;
    if (status === 'rolled_back' && rollback) {
      const why = rollback.breaches.map(
        (b) =>
          `v${b.version} (route ${b.route}) ${b.limit.replace('max_', '').replace(/_/g, ' ')} ${valueOfLimit(b.limit, b.value)} > ${valueOfLimit(b.limit, b.threshold)}`,
      );
      notes.push(
        `Rolled back ${fmt.ago(view.state.rolled_back_at)} ${rollback.by === 'guard' ? `by the guard: ${why.join('; ')}` : 'by hand'}.`,
      );
    }
    if (status === 'promoted') {
      const e = events.at(-1);
      notes.push(
        `Promoted to v${view.version} ${e.by === 'steps' ? 'by its steps' : 'by hand'} ${fmt.ago(e.at)}: a plain alias now.`,
      );
    }
    if (card)
      notes.push(
        `Scorecard from ${fmt.time(card.from)}: comparisons need ${fmt.int(card.min_requests)} requests on each side.`,
      );
    return notes;
  }
  const valueOfLimit = (limit, v) => (limit.endsWith('_ms') ? fmt.ms(v) : fmt.pct(v));

  function scorecardTable(alias, card) {
    const quality = card.routes.some((r) => r.quality?.kind === 'regression') ? 'MAE' : 'accuracy';
    const rows = card.routes.map((r) =>
      el(
        'tr',
        { 'data-row': `route-${r.route}`, 'data-version': String(r.version) },
        el('td', {}, String(r.route)),
        el('td', {}, `v${r.version}`),
        el('td', { class: 'num' }, weightText(r.weight)),
        el('td', { class: 'num', 'data-cell': 'requests' }, fmt.int(r.requests)),
        el('td', { class: 'num' }, fmt.int(r.errors.client + r.errors.server)),
        el('td', { class: 'num', 'data-cell': 'error_rate' }, fmt.pct(r.error_rate)),
        el('td', { class: 'num wide' }, fmt.ms(r.latency_ms.p50)),
        el('td', { class: 'num wide' }, fmt.ms(r.latency_ms.p95)),
        el('td', { class: 'num' }, fmt.ms(r.latency_ms.p99)),
        el('td', { class: 'num wide' }, fmt.pct(r.cache_hit_ratio)),
        el(
          'td',
          { class: 'num' },
          r.quality
            ? `${quality === 'MAE' ? fmt.num(r.quality.mae) : fmt.pct(r.quality.accuracy)} (${fmt.int(r.quality.feedback_rows)})`
            : '–',
        ),
        el(
          'td',
          { class: 'wide' },
          r.drift
            ? badge(r.drift.status, r.drift.status === 'drifted' ? 'bad' : r.drift.status === 'ok' ? '' : 'none')
            : '–',
        ),
        r.vs_first
          ? verdictCell(r.vs_first.error_rate, r.vs_first.enough_requests, 'requests', true)
          : el('td', { class: 'muted' }, 'the reference'),
        r.vs_first
          ? verdictCell(r.vs_first.accuracy, r.vs_first.enough_feedback, 'feedback rows', false)
          : el('td', { class: 'muted' }, '–'),
      ),
    );
    const s = card.shadow;
    if (s) {
      const diff = s.probability_difference
        ? `probability Δ mean ${fmt.num(s.probability_difference.mean)}, max ${fmt.num(s.probability_difference.max)}`
        : s.outputs
            .map((o) => `${o.name}: |Δ| mean ${fmt.num(o.abs_difference.mean)}, max ${fmt.num(o.abs_difference.max)}`)
            .join('; ');
      rows.push(
        el(
          'tr',
          { 'data-row': 'shadow', 'data-version': String(s.version) },
          el('td', {}, 'shadow'),
          el('td', {}, `v${s.version}`),
          el('td', { class: 'num' }, `${weightText(s.percent)} mirrored`),
          el('td', { class: 'num', 'data-cell': 'requests' }, fmt.int(s.requests)),
          el('td', { class: 'num' }, fmt.int(s.errors)),
          el('td', { class: 'num', 'data-cell': 'error_rate' }, fmt.pct(s.error_rate)),
          el('td', { class: 'num wide', title: 'mean latency of the shadow runs' }, fmt.ms(s.latency_ms.shadow_mean)),
          el('td', { class: 'num wide' }, '–'),
          el('td', { class: 'num' }, '–'),
          el('td', { class: 'num wide' }, '–'),
          el(
            'td',
            { class: 'num', 'data-cell': 'agreement' },
            none(s.agreement_rate) ? '–' : `agree ${fmt.pct(s.agreement_rate)}`,
          ),
          el('td', { class: 'wide' }, '–'),
          el('td', { colspan: '2', class: 'muted' }, diff || '–'),
        ),
      );
    }
    return table(
      `scorecard-${alias}`,
      [
        ['route'],
        ['version'],
        ['weight', 'num'],
        ['requests', 'num'],
        ['errors', 'num'],
        ['error rate', 'num'],
        ['p50', 'num wide'],
        ['p95', 'num wide'],
        ['p99', 'num'],
        ['cache hits', 'num wide'],
        [quality, 'num'],
        ['drift', 'wide'],
        ['error rate vs route 0'],
        ['accuracy vs route 0'],
      ],
      rows,
    );
  }

  /** Requests, error rate and p99 with a line per route (the shadow dashed), the guard's limits and the rollout's changes. */
  function rolloutCharts(alias, view, series) {
    const charts = el('div', { class: 'charts' });
    const from = Date.parse(series.window.from);
    const to = Date.parse(series.window.to);
    const xs = (series.routes[0] ?? series.shadows[0])?.series.map((p) => Date.parse(p.at)) ?? [];
    const marks = series.events.map((e) => ({
      at: Date.parse(e.at),
      label: eventLabel(e),
      color: EVENT_COLORS[e.kind] ?? '#667085',
    }));
    const quiet = (points, pick) => points.map((p) => (p.requests === 0 ? null : pick(p)));
    const routeLines = (pick, skipQuiet) =>
      series.routes.map((r, i) => ({
        label: routeLabel(r),
        color: PALETTE[i % PALETTE.length],
        values: skipQuiet ? quiet(r.series, pick) : r.series.map(pick),
      }));
    const shadowLines = (pick, skipQuiet) =>
      series.shadows.map((s) => ({
        label: `shadow v${s.version}`,
        color: '#667085',
        dash: [6, 4],
        values: skipQuiet ? quiet(s.series, pick) : s.series.map(pick),
      }));
    const guard = view.guard ?? {};
    const step = stepText(series.window.step_minutes);
    const requests = panel(`rollout-${alias}-requests`, `Requests per ${step}, per route`);
    const errors = panel(`rollout-${alias}-errors`, 'Error rate per route');
    const latency = panel(`rollout-${alias}-latency`, 'p99 latency per route');
    charts.append(requests, errors, latency);
    // Drawn once the charts are in the page: they are sized by the width of what holds them.
    const draw = () => {
      timeChart(requests, {
        from,
        to,
        xs,
        kind: 'int',
        label: 'requests',
        marks,
        series: [...routeLines((p) => p.requests, false), ...shadowLines((p) => p.requests, false)],
      });
      timeChart(errors, {
        from,
        to,
        xs,
        kind: 'pct',
        label: 'errors',
        marks,
        lines: none(guard.max_error_rate)
          ? []
          : [
              {
                value: guard.max_error_rate,
                label: `guard: error rate ${fmt.pct(guard.max_error_rate)}`,
                color: '#1d2433',
              },
            ],
        series: [...routeLines((p) => p.error_rate, true), ...shadowLines((p) => p.error_rate, true)],
      });
      timeChart(latency, {
        from,
        to,
        xs,
        kind: 'ms',
        label: 'ms',
        marks,
        lines: none(guard.max_p99_ms)
          ? []
          : [{ value: guard.max_p99_ms, label: `guard: p99 ${fmt.ms(guard.max_p99_ms)}`, color: COLORS.p99 }],
        series: routeLines((p) => p.p99, true),
      });
    };
    return { charts, draw };
  }

  async function rolloutsView(root, route, { name }) {
    // The model itself, not the list's copy: the list holds the first hundred models only.
    const model = await api(`/v1/models/${name}`);
    const q = `?window=${route.window}`;
    const found = await Promise.all(
      Object.keys(model.aliases).map(async (alias) => {
        const path = `/v1/models/${name}/aliases/${enc(alias)}`;
        try {
          const [view, series] = await Promise.all([api(path), api(`${path}/series${q}`)]);
          const status = rolloutStatus(view, series.events);
          const served = series.routes.some((r) => r.series.some((p) => p.requests > 0));
          if (!view.routes && !view.shadow && !served && status !== 'promoted') return null;
          const card = view.routes || view.shadow ? await api(`${path}/scorecard${q}`) : null;
          return { alias, view, series, status, card };
        } catch (err) {
          // Removed since the model list was read.
          if (err.status === 404) return null;
          throw err;
        }
      }),
    );
    const rollouts = found.filter(Boolean);
    if (rollouts.length === 0) {
      root.append(
        panel(
          'rollouts-none',
          'No traffic splits',
          el(
            'p',
            { class: 'muted' },
            `No alias of this model splits its traffic or mirrors it to a shadow in this window. Split one with `,
            el('code', {}, `modelflare aliases set ${route.model} production --route 1=90 --route 2=10`),
            ' (PUT /v1/models/{name}/aliases/{alias} with "routes").',
          ),
        ),
      );
      return;
    }
    const drawings = [];
    for (const { alias, view, series, status, card } of rollouts) {
      const weights = view.routes ? weightsText(view.routes) : `v${view.version} 100%`;
      const section = el(
        'section',
        { class: 'rollout', 'data-rollout': alias, 'data-status': status },
        el(
          'div',
          { class: 'title' },
          el('h3', { style: 'margin:0;font-size:16px' }, alias),
          badge(STATUS_TEXT[status], STATUS_TONES[status]),
          el('span', { class: 'muted', 'data-weights': '' }, weights),
        ),
        el(
          'ul',
          { class: 'notes' },
          rolloutNotes(view, status, series.events, card).map((n) => el('li', {}, n)),
        ),
      );
      if (card) section.append(panel(`scorecard-${alias}`, 'Scorecard', scorecardTable(alias, card)));
      const { charts, draw } = rolloutCharts(alias, view, series);
      section.append(charts);
      root.append(section);
      drawings.push(draw);
    }
    for (const draw of drawings) draw();
  }

  /** A list with an "Older" button that appends the next page. */
  async function pagedTable(root, { id, title, headers, url, key, row, actions = [] }) {
    const body = el('tbody');
    const more = el('button', { class: 'plain', type: 'button', 'data-more': id }, 'Older');
    const box = panel(
      id,
      title,
      actions.length ? el('div', { class: 'actions' }, actions) : null,
      table(id, headers, body),
      el('div', { class: 'actions' }, more),
    );
    root.append(box);
    let cursor = null;
    const load = async () => {
      const page = await api(`${url}${url.includes('?') ? '&' : '?'}limit=25${cursor ? `&cursor=${enc(cursor)}` : ''}`);
      for (const item of page[key]) body.append(...[row(item)].flat());
      if (body.children.length === 0) body.append(emptyRow(headers.length, 'Nothing here yet.'));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      box.dataset.rows = String(body.querySelectorAll('tr[data-row]').length);
    };
    more.addEventListener('click', () => {
      box.dataset.extended = '';
      load().catch((err) => more.replaceWith(el('span', { class: 'error' }, err.message)));
    });
    await load();
  }

  /** Downloads an API answer as a file: the token travels in a header, so a plain link cannot. */
  function downloadButton(label, path, filename) {
    return el(
      'button',
      {
        class: 'plain',
        type: 'button',
        'data-download': filename,
        onclick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          try {
            const blob = await (await request(path)).blob();
            const link = el('a', { href: URL.createObjectURL(blob), download: filename });
            document.body.append(link);
            link.click();
            setTimeout(() => (URL.revokeObjectURL(link.href), link.remove()), 1000);
          } catch (err) {
            button.after(el('span', { class: 'error' }, ` ${err.message}`));
          } finally {
            button.disabled = false;
          }
        },
      },
      label,
    );
  }

  const rowsOf = (values, n = 3) =>
    values === null || values === undefined
      ? '–'
      : values.slice(0, n).map(fmt.json).join(', ') + (values.length > n ? ` … (${values.length})` : '');

  async function predictions(root, route, { name }) {
    const span = { '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000, '7d': 604_800_000, '30d': 2_592_000_000 }[
      route.window
    ];
    const from = new Date(Date.now() - span).toISOString();
    const exportPath = (format) => `/v1/models/${name}/predictions/export?from=${enc(from)}&format=${format}`;
    await pagedTable(root, {
      id: 'predictions',
      title: 'Logged predictions and their feedback',
      headers: [['made'], ['version', 'num'], ['rows', 'num'], ['predicted'], ['feedback'], ['request id', 'wide']],
      url: `/v1/models/${name}/predictions`,
      key: 'predictions',
      actions: [
        el('span', { class: 'muted' }, `Export the ${route.window === '1h' ? 'last hour' : `last ${route.window}`}:`),
        downloadButton('JSON Lines', exportPath('jsonl'), `${route.model}-predictions.jsonl`),
        downloadButton('CSV', exportPath('csv'), `${route.model}-predictions.csv`),
      ],
      row: (p) => {
        const actual = p.feedback?.actual ?? null;
        const agree = actual
          ? actual.filter((a, i) => JSON.stringify(a) === JSON.stringify(p.predicted?.[i])).length
          : 0;
        const detail = el(
          'tr',
          { class: 'detail', hidden: true },
          el(
            'td',
            { colspan: '6' },
            el('div', { class: 'muted' }, 'inputs'),
            el('pre', {}, JSON.stringify(p.inputs, null, 1)),
            el('div', { class: 'muted' }, 'outputs'),
            el('pre', {}, JSON.stringify(p.outputs)),
          ),
        );
        const tr = el(
          'tr',
          {
            'data-row': p.id,
            title: 'show inputs and outputs',
            style: 'cursor:pointer',
            onclick: () => (detail.hidden = !detail.hidden),
          },
          el('td', {}, fmt.time(p.created_at)),
          el('td', { class: 'num' }, `v${p.version}`),
          el('td', { class: 'num' }, fmt.int(p.rows)),
          el('td', {}, rowsOf(p.predicted)),
          el(
            'td',
            { 'data-feedback': actual ? 'yes' : 'no' },
            actual
              ? [rowsOf(actual), ' ', badge(`${agree}/${actual.length} right`, agree === actual.length ? '' : 'bad')]
              : el('span', { class: 'muted' }, 'none yet'),
          ),
          el('td', { class: 'wide' }, el('code', {}, p.request_id)),
        );
        return [tr, detail];
      },
    });
  }

  async function errorsView(root, route, { name }) {
    await pagedTable(root, {
      id: 'errors',
      title: 'Latest failing requests',
      headers: [['when'], ['status', 'num'], ['code'], ['message'], ['route', 'wide'], ['request id', 'wide']],
      url: `/v1/models/${name}/errors`,
      key: 'errors',
      row: (e) =>
        el(
          'tr',
          { 'data-row': e.id },
          el('td', { class: 'nowrap', title: fmt.time(e.created_at) }, fmt.ago(e.created_at)),
          el('td', { class: 'num' }, badge(String(e.status), e.status >= 500 ? 'bad' : 'busy')),
          el('td', { class: 'nowrap' }, el('code', {}, e.code)),
          el('td', {}, e.message),
          el('td', { class: 'wide' }, el('code', {}, `${e.method} ${e.route ?? ''}`)),
          el('td', { class: 'wide' }, el('code', {}, e.request_id)),
        ),
    });
  }

  const conditionText = (a) =>
    `${a.metric} ${a.condition === 'above' ? '>' : '<'} ${a.metric.endsWith('_ms') ? fmt.ms(a.threshold) : a.threshold}`;
  const valueText = (metric, v) =>
    none(v)
      ? '–'
      : metric === 'error_rate' || metric === 'accuracy'
        ? fmt.pct(v)
        : metric.endsWith('_ms')
          ? fmt.ms(v)
          : fmt.num(v);

  function rulesTable(rules, withModel) {
    return table(
      'alert-rules',
      [
        ...(withModel ? [['model']] : []),
        ['rule'],
        ['condition'],
        ['window', 'wide'],
        ['state'],
        ['last value', 'num'],
        ['samples', 'num'],
        ['evaluated', 'wide'],
      ],
      rules.length
        ? rules.map((a) =>
            el(
              'tr',
              { 'data-row': a.id, 'data-state': a.state },
              withModel
                ? el(
                    'td',
                    {},
                    el(
                      'a',
                      { href: hrefOf({ ...parseRoute(), view: 'models', model: a.model, tab: 'alerts' }) },
                      a.model,
                    ),
                  )
                : null,
              el('td', {}, a.name, a.enabled ? null : [' ', badge('disabled', 'none')]),
              el('td', {}, el('code', {}, conditionText(a))),
              el('td', { class: 'wide' }, `${a.window}, ≥ ${fmt.int(a.min_samples)} samples`),
              el(
                'td',
                {},
                stateBadge(a.state),
                a.fired_at ? el('div', { class: 'muted' }, `since ${fmt.ago(a.fired_at)}`) : null,
              ),
              el('td', { class: 'num' }, valueText(a.metric, a.last_evaluation?.value)),
              el('td', { class: 'num' }, fmt.int(a.last_evaluation?.samples)),
              el('td', { class: 'wide' }, fmt.ago(a.last_evaluation?.at)),
            ),
          )
        : [emptyRow(withModel ? 8 : 7, 'No alert rules. Create one with POST /v1/models/{name}/alerts.')],
    );
  }

  async function modelAlertsView(root, route, { name }) {
    const rules = await api(`/v1/models/${name}/alerts`);
    root.append(panel('alert-rules', 'Alert rules', rulesTable(rules.alerts, false)));
    await pagedTable(root, {
      id: 'alert-events',
      title: `Fired and resolved in the ${route.window === '1h' ? 'last hour' : `last ${route.window}`}`,
      headers: [['when'], ['event'], ['rule'], ['value', 'num'], ['samples', 'num']],
      url: `/v1/models/${name}/alert-events?window=${route.window}`,
      key: 'events',
      row: (e) =>
        el(
          'tr',
          { 'data-row': String(e.id), 'data-kind': e.kind },
          el('td', { class: 'nowrap', title: fmt.time(e.created_at) }, fmt.ago(e.created_at)),
          el('td', {}, badge(e.kind, e.kind === 'fired' ? 'bad' : '')),
          el('td', {}, e.name, ' ', el('code', { class: 'muted' }, conditionText(e))),
          el('td', { class: 'num' }, valueText(e.metric, e.value)),
          el('td', { class: 'num' }, fmt.int(e.samples)),
        ),
    });
  }

  async function workspaceAlertsView(root) {
    const { alerts } = await api('/v1/alerts?limit=100');
    const firing = alerts.filter((a) => a.state === 'firing');
    root.append(
      el(
        'div',
        { class: 'title' },
        el('h2', {}, 'Alerts'),
        badge(`${firing.length} firing`, firing.length ? 'bad' : ''),
      ),
      el(
        'p',
        { class: 'muted' },
        'Rules are evaluated by the cron trigger; a change of state is sent as alert.fired or alert.resolved to the webhooks that subscribe.',
      ),
      panel(
        'alert-rules',
        'Every model’s rules, firing first',
        rulesTable([...firing, ...alerts.filter((a) => a.state !== 'firing')], true),
      ),
    );
  }

  async function jobsView(root, route) {
    const filter = el(
      'select',
      { 'aria-label': 'status', id: 'job-status', onchange: (e) => go({ view: 'jobs', status: e.target.value }) },
      ['', 'queued', 'running', 'succeeded', 'partially_failed', 'failed', 'cancelled'].map((s) =>
        el('option', { value: s, selected: s === route.status }, s || 'any status'),
      ),
    );
    root.append(el('div', { class: 'title' }, el('h2', {}, 'Batch jobs'), filter));
    await pagedTable(root, {
      id: 'jobs',
      title: 'Newest first',
      headers: [
        ['job', 'wide'],
        ['model'],
        ['status'],
        ['progress'],
        ['rows done / failed / total', 'num'],
        ['created'],
        ['took', 'wide'],
        ['failures'],
      ],
      url: `/v1/jobs${route.status ? `?status=${route.status}` : ''}`,
      key: 'jobs',
      row: (j) => {
        const took =
          j.started_at && j.finished_at
            ? `${Math.round((Date.parse(j.finished_at) - Date.parse(j.started_at)) / 100) / 10} s`
            : '–';
        const failures = j.error
          ? j.error
          : j.errors.length
            ? `row ${j.errors[0].index}: ${j.errors[0].error}${j.errors.length > 1 ? ` (+${j.errors.length - 1})` : ''}`
            : '';
        return el(
          'tr',
          { 'data-row': j.id, 'data-status': j.status },
          el('td', { class: 'wide' }, el('code', {}, j.id)),
          el('td', {}, `${j.model} v${j.version}`),
          el('td', {}, badge(j.status.replace('_', ' '), JOB_TONES[j.status] ?? 'none')),
          el(
            'td',
            {},
            el('span', { class: 'progress' }, el('span', { style: `width:${Math.round((j.progress ?? 0) * 100)}%` })),
            fmt.pct(j.progress),
          ),
          el('td', { class: 'num' }, `${fmt.int(j.rows.done)} / ${fmt.int(j.rows.failed)} / ${fmt.int(j.rows.total)}`),
          el('td', { class: 'nowrap', title: fmt.time(j.created_at) }, fmt.ago(j.created_at)),
          el('td', { class: 'wide' }, took),
          el('td', { class: failures ? 'error' : 'muted' }, failures || '–'),
        );
      },
    });
  }

  // ── wiring ──────────────────────────────────────────────────────────────────────────────
  $('signin').addEventListener('submit', signIn);
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem('modelflare.token');
    sessionStorage.removeItem('modelflare.workspace');
    location.hash = '';
    location.reload();
  });
  $('window').addEventListener('change', () => go({ window: $('window').value }));
  window.addEventListener('hashchange', () => {
    if (state.token && !$('app').hidden) render();
  });
  setInterval(() => {
    if (state.token && !$('app').hidden && document.visibilityState === 'visible') {
      loadModels()
        .then(() => render({ quiet: true }))
        .catch(() => {});
    }
  }, REFRESH_MS);
  if (state.token) {
    showSignedIn(true);
    loadModels()
      .then(() => render())
      .catch(() => showSignedIn(false));
  }
})();
