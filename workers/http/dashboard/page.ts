/*
 * The monitoring dashboard's page. Scripts come from the worker itself (uPlot bundled, no
 * CDN) so it works offline and under the same-origin Content-Security-Policy. Views live in
 * the address's fragment (#/models/iris/drift?window=1h), so a view can be linked and reloaded.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>modelflare · dashboard</title>
  <link rel="stylesheet" href="/dashboard/uplot.css">
  <style>
    :root { --ink: #1d2433; --muted: #667085; --line: #e4e7ec; --accent: #f38020; --bg: #f7f8fa; --bad: #b42318; --good: #027a48; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; color: var(--ink); background: var(--bg); }
    header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 10px 20px; background: #fff; border-bottom: 1px solid var(--line); }
    header h1 { font-size: 17px; margin: 0; white-space: nowrap; } header h1 span { color: var(--accent); }
    header .grow { flex: 1; }
    header nav { display: flex; gap: 4px; }
    header nav a { padding: 6px 10px; border-radius: 6px; color: inherit; text-decoration: none; }
    header nav a.active, header nav a:hover { background: #fff4ea; color: #b45309; }
    .controls { display: flex; align-items: center; gap: 8px; }
    main { display: grid; grid-template-columns: 220px minmax(0, 1fr); min-height: calc(100vh - 54px); }
    #models { background: #fff; border-right: 1px solid var(--line); padding: 12px; overflow: auto; }
    #models a { display: flex; justify-content: space-between; gap: 6px; padding: 8px 10px; border-radius: 6px; color: inherit; text-decoration: none; overflow-wrap: anywhere; }
    #models a.active, #models a:hover { background: #fff4ea; color: #b45309; }
    #models .hint { color: var(--muted); font-size: 12px; padding: 8px 10px; }
    section#content { padding: 20px; min-width: 0; }
    .tabs { display: flex; gap: 2px; border-bottom: 1px solid var(--line); margin: 8px 0 16px; overflow-x: auto; }
    .tabs a { padding: 8px 12px; color: var(--muted); text-decoration: none; border-bottom: 2px solid transparent; white-space: nowrap; }
    .tabs a.active { color: var(--ink); border-bottom-color: var(--accent); }
    h2 { font-size: 18px; margin: 0; overflow-wrap: anywhere; }
    h3 { font-size: 14px; margin: 0 0 8px; }
    .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(128px, 1fr)); gap: 12px; margin-bottom: 16px; }
    .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
    .card .label { color: var(--muted); font-size: 12px; } .card .value { font-size: 21px; font-weight: 600; }
    .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 16px; margin-bottom: 16px; }
    .panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; min-width: 0; margin-bottom: 16px; }
    .charts .panel { margin-bottom: 0; }
    .panel .empty { color: var(--muted); padding: 40px 0; text-align: center; }
    .scroll { overflow-x: auto; }
    table { width: 100%; border-collapse: collapse; font-size: 13px; }
    th, td { text-align: left; padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { color: var(--muted); font-weight: 500; white-space: nowrap; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    td.nowrap, td.nowrap code { white-space: nowrap; overflow-wrap: normal; }
    td code, .mono { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
    tr.detail td { background: #fafbfc; }
    pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; max-height: 240px; overflow: auto; }
    .progress { width: 120px; height: 8px; background: #f2f4f7; border-radius: 4px; overflow: hidden; display: inline-block; vertical-align: middle; margin-right: 6px; }
    .progress span { display: block; height: 100%; background: var(--accent); }
    form#signin { max-width: 420px; margin: 60px auto; background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 24px; }
    form#signin h2 { margin-bottom: 8px; } label { display: block; margin: 12px 0 4px; font-weight: 500; }
    input, select { padding: 7px 10px; border: 1px solid var(--line); border-radius: 6px; font: inherit; background: #fff; }
    form#signin input { width: 100%; }
    button { font: inherit; cursor: pointer; }
    button.primary { margin-top: 16px; background: var(--accent); color: #fff; border: 0; padding: 9px 16px; border-radius: 6px; }
    button.plain, a.plain { background: #fff; border: 1px solid var(--line); padding: 6px 12px; border-radius: 6px; color: inherit; text-decoration: none; display: inline-block; }
    .actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0; }
    .error { color: var(--bad); margin-top: 8px; min-height: 1.2em; } .muted { color: var(--muted); }
    .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #ecfdf3; color: var(--good); white-space: nowrap; }
    .badge.bad { background: #fef3f2; color: var(--bad); } .badge.none { background: #f2f4f7; color: var(--muted); } .badge.busy { background: #fff4ea; color: #b45309; }
    .title { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
    section.rollout { margin-bottom: 28px; } section.rollout + section.rollout { border-top: 1px solid var(--line); padding-top: 16px; }
    ul.notes { margin: 6px 0 12px; padding-left: 18px; color: var(--muted); }
    [data-table^="scorecard-"] td { white-space: nowrap; }
    [hidden] { display: none !important; }
    @media (max-width: 760px) {
      header { padding: 8px 12px; }
      main { grid-template-columns: minmax(0, 1fr); }
      #models { display: flex; gap: 4px; overflow-x: auto; border-right: 0; border-bottom: 1px solid var(--line); padding: 6px 8px; }
      #models a { white-space: nowrap; padding: 6px 10px; }
      section#content { padding: 12px; }
      .charts { grid-template-columns: minmax(0, 1fr); }
      .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px; }
      .card .value { font-size: 18px; }
      th.wide, td.wide { display: none; }
    }
  </style>
</head>
<body>
  <header>
    <h1>model<span>flare</span></h1>
    <nav id="views" aria-label="views" hidden>
      <a href="#/models" data-view="models">Models</a>
      <a href="#/jobs" data-view="jobs">Jobs</a>
      <a href="#/alerts" data-view="alerts">Alerts</a>
    </nav>
    <div class="grow"></div>
    <div class="controls" id="controls" hidden>
      <select id="window" aria-label="window">
        <option value="1h">last hour</option><option value="6h">last 6 hours</option>
        <option value="24h" selected>last 24 hours</option><option value="7d">last 7 days</option><option value="30d">last 30 days</option>
      </select>
      <button id="signout" class="plain" type="button">Sign out</button>
    </div>
  </header>
  <form id="signin">
    <h2>Sign in</h2>
    <p class="muted">Paste an API key, an access token or the admin key — or sign in with your account. The token stays in this tab only.</p>
    <label for="token">Token</label>
    <input id="token" type="password" autocomplete="off" placeholder="mfk_… / eyJ… / admin key">
    <label for="email">or e-mail and password</label>
    <input id="email" type="email" autocomplete="username" placeholder="ada@example.com">
    <input id="password" type="password" autocomplete="current-password" placeholder="password" style="margin-top:6px">
    <label for="workspace">Workspace (optional)</label>
    <input id="workspace" placeholder="ws_…">
    <button class="primary" type="submit">Open dashboard</button>
    <div class="error" id="signin-error" role="alert"></div>
  </form>
  <main id="app" hidden>
    <nav id="models" aria-label="models"></nav>
    <section id="content"><p class="muted">Loading…</p></section>
  </main>
  <script src="/dashboard/uplot.js"></script>
  <script src="/dashboard/app.js"></script>
</body>
</html>`;
