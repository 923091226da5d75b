/* Lamplighter dashboard: the brightness, colour-temperature and colour controls of a light.
 *
 * Loaded before dashboard.js, which calls window.lamplighterLightControls(helpers) once and
 * hands each light payload to show(). helpers.post sends a change over the dashboard socket
 * (light.set) when it is open, else as the REST state call. While a control is dragged, each light has at most one
 * state request in flight: a value that comes meanwhile waits, replacing any older waiting
 * value, and is sent when the answer arrives, so the last value always reaches the hub.
 */
(function () {
  "use strict";

  function hex(rgb) {
    return "#" + rgb.map(function (channel) {
      return ("0" + channel.toString(16)).slice(-2);
    }).join("");
  }

  function rgbOf(value) {
    const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(value);
    return match ? [1, 2, 3].map(function (index) { return parseInt(match[index], 16); }) : null;
  }

  const IN_USE_MS = 1000; // a control moved this recently is left as the user holds it

  // What each control sends: its field and the value it holds.
  const FIELDS = {
    brightness: function (input) { return Number(input.value); },
    color_temp_kelvin: function (input) { return Number(input.value); },
    rgb: function (input) { return rgbOf(input.value); },
  };

  window.lamplighterLightControls = function (helpers) {
    const senders = new Map(); // light id -> its one-in-flight sender

    function sender(row) {
      const id = row.dataset.lightId;
      let found = senders.get(id);
      if (!found) {
        found = {
          inFlight: false,
          waiting: null,
          url: row.querySelector(".switch").dataset.stateUrl,
          lightId: Number(id),
        };
        senders.set(id, found);
      }
      return found;
    }

    function send(row, body) {
      const state = sender(row);
      if (state.inFlight) {
        state.waiting = Object.assign(state.waiting || {}, body); // the newest value of each field
        return;
      }
      state.inFlight = true;
      row.dataset.sending = "true";
      helpers
        .post(state.url, state.lightId, body)
        .then(helpers.applyLight)
        .catch(function (error) {
          helpers.notify(helpers.tr("Could not change the light: %(error)s", { error: error.message }), "bad");
        })
        .finally(function () {
          state.inFlight = false;
          delete row.dataset.sending;
          if (state.waiting) {
            const next = state.waiting;
            state.waiting = null;
            send(row, next);
          }
        });
    }

    function controlMoved(input) {
      const row = input.closest("[data-light-id]");
      const field = input.dataset.field;
      const body = { on: true };
      body[field] = FIELDS[field](input);
      if (body[field] === null) {
        return;
      }
      row.dataset.touchedAt = String(Date.now());
      showLevel(input);
      send(row, body);
    }

    function showLevel(input) {
      const output = input.parentElement.querySelector("output");
      if (!output) {
        return;
      }
      if (input.dataset.field === "brightness") {
        output.textContent = Math.round((Number(input.value) * 100) / 255) + " %";
      } else if (input.dataset.field === "color_temp_kelvin") {
        output.textContent = input.value + " K";
      }
    }

    // A light's desired values into its controls, unless they are in use on this page (the echo
    // of an earlier value would make the slider jump back under the finger).
    function show(row, payload) {
      const inUse = row.dataset.sending || Date.now() - Number(row.dataset.touchedAt || 0) < IN_USE_MS;
      row.querySelectorAll("[data-field]").forEach(function (input) {
        const field = input.dataset.field;
        const value = payload["desired_" + field];
        if (value === null || value === undefined || inUse) {
          return;
        }
        input.value = field === "rgb" ? hex(value) : String(value);
        showLevel(input);
      });
      const level = row.querySelector('[data-role="reported-level"]');
      if (level) {
        const parts = [];
        if (payload.reported_brightness !== null && payload.reported_brightness !== undefined) {
          parts.push(Math.round((payload.reported_brightness * 100) / 255) + " %");
        }
        if (payload.reported_color_temp_kelvin) {
          parts.push(payload.reported_color_temp_kelvin + " K");
        }
        if (payload.reported_rgb) {
          parts.push(hex(payload.reported_rgb));
        }
        level.textContent = parts.join(" · ");
      }
    }

    document.addEventListener("input", function (event) {
      const input = event.target.closest ? event.target.closest(".light-controls [data-field]") : null;
      if (input) {
        controlMoved(input);
      }
    });

    return { show: show };
  };
})();
