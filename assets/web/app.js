/*
 * The shortener's web app: plain modern JavaScript, no build step, no
 * framework; the one library is uPlot for the charts (vendored by
 * `make assets`). Everything goes through the public JSON API of the
 * service that serves this file, so the app can do nothing a client of
 * the API could not.
 *
 * Views (the part of the URL after #):
 *   #/                 the links: create, search (code or URL), filter,
 *                      pages by keyset (after_id), edit, deactivate,
 *                      delete, copy, QR code
 *   #/links/<id>       one link: its QR code and its clicks over a
 *                      period, by day and hour, by Referer host, browser,
 *                      OS, device, people and bots
 *
 * API keys: when the service requires one, the key entered in the
 * dialog is kept in sessionStorage (this tab only) and sent as
 * X-Api-Key; a 401 says so and opens the dialog.
 */
"use strict";

(function () {
  var KEY_STORE = "shortener.apiKey";
  var USER_STORE = "shortener.userId";
  var PAGE = 20;
  var view = document.getElementById("view");
  var banner = document.getElementById("banner");
  var statusLine = document.getElementById("status");
  var config = {};

  /* ---- API ------------------------------------------------------------ */

  function apiKey() { return sessionStorage.getItem(KEY_STORE) || ""; }

  function ApiError(status, body) {
    this.status = status;
    this.body = body || {};
    this.message = (body && body.error) || ("HTTP " + status);
  }

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (apiKey()) headers["X-Api-Key"] = apiKey();
    var init = { method: method, headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      if (r.status === 204) return { data: null, headers: r.headers };
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
        if (!r.ok) {
          if (r.status === 401) keyRefused(data);
          throw new ApiError(r.status, data);
        }
        return { data: data, headers: r.headers };
      });
    });
  }

  function apiBlob(path) {
    var headers = {};
    if (apiKey()) headers["X-Api-Key"] = apiKey();
    return fetch(path, { headers: headers }).then(function (r) {
      if (r.status === 401) keyRefused(null);
      if (!r.ok) throw new ApiError(r.status, null);
      return r.blob();
    });
  }

  function keyRefused(body) {
    var msg = apiKey()
      ? "The API key was refused (401). Enter a valid key."
      : "This service requires an API key (401). Enter your key.";
    if (body && body.error) msg += " Server: " + body.error;
    showBanner("error", msg);
    openKeyDialog();
  }

  /* ---- small helpers ---------------------------------------------------- */

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] === true) e.setAttribute(k, "");
      else if (attrs[k] !== false && attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }

  function showBanner(kind, text) {
    banner.innerHTML = "";
    if (!text) return;
    banner.appendChild(el("div", { class: "banner " + kind, text: text }));
  }

  function say(text) { statusLine.textContent = text; }

  function fail(err) {
    if (err instanceof ApiError) {
      if (err.status !== 401) showBanner("error", err.message + " (" + err.status + ")");
    } else {
      showBanner("error", "The service could not be reached: " + err);
    }
  }

  function nowUtc() { return Date.now() / 1000; }

  function tsEpoch(ts) { return ts ? Date.parse(ts + "Z") / 1000 : null; }

  function linkState(u) {
    if (!u.is_active) return "inactive";
    if (u.expires_at && tsEpoch(u.expires_at) <= nowUtc()) return "expired";
    if (u.clicks_left === 0) return "exhausted";
    return "active";
  }

  /* datetime-local value (taken as UTC) -> contract timestamp, and back. */
  function toContractTs(v) { return v ? (v.length === 16 ? v + ":00" : v.slice(0, 19)) : null; }
  function fromContractTs(ts) { return ts ? ts.slice(0, 16) : ""; }

  function copy(text) {
    var done = function () { say("Copied " + text); showBanner("ok", "Copied " + text); };
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    }
    fallbackCopy(text);
    done();
    return Promise.resolve();
  }

  function fallbackCopy(text) {
    var t = el("textarea", { "aria-hidden": "true" });
    t.value = text;
    t.style.position = "fixed"; t.style.opacity = "0";
    document.body.appendChild(t);
    t.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(t);
  }

  function fieldErrors(form, err) {
    form.querySelectorAll(".field-error").forEach(function (n) { n.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
    var fields = (err.body && err.body.fields) || {};
    var first = null;
    Object.keys(fields).forEach(function (name) {
      var input = form.querySelector("[name='" + name + "']");
      var slot = form.querySelector("#err-" + form.id + "-" + name);
      if (slot) slot.textContent = fields[name];
      if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
    });
    if (first) first.focus();
  }

  function field(formId, name, label, input, hint, wide) {
    input.id = formId + "-" + name;
    input.name = name;
    var errId = "err-" + formId + "-" + name;
    input.setAttribute("aria-describedby", errId);
    return el("div", { class: "field" + (wide ? " wide" : "") }, [
      el("label", { for: input.id }, [label, hint ? el("span", { class: "hint", text: " " + hint }) : null]),
      input,
      el("span", { class: "field-error", id: errId })
    ]);
  }

  /* ---- the API key dialog ---------------------------------------------- */

  var keyDialog = document.getElementById("key-dialog");
  var keyInput = document.getElementById("key-input");
  var keyButton = document.getElementById("key-button");

  function keyLabel() { keyButton.textContent = "API key: " + (apiKey() ? "set" : "none"); }

  function openKeyDialog() {
    if (keyDialog.open) return;
    keyInput.value = apiKey();
    keyDialog.showModal();
    keyInput.focus();
  }

  keyButton.addEventListener("click", openKeyDialog);
  document.getElementById("key-cancel").addEventListener("click", function () { keyDialog.close(); });
  document.getElementById("key-clear").addEventListener("click", function () {
    sessionStorage.removeItem(KEY_STORE);
    keyDialog.close();
    keyLabel();
    route();
  });
  document.getElementById("key-form").addEventListener("submit", function () {
    var v = keyInput.value.trim();
    if (v) sessionStorage.setItem(KEY_STORE, v); else sessionStorage.removeItem(KEY_STORE);
    keyLabel();
    showBanner("", "");
    route();
  });

  /* ---- the QR dialog ---------------------------------------------------- */

  var qrDialog = document.getElementById("qr-dialog");
  var blobUrls = [];

  function qrInto(img, id, size, alt) {
    return apiBlob("/urls/" + id + "/qr.svg?size=" + size).then(function (b) {
      var u = URL.createObjectURL(b);
      blobUrls.push(u);
      img.src = u;
      img.alt = alt;
      return u;
    });
  }

  function showQr(u) {
    var img = document.getElementById("qr-image");
    document.getElementById("qr-url").textContent = u.short_url;
    img.removeAttribute("src");
    qrInto(img, u.id, 256, "QR code of " + u.short_url).then(function (svgUrl) {
      var a = document.getElementById("qr-svg");
      a.href = svgUrl; a.download = u.short_code + ".svg";
      return apiBlob("/urls/" + u.id + "/qr.png?size=512");
    }).then(function (png) {
      var a = document.getElementById("qr-png");
      var pu = URL.createObjectURL(png);
      blobUrls.push(pu);
      a.href = pu; a.download = u.short_code + ".png";
    }).catch(fail);
    qrDialog.showModal();
    document.getElementById("qr-close").focus();
  }

  /* ---- #/: the links ---------------------------------------------------- */

  var listState = { q: "", status: "", user: "", cursors: [null], page: 0 };

  function renderLinks() {
    document.title = "Links · Shortener";
    view.innerHTML = "";
    view.appendChild(el("h1", { text: "Links" }));
    view.appendChild(createForm());
    view.appendChild(el("h2", { id: "list-title", text: "Your links" }));
    view.appendChild(toolbar());
    var table = el("table", { class: "links", "aria-labelledby": "list-title" }, [
      el("thead", {}, [el("tr", {}, ["Short link", "Destination", "Title", "Status", "Clicks left", "Created (UTC)", "Actions"].map(function (h) {
        return el("th", { scope: "col", text: h });
      }))]),
      el("tbody", { id: "links-body" })
    ]);
    view.appendChild(table);
    view.appendChild(el("div", { class: "pager" }, [
      el("button", { type: "button", id: "prev-page", text: "Previous", onclick: function () { turn(-1); } }),
      el("span", { id: "page-info" }),
      el("button", { type: "button", id: "next-page", text: "Next", onclick: function () { turn(1); } })
    ]));
    loadLinks();
  }

  function createForm() {
    var f = el("form", { class: "grid", id: "create", "aria-labelledby": "new-link-heading", novalidate: true });
    var user = el("input", { type: "number", min: "1", required: true, inputmode: "numeric" });
    user.value = localStorage.getItem(USER_STORE) || "";
    f.appendChild(el("h2", { id: "new-link-heading", text: "New short link", style: "grid-column: 1 / -1; margin: 0" }));
    f.appendChild(field("create", "original_url", "Destination URL", el("input", { type: "url", required: true, placeholder: "https://example.com/page" }), null, true));
    f.appendChild(field("create", "user_id", "Owner (user id)", user));
    f.appendChild(field("create", "short_code", "Custom code", el("input", { type: "text", pattern: "[A-Za-z0-9_-]{3,32}", placeholder: "optional" }), "3-32 of A-Z a-z 0-9 _ -"));
    f.appendChild(field("create", "title", "Title", el("input", { type: "text", maxlength: "200" }), "optional"));
    f.appendChild(field("create", "expires_at", "Expires at (UTC)", el("input", { type: "datetime-local", step: "1" }), "optional"));
    f.appendChild(field("create", "max_clicks", "Click limit", el("input", { type: "number", min: "1", inputmode: "numeric" }), "optional"));
    f.appendChild(el("div", { class: "actions" }, [
      el("button", { type: "submit", class: "primary", id: "create-submit", text: "Shorten" }),
      el("button", { type: "button", id: "new-user", text: "New owner…", onclick: newUser }),
      el("span", { id: "create-result", "aria-live": "polite" })
    ]));
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = function (n) { return f.elements[n].value.trim(); };
      var body = { original_url: v("original_url"), user_id: Number(v("user_id")) };
      if (!v("user_id") || !Number.isInteger(body.user_id)) body.user_id = v("user_id") || null;
      if (v("short_code")) body.short_code = v("short_code");
      if (v("title")) body.title = v("title");
      if (v("expires_at")) body.expires_at = toContractTs(v("expires_at"));
      if (v("max_clicks")) body.max_clicks = Number(v("max_clicks"));
      api("POST", "/urls", body).then(function (r) {
        localStorage.setItem(USER_STORE, String(r.data.user_id));
        fieldErrors(f, { body: {} });
        var out = document.getElementById("create-result");
        out.innerHTML = "";
        out.appendChild(el("span", {}, ["Created ", el("a", { href: r.data.short_url, id: "created-link", class: "code", text: r.data.short_url }), " "]));
        out.appendChild(el("button", { type: "button", text: "Copy", onclick: function () { copy(r.data.short_url); } }));
        showBanner("ok", "Created " + r.data.short_url);
        ["original_url", "short_code", "title", "expires_at", "max_clicks"].forEach(function (n) { f.elements[n].value = ""; });
        listState.cursors = [null]; listState.page = 0;
        loadLinks();
      }).catch(function (err) {
        if (err instanceof ApiError && err.status === 422) {
          showBanner("error", "Please correct the highlighted fields.");
          fieldErrors(f, err);
        } else if (err instanceof ApiError && err.status === 409) {
          showBanner("error", err.message);
          f.elements.short_code.focus();
        } else if (err instanceof ApiError && err.status === 404) {
          showBanner("error", "No user with that id: create an owner first.");
          f.elements.user_id.focus();
        } else fail(err);
      });
    });
    return f;
  }

  function newUser() {
    var name = window.prompt("New owner's name");
    if (!name) return;
    var email = window.prompt("New owner's email");
    if (!email) return;
    api("POST", "/users", { username: name, email: email }).then(function (r) {
      localStorage.setItem(USER_STORE, String(r.data.id));
      var input = document.getElementById("create-user_id");
      if (input) input.value = r.data.id;
      showBanner("ok", "Owner " + r.data.username + " created with id " + r.data.id);
    }).catch(fail);
  }

  function toolbar() {
    var q = el("input", { type: "search", id: "search", placeholder: "code or part of the URL" });
    q.value = listState.q;
    var st = el("select", { id: "status-filter" }, [
      el("option", { value: "", text: "All" }), el("option", { value: "true", text: "Active" }), el("option", { value: "false", text: "Inactive" })
    ]);
    st.value = listState.status;
    var user = el("input", { type: "number", id: "user-filter", min: "1", placeholder: "any" });
    user.value = listState.user;
    var apply = function () {
      listState.q = q.value.trim(); listState.status = st.value; listState.user = user.value.trim();
      listState.cursors = [null]; listState.page = 0;
      loadLinks();
    };
    var timer = null;
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 300); });
    st.addEventListener("change", apply);
    user.addEventListener("change", apply);
    return el("div", { class: "toolbar", role: "search" }, [
      el("div", { class: "field" }, [el("label", { for: "search", text: "Search" }), q]),
      el("div", { class: "field" }, [el("label", { for: "status-filter", text: "Status" }), st]),
      el("div", { class: "field" }, [el("label", { for: "user-filter", text: "Owner id" }), user])
    ]);
  }

  function turn(dir) {
    var next = listState.page + dir;
    if (next < 0 || next >= listState.cursors.length) return;
    listState.page = next;
    loadLinks();
  }

  function loadLinks() {
    var p = new URLSearchParams();
    p.set("per_page", String(PAGE));
    var after = listState.cursors[listState.page];
    if (after !== null) p.set("after_id", String(after));
    else p.set("after_id", "0");
    if (listState.q) p.set("q", listState.q);
    if (listState.status) p.set("is_active", listState.status);
    if (listState.user) p.set("user_id", listState.user);
    var body = document.getElementById("links-body");
    if (!body) return;
    api("GET", "/urls?" + p.toString()).then(function (r) {
      body.innerHTML = "";
      var rows = r.data || [];
      rows.forEach(function (u) { body.appendChild(linkRow(u)); });
      if (rows.length === 0) body.appendChild(el("tr", {}, [el("td", { colspan: "7", text: "No links match." })]));
      var total = r.headers.get("X-Total-Count");
      var exact = r.headers.get("X-Total-Count-Exact") !== "false";
      var hasNext = /rel="next"/.test(r.headers.get("Link") || "");
      if (hasNext && listState.cursors.length === listState.page + 1)
        listState.cursors.push(rows[rows.length - 1].id);
      document.getElementById("next-page").disabled = !hasNext;
      document.getElementById("prev-page").disabled = listState.page === 0;
      document.getElementById("page-info").textContent = "Page " + (listState.page + 1) +
        (total !== null ? " of " + (exact ? "" : "more than ") + Math.max(1, Math.ceil(Number(total) / PAGE)) + " (" + (exact ? "" : "> ") + total + " links)" : "");
      say(rows.length + " links shown");
    }).catch(fail);
  }

  function linkRow(u) {
    var state = linkState(u);
    var actions = el("td", { class: "actions" }, [
      el("button", { type: "button", text: "Copy", "aria-label": "Copy " + u.short_url, onclick: function () { copy(u.short_url); } }), " ",
      el("button", { type: "button", text: "QR", "aria-label": "QR code of " + u.short_code, onclick: function () { showQr(u); } }), " ",
      el("a", { class: "button", href: "#/links/" + u.id, text: "Stats", "aria-label": "Stats of " + u.short_code }), " ",
      el("button", { type: "button", text: "Edit", "aria-label": "Edit " + u.short_code, onclick: function () { editRow(u, tr); } }), " ",
      el("button", { type: "button", text: u.is_active ? "Deactivate" : "Activate", "aria-label": (u.is_active ? "Deactivate " : "Activate ") + u.short_code,
        onclick: function () { update(u, { is_active: !u.is_active }, tr); } }), " ",
      el("button", { type: "button", class: "danger", text: "Delete", "aria-label": "Delete " + u.short_code, onclick: function () { remove(u, tr); } })
    ]);
    var tr = el("tr", { "data-id": String(u.id), "data-code": u.short_code }, [
      el("td", {}, [el("a", { class: "code", href: u.short_url, text: u.short_code, rel: "noopener" })]),
      el("td", { class: "url" }, [el("a", { href: u.original_url, text: u.original_url, rel: "noopener noreferrer" })]),
      el("td", { text: u.title || "" }),
      el("td", {}, [el("span", { class: "badge " + state, text: state })]),
      el("td", { text: u.max_clicks === null ? "no limit" : (u.clicks_left + " of " + u.max_clicks) }),
      el("td", { text: u.created_at.replace("T", " ") }),
      actions
    ]);
    return tr;
  }

  function update(u, body, tr) {
    return api("PUT", "/urls/" + u.id, body).then(function (r) {
      tr.replaceWith(linkRow(r.data));
      showBanner("ok", "Saved " + r.data.short_code);
      return r.data;
    });
  }

  function remove(u, tr) {
    if (!window.confirm("Delete " + u.short_url + "? It stops redirecting at once.")) return;
    api("DELETE", "/urls/" + u.id).then(function () {
      tr.remove();
      showBanner("ok", "Deleted " + u.short_code);
    }).catch(fail);
  }

  function editRow(u, tr) {
    var id = "edit-" + u.id;
    var f = el("form", { class: "grid", id: id, novalidate: true });
    var url = el("input", { type: "url", required: true }); url.value = u.original_url;
    var title = el("input", { type: "text", maxlength: "200" }); title.value = u.title || "";
    var exp = el("input", { type: "datetime-local", step: "1" }); exp.value = fromContractTs(u.expires_at);
    var max = el("input", { type: "number", min: "1" }); max.value = u.max_clicks === null ? "" : u.max_clicks;
    f.appendChild(field(id, "original_url", "Destination URL", url, null, true));
    f.appendChild(field(id, "title", "Title", title));
    f.appendChild(field(id, "expires_at", "Expires at (UTC)", exp, "empty: never"));
    f.appendChild(field(id, "max_clicks", "Click limit", max, "empty: none"));
    f.appendChild(el("div", { class: "actions" }, [
      el("button", { type: "submit", class: "primary", text: "Save" }),
      el("button", { type: "button", text: "Cancel", onclick: function () { row.replaceWith(tr); } })
    ]));
    var row = el("tr", {}, [el("td", { colspan: "7" }, [f])]);
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { original_url: url.value.trim(), title: title.value.trim() || null };
      var newExp = exp.value ? toContractTs(exp.value) : null;
      if (newExp !== u.expires_at) body.expires_at = newExp;
      var newMax = max.value ? Number(max.value) : null;
      if (newMax !== u.max_clicks) body.max_clicks = newMax;
      api("PUT", "/urls/" + u.id, body).then(function (r) {
        row.replaceWith(linkRow(r.data));
        showBanner("ok", "Saved " + r.data.short_code);
      }).catch(function (err) {
        if (err instanceof ApiError && err.status === 422) { showBanner("error", "Please correct the highlighted fields."); fieldErrors(f, err); }
        else fail(err);
      });
    });
    tr.replaceWith(row);
    url.focus();
  }

  /* ---- #/links/<id>: one link's stats ---------------------------------- */

  var charts = [];

  function dateStr(d) { return d.toISOString().slice(0, 10); }

  function renderLink(id, days) {
    days = days || 30;
    view.innerHTML = "";
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    Promise.all([api("GET", "/urls/" + id), statsFor(id, days)]).then(function (res) {
      var u = res[0].data, s = res[1].data;
      document.title = u.short_code + " · Shortener";
      view.appendChild(el("p", {}, [el("a", { href: "#/", text: "← All links" })]));
      view.appendChild(el("h1", {}, ["Stats of ", el("span", { class: "code", text: u.short_code })]));
      var img = el("img", { class: "qr", id: "stats-qr", width: "160", height: "160", alt: "" });
      view.appendChild(el("div", { class: "linkhead" }, [
        img,
        el("div", {}, [
          el("p", {}, [el("a", { class: "code", id: "stats-short-url", href: u.short_url, text: u.short_url }), " ",
            el("button", { type: "button", text: "Copy", onclick: function () { copy(u.short_url); } })]),
          el("p", {}, ["→ ", el("a", { href: u.original_url, text: u.original_url, rel: "noopener noreferrer" })]),
          el("p", {}, [el("span", { class: "badge " + linkState(u), text: linkState(u) }),
            u.expires_at ? " expires " + u.expires_at.replace("T", " ") + " UTC" : "",
            u.max_clicks !== null ? " · " + u.clicks_left + " of " + u.max_clicks + " clicks left" : ""])
        ])
      ]));
      qrInto(img, u.id, 160, "QR code of " + u.short_url).catch(fail);
      var sel = el("select", { id: "period" }, [7, 30, 90, 365].map(function (n) {
        return el("option", { value: String(n), text: "Last " + n + " days" });
      }));
      sel.value = String(days);
      sel.addEventListener("change", function () { renderLink(id, Number(sel.value)); });
      view.appendChild(el("div", { class: "toolbar" }, [el("div", { class: "field" }, [el("label", { for: "period", text: "Period" }), sel])]));
      statsBody(s);
    }).catch(fail);
  }

  function statsFor(id, days) {
    var to = new Date();
    var from = new Date(to.getTime() - (days - 1) * 86400000);
    return api("GET", "/urls/" + id + "/stats?from=" + dateStr(from) + "&to=" + dateStr(to));
  }

  function card(id, n, label) {
    return el("div", { class: "card" }, [el("div", { class: "n", id: id, text: String(n) }), el("div", { class: "l", text: label })]);
  }

  function statsBody(s) {
    var p = s.period;
    view.appendChild(el("div", { class: "cards" }, [
      card("stat-total", s.clicks, "clicks, all time"),
      card("stat-period", p.clicks, "clicks " + p.from + " to " + p.to),
      card("stat-human", p.human_clicks, "by people"),
      card("stat-bot", p.bot_clicks, "by bots"),
      card("stat-last", s.last_click_at ? s.last_click_at.replace("T", " ") : "never", "last click (UTC)")
    ]));
    view.appendChild(el("h2", { id: "daily-title", text: "Clicks per day (UTC)" }));
    var daily = el("div", { class: "chart", id: "chart-daily", role: "img", "aria-labelledby": "daily-title" });
    view.appendChild(daily);
    view.appendChild(table("Clicks per day", ["Day", "Clicks", "People", "Bots"], p.by_day.filter(function (d) { return d.clicks > 0 || d.human_clicks + d.bot_clicks > 0; })
      .map(function (d) { return [d.date, d.clicks, d.human_clicks, d.bot_clicks]; }), "sr-only", "daily-table"));
    view.appendChild(el("h2", { id: "hourly-title", text: "Clicks per hour (UTC)" }));
    var hourly = el("div", { class: "chart", id: "chart-hourly", role: "img", "aria-labelledby": "hourly-title" });
    view.appendChild(hourly);
    drawDaily(daily, p.by_day);
    drawHourly(hourly, p);
    var total = p.human_clicks + p.bot_clicks;
    view.appendChild(el("h2", { text: "Breakdowns (people only; bots separately)" }));
    view.appendChild(el("div", { class: "breakdowns" }, [
      breakdown("Referrers", "referrers", p.referrers),
      breakdown("Browsers", "browsers", p.browsers),
      breakdown("Operating systems", "os", p.os),
      breakdown("Devices", "devices", p.devices),
      breakdown("People and bots", "bots", [{ name: "people", clicks: p.human_clicks }, { name: "bots", clicks: p.bot_clicks }], total)
    ]));
  }

  function table(caption, heads, rows, cls, id) {
    return el("table", { class: cls || "", id: id || null }, [
      el("caption", { class: "sr-only", text: caption }),
      el("thead", {}, [el("tr", {}, heads.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
      el("tbody", {}, rows.map(function (r) { return el("tr", {}, r.map(function (c) { return el("td", { text: String(c) }); })); }))
    ]);
  }

  function breakdown(title, id, rows, total) {
    var sum = total || rows.reduce(function (a, r) { return a + r.clicks; }, 0) || 1;
    var body = el("tbody", {}, rows.length ? rows.map(function (r) {
      return el("tr", { "data-name": r.name }, [
        el("td", {}, [r.name, el("div", { class: "bar", style: "width:" + Math.round(100 * r.clicks / sum) + "%", "aria-hidden": "true" })]),
        el("td", { class: "n", text: String(r.clicks) })
      ]);
    }) : [el("tr", {}, [el("td", { colspan: "2", text: "No clicks in this period." })])]);
    return el("section", { "aria-labelledby": "bd-" + id }, [
      el("h3", { id: "bd-" + id, text: title }),
      el("table", { id: "breakdown-" + id }, [el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "Name" }), el("th", { scope: "col", text: "Clicks" })])]), body])
    ]);
  }

  function chartWidth(node) { return Math.max(280, node.clientWidth - 12); }

  function drawDaily(node, days) {
    var xs = days.map(function (d) { return Date.parse(d.date + "T00:00:00Z") / 1000; });
    var data = [xs, days.map(function (d) { return d.clicks; }), days.map(function (d) { return d.human_clicks; }), days.map(function (d) { return d.bot_clicks; })];
    charts.push(new uPlot({
      width: chartWidth(node), height: 240, tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      series: [{}, { label: "clicks", stroke: "#1d4ed8", width: 2, fill: "rgba(29,78,216,.08)" },
        { label: "people", stroke: "#166534", width: 2 }, { label: "bots", stroke: "#b45309", width: 2, dash: [6, 4] }],
      axes: [{}, { label: "clicks" }], scales: { y: { range: function (u, min, max) { return [0, Math.max(4, max)]; } } }
    }, data, node));
  }

  function drawHourly(node, p) {
    var start = Date.parse(p.from + "T00:00:00Z") / 1000, end = Date.parse(p.to + "T00:00:00Z") / 1000 + 86400;
    var byHour = {};
    p.by_hour.forEach(function (h) { byHour[Date.parse(h.hour + "Z") / 1000] = h; });
    var xs = [], people = [], bots = [];
    for (var t = start; t < end; t += 3600) {
      xs.push(t);
      var h = byHour[t];
      people.push(h ? h.human_clicks : 0);
      bots.push(h ? h.bot_clicks : 0);
    }
    charts.push(new uPlot({
      width: chartWidth(node), height: 200, tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      series: [{}, { label: "people", stroke: "#166534", width: 1, fill: "rgba(22,101,52,.12)" }, { label: "bots", stroke: "#b45309", width: 1 }],
      axes: [{}, { label: "clicks" }], scales: { y: { range: function (u, min, max) { return [0, Math.max(2, max)]; } } }
    }, [xs, people, bots], node));
  }

  /* ---- routing ------------------------------------------------------------ */

  function route() {
    blobUrls.forEach(function (u) { URL.revokeObjectURL(u); });
    blobUrls = [];
    var h = location.hash || "#/";
    var m = /^#\/links\/(\d+)$/.exec(h);
    document.getElementById("nav-links").setAttribute("aria-current", m ? "false" : "page");
    if (m) renderLink(Number(m[1]));
    else renderLinks();
  }

  function loadConfig() {
    return fetch("/static/config.json").then(function (r) { return r.ok ? r.json() : {}; }).then(function (c) {
      config = c || {};
      [["nav-prometheus", config.prometheus_url], ["nav-grafana", config.grafana_url]].forEach(function (pair) {
        var a = document.getElementById(pair[0]);
        if (pair[1]) { a.href = pair[1]; a.hidden = false; }
      });
    }).catch(function () { /* links stay hidden */ });
  }

  window.addEventListener("hashchange", function () { showBanner("", ""); route(); });
  keyLabel();
  loadConfig();
  route();
})();
