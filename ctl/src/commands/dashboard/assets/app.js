// fleet dashboard: live updates (server-sent events), the cluster filter,
// confirmed rollout actions and the bake countdown. No dependencies.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var live = document.getElementById("live");
  var tokenTag = document.querySelector('meta[name="csrf-token"]');
  var csrf = tokenTag ? tokenTag.content : "";
  var filterText = "";

  function applyFilter() {
    var table = document.getElementById("clusters");
    if (!table) return;
    var words = filterText.toLowerCase().split(/\s+/).filter(Boolean);
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var text = row.textContent.toLowerCase();
      row.hidden = !words.every(function (word) { return text.indexOf(word) >= 0; });
    });
  }

  function wire() {
    var filter = document.getElementById("filter");
    if (filter) {
      filter.value = filterText;
      filter.addEventListener("input", function () {
        filterText = filter.value;
        applyFilter();
      });
      applyFilter();
    }
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!window.confirm(form.dataset.confirm)) return;
        live.textContent = "sending…";
        // form.action would be the input named "action": read the attribute.
        fetch(form.getAttribute("action"), {
          method: "POST",
          body: new URLSearchParams(new FormData(form)),
          headers: { "X-CSRF-Token": csrf },
          redirect: "manual"
        }).then(function (response) {
          if (response.ok || response.type === "opaqueredirect") {
            live.textContent = "done";
            return;
          }
          return response.text().then(function (text) {
            live.textContent = "refused: " + text;
          });
        }, function (error) {
          live.textContent = "failed: " + error;
        });
      });
    });
  }

  wire();
  var stream = main && main.dataset.stream;
  if (stream && window.EventSource) {
    var source = new EventSource(stream);
    source.addEventListener("update", function (event) {
      var focused = document.activeElement && document.activeElement.id;
      main.innerHTML = event.data;
      wire();
      if (focused && document.getElementById(focused)) {
        document.getElementById(focused).focus();
      }
      live.textContent = "live · updated " + new Date().toLocaleTimeString();
    });
    source.addEventListener("hub-error", function (event) {
      live.textContent = event.data;
    });
    source.onopen = function () { live.textContent = "live"; };
    source.onerror = function () { live.textContent = "reconnecting…"; };
  } else if (live) {
    live.textContent = "";
  }

  setInterval(function () {
    document.querySelectorAll("[data-bake-left-ms]").forEach(function (element) {
      var left = Math.max(0, Number(element.dataset.bakeLeftMs) - 1000);
      element.dataset.bakeLeftMs = String(left);
      element.textContent = "bake: " + Math.ceil(left / 1000) + "s left";
    });
  }, 1000);
})();
