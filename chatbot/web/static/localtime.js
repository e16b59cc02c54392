// Shows every <time data-local> in the visitor's own time zone, in the page's language.
// Without JavaScript the page shows UTC and the organiser's zone, which stay correct.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  if (lang === "en") { lang = "en-GB"; }  // day before month, as the bot writes dates
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  var full = { weekday: "short", day: "numeric", month: "short", year: "numeric",
               hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  var fmt;
  try { fmt = new Intl.DateTimeFormat(lang, full); } catch (e) { fmt = new Intl.DateTimeFormat("en", full); }
  var nodes = document.querySelectorAll("time[data-local]");
  for (var i = 0; i < nodes.length; i++) {
    var at = new Date(nodes[i].getAttribute("datetime"));
    if (isNaN(at.getTime())) { continue; }
    nodes[i].textContent = fmt.format(at);
    nodes[i].setAttribute("data-shown-in", zone);
  }
  var zones = document.querySelectorAll("[data-visitor-zone]");
  for (var j = 0; j < zones.length; j++) { zones[j].textContent = zone.replace(/_/g, " "); zones[j].parentNode.hidden = false; }
})();
