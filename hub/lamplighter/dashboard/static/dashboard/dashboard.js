/* Lamplighter dashboard: light switches, live updates over the dashboard WebSocket, notices.
 *
 * Plain JavaScript, no build step. Event envelopes come from hub/lamplighter/infra/realtime.py:
 *   {"type": "light.state", "light": <light payload>}
 *   {"type": "device.presence", "device": <device payload>}
 *   {"type": "device.log", "device_id": <device pk>, "lines": [<log line payload>...]}
 * A switch shows the state the device REPORTED; it is marked pending until the device confirms.
 */
(function () {
  "use strict";

  const PING_EVERY_MS = 15000; // how often we check the socket is alive
  const PONG_TIMEOUT_MS = 5000; // no answer within this: the connection is dead, reconnect
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const NOTICE_MS = 6000;
  const SOUND_KEY = "lamplighter.sound";

  const config = readJson("live-config");
  if (!config) {
    return;
  }

  const lights = new Map(); // light id -> last applied payload
  const devices = new Map(); // device pk -> last applied payload
  const lastEventSeq = new Map(); // "light:3" / "device:7" -> sequence number of its last live event
  let eventSeq = 0;

  // ---- small helpers ----------------------------------------------------------------------

  function readJson(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  // The page's language: English strings mapped to it (templatetags/dashboard_i18n.py lists them).
  const messages = readJson("dashboard-messages") || {};
  const locale = document.documentElement.lang || undefined;

  function tr(text, values) {
    const translated = messages[text] || text;
    return translated.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function fetchJson(url, options) {
    return fetch(url, Object.assign({ credentials: "same-origin" }, options)).then(function (response) {
      if (response.ok) {
        return response.json();
      }
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (body) {
          throw new Error(body.detail || tr("the hub answered %(status)s", { status: response.status }));
        });
    });
  }

  function time(iso) {
    return iso ? Date.parse(iso) || 0 : 0;
  }

  function setHubState(state) {
    document.documentElement.dataset.hub = state; // "connecting" | "connected" | "disconnected"
  }

  // ---- notices and sound ------------------------------------------------------------------

  function notify(text, kind) {
    const box = document.getElementById("notices");
    if (!box) {
      return;
    }
    const notice = document.createElement("div");
    notice.className = "notice " + (kind || "");
    notice.textContent = text;
    box.appendChild(notice);
    window.setTimeout(function () {
      notice.remove();
    }, NOTICE_MS);
  }

  function soundEnabled() {
    try {
      return window.localStorage.getItem(SOUND_KEY) === "on";
    } catch (error) {
      return false; // storage blocked: sound stays off
    }
  }

  let audio = null;

  function beep(frequency) {
    if (!soundEnabled()) {
      return;
    }
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const start = audio.currentTime;
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.3);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.32);
    } catch (error) {
      // No WebAudio here: the visible notice is enough.
    }
  }

  function setUpSoundToggle() {
    const toggle = document.getElementById("sound-toggle");
    if (!toggle) {
      return;
    }
    function show() {
      const on = soundEnabled();
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.textContent = on ? tr("Sound on") : tr("Sound off");
    }
    toggle.hidden = false;
    show();
    toggle.addEventListener("click", function () {
      try {
        window.localStorage.setItem(SOUND_KEY, soundEnabled() ? "off" : "on");
      } catch (error) {
        notify(tr("This browser does not let the page remember the sound setting."), "bad");
      }
      show();
      beep(660); // also unlocks audio, which browsers allow only after a click
    });
  }

  // ---- lights -----------------------------------------------------------------------------

  function isNotOlder(next, current) {
    if (next.desired_version !== current.desired_version) {
      return next.desired_version > current.desired_version;
    }
    return time(next.reported_at) >= time(current.reported_at);
  }

  function applyLight(payload) {
    if (config.homeId !== null && payload.home_id !== config.homeId) {
      return;
    }
    const current = lights.get(payload.id);
    if (current && !isNotOlder(payload, current)) {
      return; // an answer that arrived after a newer event
    }
    lights.set(payload.id, payload);
    const row = document.querySelector('[data-light-id="' + payload.id + '"]');
    if (!row) {
      return;
    }
    const name = row.querySelector(".light-name");
    if (name) {
      name.textContent = payload.name;
    }
    const toggle = row.querySelector(".switch");
    toggle.setAttribute("aria-checked", payload.reported_on ? "true" : "false");
    row.classList.toggle("is-pending", Boolean(payload.pending));
    const mark = row.querySelector('[data-role="pending"]');
    mark.hidden = !payload.pending;
    mark.textContent = payload.desired_on ? tr("pending: on") : tr("pending: off");
    lightControls.show(row, payload);
    showAdaptive(row, payload);
  }

  // Adaptive white: the light's switch, what is paused, and the resume button.
  function showAdaptive(row, payload) {
    const state = row.querySelector('[data-role="adaptive-state"]');
    if (!state || !("adaptive" in payload)) {
      return;
    }
    const paused = payload.adaptive_paused || [];
    let text = tr("following the day");
    if (!payload.adaptive) {
      text = tr("off");
    } else if (paused.length === 2) {
      text = tr("paused (brightness and colour)");
    } else if (paused.indexOf("brightness") >= 0) {
      text = tr("paused (brightness); the colour follows the day");
    } else if (paused.indexOf("color") >= 0) {
      text = tr("paused (colour); the brightness follows the day");
    }
    state.textContent = text;
    const resume = row.querySelector('[data-role="adaptive-resume"]');
    if (resume) {
      resume.hidden = !payload.adaptive || paused.length === 0;
    }
    const toggle = row.querySelector(".adaptive-switch");
    if (toggle) {
      toggle.setAttribute("aria-checked", payload.adaptive ? "true" : "false");
      toggle.form.elements.adaptive.value = payload.adaptive ? "0" : "1";
    }
  }

  // A light's change over the dashboard socket when it is open (no HTTP request per slider
  // value), else through the REST call; either way the answer is the light as the API shows it.
  const asked = new Map(); // ref -> {resolve, reject}
  let nextRef = 0;

  function askLight(url, lightId, body) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return postJson(url, body);
    }
    const ref = ++nextRef;
    return new Promise(function (resolve, reject) {
      asked.set(ref, { resolve: resolve, reject: reject });
      socket.send(JSON.stringify({ type: "light.set", ref: ref, light: lightId, state: body }));
    });
  }

  function answered(result) {
    const waiting = asked.get(result.ref);
    if (!waiting) {
      return;
    }
    asked.delete(result.ref);
    if (result.status === 202) {
      waiting.resolve(result.light);
    } else {
      waiting.reject(new Error(result.detail || tr("the hub answered %(status)s", { status: result.status })));
    }
  }

  function forgetAsked() {
    // The socket is gone: its answers will never come (the change may or may not be stored).
    asked.forEach(function (waiting) {
      waiting.reject(new Error(tr("Lost the connection to the hub. Reconnecting…")));
    });
    asked.clear();
  }

  function postJson(url, body) {
    return fetchJson(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
  }

  function switchClicked(toggle) {
    const row = toggle.closest("[data-light-id]");
    const current = lights.get(Number(row.dataset.lightId));
    // Ask for the opposite of what was last asked: clicking a pending switch takes the request back.
    const wanted = current ? !current.desired_on : toggle.getAttribute("aria-checked") !== "true";
    toggle.disabled = true;
    postJson(toggle.dataset.stateUrl, { on: wanted })
      .then(applyLight)
      .catch(function (error) {
        notify(tr("Could not switch the light: %(error)s", { error: error.message }), "bad");
      })
      .finally(function () {
        toggle.disabled = false;
      });
  }

  // ---- devices ----------------------------------------------------------------------------

  function connectionLabel(connection) {
    return { websocket: tr("WebSocket"), http: tr("HTTP polling") }[connection] || "—";
  }

  function setTime(cell, iso) {
    cell.textContent = "";
    if (!iso) {
      cell.textContent = tr("never");
      return;
    }
    const element = document.createElement("time");
    element.dateTime = iso;
    element.textContent = new Date(iso).toLocaleString(locale);
    cell.appendChild(element);
  }

  function applyDevice(payload, announceUnknown) {
    const known = devices.get(payload.id);
    devices.set(payload.id, payload);
    const changed = known ? known.online !== payload.online : announceUnknown;
    if (changed) {
      if (payload.online) {
        notify(tr("%(name)s is back online.", { name: payload.name }), "good");
        beep(880);
      } else {
        notify(tr("%(name)s went offline.", { name: payload.name }), "bad");
        beep(330);
      }
    }
    const row = document.querySelector('[data-device-pk="' + payload.id + '"]');
    if (!row) {
      return;
    }
    const badge = row.querySelector('[data-role="presence"]');
    badge.textContent = payload.online ? tr("online") : tr("offline");
    badge.className = "badge " + (payload.online ? "online" : "offline");
    row.querySelector('[data-role="connection"]').textContent = connectionLabel(payload.connection);
    row.querySelector('[data-role="mode"]').textContent = payload.mode || "—";
    row.querySelector('[data-role="firmware"]').textContent = payload.firmware_version || "—";
    setTime(row.querySelector('[data-role="last-seen"]'), payload.last_seen);
  }

  // ---- device log -------------------------------------------------------------------------

  const LOG_LINES_SHOWN = 200;

  function logTime(iso) {
    return iso ? new Date(iso).toLocaleTimeString(locale) : "";
  }

  function appendLogLines(devicePk, lines) {
    const list = document.querySelector('[data-device-log="' + devicePk + '"]');
    if (!list) {
      return;
    }
    const empty = list.querySelector('[data-role="empty"]');
    if (empty) {
      empty.remove();
    }
    lines.forEach(function (line) {
      if (list.querySelector('[data-log-id="' + line.id + '"]')) {
        return; // already shown (the page was rendered after this event was sent)
      }
      const item = document.createElement("li");
      item.className = "log-" + String(line.level).toLowerCase();
      item.dataset.logId = line.id;
      const when = document.createElement("time");
      when.className = "muted";
      when.dateTime = line.happened_at || "";
      when.textContent = logTime(line.happened_at);
      item.appendChild(when);
      item.appendChild(document.createTextNode(" " + line.text)); // text, never HTML
      list.appendChild(item);
    });
    while (list.children.length > LOG_LINES_SHOWN) {
      list.firstElementChild.remove();
    }
  }

  // ---- firmware updates (event "ota.job", built in hub/lamplighter/infra/realtime.py) ---------------

  const JOB_LABELS = {
    queued: tr("queued"), offered: tr("offered"), downloading: tr("downloading"), verifying: tr("verifying"),
    rebooting: tr("rebooting"), confirmed: tr("updated"), failed: tr("failed"), rolled_back: tr("rolled back"),
    canceled: tr("canceled"),
  };

  function applyJob(job) {
    const label = (JOB_LABELS[job.state] || job.state) + " " + job.version;
    const reason = job.reason ? job.reason + (job.detail ? ": " + job.detail : "") : "";
    // The firmware page: one row per job.
    const jobRow = document.querySelector('[data-job-id="' + job.id + '"]');
    if (jobRow) {
      jobRow.querySelector('[data-role="job-state"]').textContent = JOB_LABELS[job.state] || job.state;
      const bar = jobRow.querySelector('[data-role="job-progress"]');
      bar.max = job.size;
      bar.value = job.received;
      jobRow.querySelector('[data-role="job-reason"]').textContent = reason;
    }
    // The home page: the device row's update cell.
    const cell = document.querySelector('[data-device-pk="' + job.device_pk + '"] [data-role="ota"]');
    if (cell) {
      cell.textContent = "";
      const bar = document.createElement("progress");
      bar.max = job.size;
      bar.value = job.received;
      const text = document.createElement("span");
      text.className = "small" + (job.state === "failed" || job.state === "rolled_back" ? " bad" : "");
      text.textContent = " " + label + (reason ? " (" + reason + ")" : "");
      cell.appendChild(bar);
      cell.appendChild(text);
    }
    if (job.state === "failed" || job.state === "rolled_back") {
      const state = (JOB_LABELS[job.state] || job.state) + (reason ? " (" + reason + ")" : "");
      notify(tr("Update of %(device)s to %(version)s: %(state)s", { device: job.device, version: job.version, state: state }), "bad");
    }
  }

  // ---- live connection --------------------------------------------------------------------

  function handleEvent(event) {
    if (!event || typeof event !== "object") {
      return;
    }
    if (event.type === "light.state" && event.light) {
      lastEventSeq.set("light:" + event.light.id, ++eventSeq);
      applyLight(event.light);
    } else if (event.type === "device.presence" && event.device) {
      lastEventSeq.set("device:" + event.device.id, ++eventSeq);
      applyDevice(event.device, true);
    } else if (event.type === "device.log" && Array.isArray(event.lines)) {
      appendLogLines(event.device_id, event.lines);
    } else if (event.type === "ota.job" && event.job) {
      applyJob(event.job);
    } else if (event.type === "light.set.result") {
      answered(event);
    }
  }

  function resync() {
    // Whatever happened while we were not listening: fetch the current state once.
    const startedAt = eventSeq;
    const query = config.homeId !== null ? "?home_id=" + encodeURIComponent(config.homeId) : "";
    function fresh(key) {
      return (lastEventSeq.get(key) || 0) <= startedAt; // a live event since is newer than this answer
    }
    if (document.querySelector("[data-light-id]")) {
      fetchJson(config.lightsUrl + query)
        .then(function (list) {
          list.forEach(function (light) {
            if (fresh("light:" + light.id)) {
              applyLight(light);
            }
          });
        })
        .catch(function () {});
    }
    fetchJson(config.devicesUrl + query)
      .then(function (list) {
        list.forEach(function (device) {
          if (fresh("device:" + device.id)) {
            applyDevice(device, false);
          }
        });
      })
      .catch(function () {});
  }

  let socket = null;
  let attempt = 0;
  let lost = false;
  let leaving = false;
  let pingTimer = null;
  let pongTimer = null;
  let reconnectTimer = null;

  function socketUrl() {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + config.wsPath;
  }

  function stopTimers() {
    window.clearInterval(pingTimer);
    window.clearTimeout(pongTimer);
    pingTimer = pongTimer = null;
  }

  function showLost() {
    setHubState("disconnected");
    if (!lost) {
      lost = true;
      document.getElementById("hub-banner").hidden = false;
      notify(tr("Lost the connection to the hub. Reconnecting…"), "bad");
    }
  }

  function showBack() {
    setHubState("connected");
    if (lost) {
      lost = false;
      document.getElementById("hub-banner").hidden = true;
      notify(tr("Connected to the hub again."), "good");
    }
  }

  function scheduleReconnect() {
    window.clearTimeout(reconnectTimer);
    // Exponential backoff with jitter, so many tabs do not all come back at the same instant.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, attempt));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    attempt += 1;
    reconnectTimer = window.setTimeout(connect, delay);
  }

  function dropped(ws) {
    if (socket !== ws) {
      return; // an old socket we already gave up on
    }
    socket = null;
    stopTimers();
    forgetAsked();
    if (leaving) {
      return;
    }
    showLost();
    scheduleReconnect();
  }

  function connect() {
    window.clearTimeout(reconnectTimer);
    if (socket) {
      return;
    }
    setHubState(lost ? "disconnected" : "connecting");
    const ws = new WebSocket(socketUrl());
    socket = ws;
    ws.addEventListener("open", function () {
      attempt = 0;
      showBack();
      pingTimer = window.setInterval(function () {
        if (pongTimer === null) {
          pongTimer = window.setTimeout(function () {
            // No pong: a half-open connection. Give up on it without waiting for a close handshake.
            dropped(ws);
            ws.close();
          }, PONG_TIMEOUT_MS);
        }
        ws.send(JSON.stringify({ type: "ping" }));
      }, PING_EVERY_MS);
      resync();
    });
    ws.addEventListener("message", function (message) {
      window.clearTimeout(pongTimer); // anything from the hub proves the connection is alive
      pongTimer = null;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      // Several events that happened together come as one frame holding their list, in order.
      (Array.isArray(event) ? event : [event]).forEach(handleEvent);
    });
    ws.addEventListener("close", function () {
      dropped(ws);
    });
  }

  function reconnectNow() {
    if (!socket && !leaving) {
      attempt = 0;
      connect();
    }
  }

  // ---- start ------------------------------------------------------------------------------

  // Brightness, colour temperature and colour (light_controls.js, loaded first).
  const lightControls = window.lamplighterLightControls({
    post: askLight,
    applyLight: function (payload) {
      applyLight(payload);
    },
    notify: notify,
    tr: tr,
  });

  (readJson("initial-lights") || []).forEach(applyLight);
  (readJson("initial-devices") || []).forEach(function (device) {
    devices.set(device.id, device);
  });
  // Times in the browser's zone, except those shown on a home's clock (schedules).
  document.querySelectorAll("time[datetime]:not([data-home-clock])").forEach(function (element) {
    const moment = new Date(element.dateTime);
    element.textContent = element.hasAttribute("data-log-time") ? logTime(element.dateTime) : moment.toLocaleString(locale);
  });
  document.addEventListener("click", function (event) {
    const toggle = event.target.closest(".switch[data-state-url]");
    if (toggle && !toggle.disabled) {
      switchClicked(toggle);
    }
  });
  setUpSoundToggle();
  window.addEventListener("pagehide", function () {
    leaving = true; // navigating away closes the socket: not a lost connection
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      leaving = false;
      reconnectNow();
    }
  });
  window.addEventListener("online", reconnectNow);
  connect();
})();
