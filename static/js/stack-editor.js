// The stack editor page: mounts the vendored code editor over the textarea and keeps its
// line markers in step with the findings panel that htmx swaps in.
(function () {
  "use strict";

  function readFindings() {
    var node = document.getElementById("open-findings");
    if (!node) return [];
    try {
      return JSON.parse(node.textContent);
    } catch (e) {
      return [];
    }
  }

  function init() {
    var textarea = document.getElementById("editor-text");
    if (!textarea || !window.PankaEditor) return;
    var openPath = document.getElementById("editor-path").value;
    var editor = window.PankaEditor.mount(textarea, { readOnly: textarea.readOnly });
    var pending = false; // typed since the last answered validation

    editor.setFindings(readFindings());
    var line = parseInt(textarea.dataset.gotoLine, 10);
    if (line > 0) editor.gotoLine(line, parseInt(textarea.dataset.gotoColumn, 10) || 1);

    textarea.addEventListener("input", function () {
      pending = true;
      var state = document.getElementById("draft-state");
      if (state) state.textContent = "unsaved changes";
    });

    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "findings") {
        editor.setFindings(readFindings());
      }
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.elt === textarea && event.detail.successful) pending = false;
    });

    // A finding in the open file moves the cursor; one in another file opens that file.
    document.body.addEventListener("click", function (event) {
      var link = event.target.closest("a.finding-link, a.file-link");
      if (!link) return;
      if (link.classList.contains("finding-link") && link.dataset.file === openPath) {
        event.preventDefault();
        editor.gotoLine(parseInt(link.dataset.line, 10) || 1, parseInt(link.dataset.column, 10) || 1);
        return;
      }
      if (pending && !textarea.readOnly) {
        // Keep the last keystrokes: autosave before leaving the file.
        event.preventDefault();
        window.htmx
          .ajax("POST", textarea.getAttribute("hx-post"), {
            source: textarea,
            target: "#findings",
            swap: "outerHTML",
          })
          .then(function () {
            window.location.href = link.href;
          });
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
