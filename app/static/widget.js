/* Ketamine information chat: embeddable widget. One line on any page:
 *   <script src="https://CHAT-HOST/widget.js" data-clinic-name="..." data-primary-color="#0f766e"
 *           data-accent-color="#f8fafc" data-position="right" data-welcome="..." async></script>
 * Plain JavaScript, no framework, no external requests except to the chat server that served it.
 * Everything renders inside a Shadow DOM; all text from users, the server or the sources is set
 * with textContent, never as HTML. */
(function () {
  "use strict";
  var DEFAULTS = /*CONFIG*/{};
  var script = document.currentScript;
  if (!script || window.__ketaWidgetLoaded) { return; }
  window.__ketaWidgetLoaded = true;
  var base = new URL(script.src, location.href).origin;
  var data = script.dataset || {};
  var hex = /^#[0-9a-fA-F]{6}$/;
  var color = hex.test(data.primaryColor || "") ? data.primaryColor : (DEFAULTS.primary_color || "#0f766e");
  var accent = hex.test(data.accentColor || "") ? data.accentColor : (DEFAULTS.accent_color || "#f8fafc");
  var cfg = {
    name: data.clinicName || DEFAULTS.clinic_name || "Ketamine information",
    welcome: data.welcome || DEFAULTS.welcome || "Ask me about ketamine for depression and anxiety.",
    position: (data.position || DEFAULTS.position) === "left" ? "left" : "right",
    notice: DEFAULTS.notice || "General information quoted from the listed sources, not medical advice."
  };
  var history = [];
  var busy = false;

  var css = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}",
    ".launcher{position:fixed;bottom:20px;" + cfg.position + ":20px;z-index:2147483000;background:" + color + ";color:#fff;border:0;",
    "border-radius:28px;padding:14px 20px;font-size:16px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    ".panel{position:fixed;bottom:84px;" + cfg.position + ":20px;z-index:2147483001;width:380px;max-width:calc(100vw - 40px);",
    "height:560px;max-height:calc(100vh - 110px);background:#fff;color:#111;border-radius:14px;display:flex;flex-direction:column;",
    "box-shadow:0 10px 30px rgba(0,0,0,.3);overflow:hidden;font-size:15px;line-height:1.45}",
    ".panel[hidden]{display:none}",
    "header{background:" + color + ";color:#fff;padding:12px 14px;display:flex;align-items:center;justify-content:space-between}",
    "header h2{margin:0;font-size:16px}",
    "header button{background:transparent;color:#fff;border:0;font-size:22px;cursor:pointer;line-height:1}",
    ".log{flex:1;overflow-y:auto;padding:12px;background:" + accent + "}",
    ".msg{margin:0 0 10px;padding:9px 11px;border-radius:10px;max-width:92%;white-space:pre-wrap;word-wrap:break-word}",
    ".user{background:" + color + ";color:#fff;margin-left:auto}",
    ".bot{background:#fff;border:1px solid #e2e8f0}",
    ".crisis{background:#fff1f2;border:2px solid #be123c;color:#111;font-weight:500}",
    ".error{background:#fffbeb;border:1px solid #f59e0b}",
    ".notice{font-size:12px;color:#475569;margin-top:6px;font-style:italic}",
    "details{margin-top:6px;font-size:13px}summary{cursor:pointer;color:" + color + ";font-weight:600}",
    "details ol{padding-left:18px;margin:6px 0}details li{margin-bottom:6px}mark{background:#fef08a;color:inherit}",
    ".src-title{font-weight:600;display:block}",
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #e2e8f0;background:#fff}",
    "textarea{flex:1;resize:none;border:1px solid #cbd5e1;border-radius:8px;padding:8px;font-size:15px;height:44px}",
    "form button{background:" + color + ";color:#fff;border:0;border-radius:8px;padding:0 14px;font-size:15px;cursor:pointer}",
    "form button[disabled]{opacity:.6;cursor:wait}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "@media (max-width:480px){.panel{left:0;right:0;bottom:0;width:100vw;max-width:100vw;height:100vh;max-height:100vh;border-radius:0}",
    ".launcher{bottom:14px;" + cfg.position + ":14px}}"
  ].join("");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  var host = el("div", { id: "keta-chat-widget" });
  var root = host.attachShadow({ mode: "open" });
  var style = el("style");
  style.textContent = css;
  var launcher = el("button", { "class": "launcher", type: "button", "aria-expanded": "false", "aria-controls": "keta-panel" }, "Chat: " + cfg.name);
  var panel = el("section", { "class": "panel", id: "keta-panel", role: "dialog", "aria-label": cfg.name + " chat", hidden: "" });
  var header = el("header");
  header.appendChild(el("h2", {}, cfg.name));
  var close = el("button", { type: "button", "aria-label": "Close chat" }, "×");
  header.appendChild(close);
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-relevant": "additions" });
  var form = el("form");
  var label = el("label", { "for": "keta-input", "class": "sr" }, "Your question");
  var input = el("textarea", { id: "keta-input", maxlength: "2000", placeholder: "Ask a question…" });
  var send = el("button", { type: "submit" }, "Send");
  form.appendChild(label); form.appendChild(input); form.appendChild(send);
  panel.appendChild(header); panel.appendChild(log); panel.appendChild(form);
  root.appendChild(style); root.appendChild(launcher); root.appendChild(panel);

  function bubble(cls, text) {
    var node = el("div", { "class": "msg " + cls }, text);
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function plain(text) { return String(text || "").replace(/\*\*/g, ""); }

  function highlight(container, text, quotes) {
    // Build the passage with its quoted sentences in <mark>, using text nodes only.
    var rest = String(text || "").replace(/\s+/g, " ");
    (quotes || []).forEach(function (q) {
      q = String(q).replace(/\s+/g, " ");
      var i = rest.indexOf(q);
      if (i < 0) { return; }
      container.appendChild(document.createTextNode(rest.slice(0, i)));
      container.appendChild(el("mark", {}, q));
      rest = rest.slice(i + q.length);
    });
    container.appendChild(document.createTextNode(rest));
  }

  function sources(node, title, items) {
    if (!items || !items.length) { return; }
    var det = el("details");
    det.appendChild(el("summary", {}, title + " (" + items.length + ")"));
    var ol = el("ol");
    items.forEach(function (c) {
      var li = el("li");
      li.appendChild(el("span", { "class": "src-title" }, (c.number ? "[" + c.number + "] " : "") + c.title + (c.section ? " — " + c.section : "")));
      var p = el("span");
      highlight(p, c.text, c.quotes);
      li.appendChild(p);
      ol.appendChild(li);
    });
    det.appendChild(ol);
    node.appendChild(det);
  }

  function showReply(r) {
    var node = bubble(r.kind === "crisis" ? "crisis" : "bot", plain(r.answer));
    if (r.kind === "crisis") { node.setAttribute("role", "alert"); }
    sources(node, "Sources", r.citations);
    sources(node, "Related passages (not an answer)", r.related);
    node.appendChild(el("div", { "class": "notice" }, r.notice || cfg.notice));
  }

  function fail(status, body, retryAfter) {
    var text = "Something went wrong. Please try again in a moment.";
    if (status === 429) { text = (body && body.detail) || ("You're sending messages quickly. Please wait " + (retryAfter || "a few") + " seconds and try again."); }
    else if (status === 403) { text = "This website is not allowed to use this chat."; }
    else if (status === 413 || status === 422) { text = (body && body.detail) || "Please shorten your message."; }
    else if (status === 503) { text = "The assistant is busy or starting up. Please try again in a few seconds."; }
    else if (status === 0) { text = "The chat could not be reached from this page. Please check your connection; if you run this website, make sure its address is in the chat's allowed origins."; }
    bubble("error", text).setAttribute("role", "status");
  }

  function ask(message) {
    busy = true; send.disabled = true;
    bubble("user", message);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", base + "/api/v1/chat");
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.timeout = 60000;
    xhr.onloadend = function () {
      busy = false; send.disabled = false;
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 200 && body) {
        showReply(body);
        history.push({ role: "user", content: message }, { role: "assistant", content: body.answer });
        history = history.slice(-12);
      } else {
        fail(xhr.status, body, xhr.getResponseHeader && xhr.getResponseHeader("Retry-After"));
        if (xhr.status === 422 || xhr.status === 413) { input.value = message; }
      }
    };
    xhr.send(JSON.stringify({ message: message, history: history }));
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    if (!log.childNodes.length) { bubble("bot", cfg.welcome).appendChild(el("div", { "class": "notice" }, cfg.notice)); }
    input.focus();
  }

  function shut() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) { open(); } else { shut(); } });
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { shut(); } });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var message = input.value.trim();
    if (!message || busy) { return; }
    input.value = "";
    ask(message);
  });

  function mount() { document.body.appendChild(host); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
