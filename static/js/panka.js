// Every page: an htmx request that the server refuses as a whole (503 while the database
// or the queue is down, 400 for text it cannot store) is answered with a message that
// goes to #request-alert (the server retargets it there, panka_web/htmx.py), so the
// element the request meant to update (the editor's findings, a run's live log) stays
// as it was. The next answered request clears the message.
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status === 0 || xhr.status >= 400) return;
    var alert = document.getElementById("request-alert");
    if (alert) alert.replaceChildren();
  });
})();
