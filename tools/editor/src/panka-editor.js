// Panka Web code editor: a small CodeMirror 6 wrapper exposed as window.PankaEditor.
//
// Built into static/vendor/editor/panka-editor.js by `npm run build` (see ../README.md).
// Public API (kept deliberately small, the pages only talk to this):
//
//   const ed = PankaEditor.mount(textareaOrElementOrSelector, {
//     readOnly: false,        // default: textarea.readOnly || textarea.disabled
//     onChange: (text) => {}, // every document change (user edits, undo, setText with {emit: true})
//     initialText: "...",     // default: textarea.value, or "" for a non-textarea element
//     nonce: "abc",           // CSP nonce for the <style> element CodeMirror injects;
//                             // default: <meta name="csp-nonce" content="..."> if present
//   });
//   ed.getText(); ed.setText(text[, {emit}]); ed.setReadOnly(bool); ed.isReadOnly();
//   ed.setFindings([{line, column, severity: "error"|"warning", message, code}]);
//   ed.gotoLine(line[, column]); ed.focus(); ed.destroy(); ed.view  // raw EditorView
//   PankaEditor.get(element) -> the editor mounted on that element (or null);
//   mounting the same element twice returns the existing editor.

import { EditorState, Compartment, StateField, StateEffect, RangeSetBuilder } from "@codemirror/state";
import {
  EditorView,
  Decoration,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  drawSelection,
} from "@codemirror/view";
import {
  HighlightStyle,
  syntaxHighlighting,
  indentUnit,
  indentOnInput,
  bracketMatching,
} from "@codemirror/language";
import { history, historyKeymap, defaultKeymap, indentMore, indentLess } from "@codemirror/commands";
import { search, searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { setDiagnostics, lintGutter, lintKeymap } from "@codemirror/lint";
import { yaml } from "@codemirror/lang-yaml";
import { tags as t } from "@lezer/highlight";

const VERSION = "1.0.0";
const INDENT = "  ";

// ---------------------------------------------------------------------------
// Look: a plain light theme. Everything goes through CodeMirror's own style
// mechanism (one <style> element, nonce-able), and no rule uses a url(...)
// because CodeMirror's lint defaults are data: SVGs, which a CSP of
// `default-src 'self'` (no img-src data:) would block.

const COLORS = {
  error: "#c62828",
  errorBg: "#fdecea",
  warning: "#b26a00",
  warningMark: "#e69500",
  warningBg: "#fff6e0",
};

const pankaTheme = EditorView.theme(
  {
    "&": {
      color: "#1f2328",
      backgroundColor: "#ffffff",
      border: "1px solid #d0d7de",
      borderRadius: "4px",
      fontSize: "13px",
    },
    "&.cm-focused": {
      outline: "2px solid #0969da",
      outlineOffset: "-1px",
    },
    ".cm-scroller": {
      fontFamily: 'ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace',
      lineHeight: "1.5",
    },
    ".cm-content": { caretColor: "#1f2328", padding: "4px 0" },
    ".cm-cursor, .cm-dropCursor": { borderLeftColor: "#1f2328" },
    "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection":
      { backgroundColor: "#cfe3ff" },
    ".cm-activeLine": { backgroundColor: "#f6f8fa" },
    ".cm-gutters": {
      backgroundColor: "#f6f8fa",
      color: "#6e7781",
      borderRight: "1px solid #d0d7de",
      borderRadius: "4px 0 0 4px",
    },
    ".cm-activeLineGutter": { backgroundColor: "#eaeef2", color: "#1f2328" },
    ".cm-lineNumbers .cm-gutterElement": { padding: "0 6px 0 10px", minWidth: "2.5em" },
    ".cm-searchMatch": { backgroundColor: "#fff3b0", outline: "1px solid #e6c200" },
    ".cm-searchMatch.cm-searchMatch-selected": { backgroundColor: "#ffd54f" },
    ".cm-selectionMatch": { backgroundColor: "#e6f0ff" },
    "&.cm-focused .cm-matchingBracket": { backgroundColor: "#dafbe1", outline: "1px solid #8ddb9b" },
    ".cm-panels": { backgroundColor: "#f6f8fa", color: "#1f2328" },
    ".cm-panels.cm-panels-top": { borderBottom: "1px solid #d0d7de" },
    ".cm-panels.cm-panels-bottom": { borderTop: "1px solid #d0d7de" },
    // Panels (search, findings list): pin down everything a page's global
    // `button`, `input` or `label` rules could otherwise leak into.
    ".cm-panel input, .cm-panel button, .cm-panel label": {
      fontFamily: "system-ui, sans-serif",
      fontSize: "12px",
      fontWeight: "normal",
      lineHeight: "normal",
      width: "auto",
      boxSizing: "border-box",
    },
    ".cm-panel label": { display: "inline-block", margin: "0 8px 0 0", whiteSpace: "pre", color: "#1f2328" },
    ".cm-panel input[type=checkbox]": { margin: "0 3px 0 0", verticalAlign: "middle" },
    ".cm-textfield": {
      border: "1px solid #d0d7de",
      borderRadius: "3px",
      padding: "1px 4px",
      margin: "2px 4px 2px 0",
      backgroundColor: "#ffffff",
      color: "#1f2328",
    },
    ".cm-button": {
      backgroundImage: "none",
      backgroundColor: "#ffffff",
      color: "#1f2328",
      border: "1px solid #d0d7de",
      borderRadius: "3px",
      padding: "1px 10px",
      margin: "2px 4px 2px 0",
      cursor: "pointer",
      "&:hover": { backgroundColor: "#f3f4f6" },
      "&:active": { backgroundImage: "none", backgroundColor: "#eaeef2" },
    },
    ".cm-panel button[name=close]": {
      backgroundColor: "transparent",
      color: "#57606a",
      border: "none",
      borderRadius: "0",
      padding: "0 4px",
      margin: "0",
      fontSize: "16px",
      cursor: "pointer",
    },
    ".cm-tooltip": {
      border: "1px solid #d0d7de",
      backgroundColor: "#ffffff",
      borderRadius: "4px",
      boxShadow: "0 2px 6px rgba(31,35,40,.12)",
    },

    // Findings: in-text marks (override lint's data: SVG squiggles with CSS).
    ".cm-lintRange": { backgroundImage: "none", paddingBottom: "0" },
    ".cm-lintRange-error": {
      backgroundImage: "none",
      textDecoration: `underline wavy ${COLORS.error}`,
      textDecorationSkipInk: "none",
      textUnderlineOffset: "3px",
    },
    ".cm-lintRange-warning": {
      backgroundImage: "none",
      textDecoration: `underline wavy ${COLORS.warningMark}`,
      textDecorationSkipInk: "none",
      textUnderlineOffset: "3px",
    },
    ".cm-lintRange-info, .cm-lintRange-hint": {
      backgroundImage: "none",
      textDecoration: "underline dotted #6e7781",
      textUnderlineOffset: "3px",
    },
    ".cm-lintPoint:after": { borderBottomColor: COLORS.error },
    ".cm-lintPoint-warning:after": { borderBottomColor: COLORS.warningMark },
    // Whole-line tint for lines carrying findings.
    ".cm-panka-line-error": { backgroundColor: COLORS.errorBg },
    ".cm-panka-line-warning": { backgroundColor: COLORS.warningBg },
    ".cm-panka-line-error.cm-activeLine": { backgroundColor: "#fbdcd8" },
    ".cm-panka-line-warning.cm-activeLine": { backgroundColor: "#ffefc6" },
    // Gutter markers: CSS shapes instead of lint's data: SVG `content`.
    ".cm-gutter-lint": { width: "1.3em" },
    ".cm-gutter-lint .cm-gutterElement": { padding: "0", display: "flex", alignItems: "center", justifyContent: "center" },
    ".cm-lint-marker": { content: "normal", width: "0.75em", height: "0.75em", display: "inline-block" },
    ".cm-lint-marker-error": { content: "normal", backgroundColor: COLORS.error, borderRadius: "50%" },
    ".cm-lint-marker-warning": {
      content: "normal",
      backgroundColor: COLORS.warningMark,
      clipPath: "polygon(50% 0, 100% 100%, 0 100%)",
    },
    ".cm-lint-marker-info, .cm-lint-marker-hint": { content: "normal", backgroundColor: "#8c959f", borderRadius: "2px" },
    ".cm-diagnostic": { fontFamily: "system-ui, sans-serif", fontSize: "12px" },
    ".cm-diagnostic-error": { borderLeft: `4px solid ${COLORS.error}` },
    ".cm-diagnostic-warning": { borderLeft: `4px solid ${COLORS.warningMark}` },
    ".cm-diagnosticSource": { fontFamily: "ui-monospace, monospace", opacity: ".75" },
    // Read-only look.
    "&.cm-panka-readonly": { backgroundColor: "#fbfbfc" },
    "&.cm-panka-readonly .cm-content": { caretColor: "transparent" },
  },
  { dark: false }
);

const pankaHighlight = HighlightStyle.define([
  { tag: t.definition(t.propertyName), color: "#0550ae" },
  { tag: t.propertyName, color: "#0550ae" },
  { tag: [t.string, t.special(t.string)], color: "#0a3069" },
  { tag: t.content, color: "#1f2328" },
  { tag: [t.number, t.bool, t.null, t.atom], color: "#8250df" },
  { tag: [t.lineComment, t.comment], color: "#6e7781", fontStyle: "italic" },
  { tag: [t.labelName], color: "#953800" },
  { tag: t.typeName, color: "#116329" },
  { tag: [t.keyword, t.meta], color: "#cf222e" },
  { tag: t.attributeValue, color: "#0a3069" },
  { tag: [t.separator, t.punctuation, t.squareBracket, t.brace], color: "#57606a" },
  { tag: t.invalid, color: COLORS.error },
]);

// ---------------------------------------------------------------------------
// Findings -> whole-line decorations (the lint extension does the gutter,
// in-text marks and hover tooltips; this adds the line tint).

const setLineFindings = StateEffect.define();

const lineFindingsField = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) if (e.is(setLineFindings)) deco = e.value;
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

const SEVERITIES = new Set(["error", "warning", "info", "hint"]);
const SEVERITY_RANK = { error: 3, warning: 2, info: 1, hint: 0 };

function toInt(v, dflt) {
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : dflt;
}

// Convert one finding ({line, column} 1-based) into a diagnostic range.
function findingRange(doc, finding) {
  const lineNo = Math.min(Math.max(toInt(finding.line, 1), 1), doc.lines);
  const line = doc.line(lineNo);
  const col = toInt(finding.column, 0);
  let from, to;
  if (col >= 1) {
    from = Math.min(line.from + col - 1, line.to);
    // Cover the token under the column (up to the next space / ':' / ','),
    // or the rest of the line when that is empty.
    const rest = line.text.slice(from - line.from);
    const m = /^[^\s:,\]}]+/.exec(rest);
    to = m ? from + m[0].length : line.to;
    if (to === from && from > line.from) from -= 1; // point at end of line
  } else {
    const indent = /^\s*/.exec(line.text)[0].length;
    from = line.from + indent;
    to = line.to;
  }
  return { line, from, to };
}

// Tab: two spaces (or indent the selected lines); Shift-Tab dedents.
// Returns false when read-only so Tab moves focus instead.
function insertTwoSpaces(view) {
  if (view.state.readOnly) return false;
  if (view.state.selection.ranges.some((r) => !r.empty)) return indentMore(view);
  view.dispatch(view.state.update(view.state.replaceSelection(INDENT), { scrollIntoView: true, userEvent: "input" }));
  return true;
}
function dedent(view) {
  if (view.state.readOnly) return false;
  return indentLess(view);
}

// ---------------------------------------------------------------------------

const registry = new WeakMap(); // element -> editor

function labelTextFor(textarea) {
  try {
    const labels = textarea.labels;
    if (labels && labels.length) return labels[0].textContent.trim();
  } catch (_) {
    /* ignore */
  }
  return textarea.getAttribute("aria-label") || "";
}

// Fallback CSP nonce: <meta name="csp-nonce" content="..."> in the page.
function pageNonce() {
  const meta = document.querySelector('meta[name="csp-nonce"]');
  return meta ? meta.nonce || meta.getAttribute("content") || "" : "";
}

function mount(target, options = {}) {
  if (typeof target === "string") target = document.querySelector(target);
  if (!target || target.nodeType !== 1) throw new TypeError("PankaEditor.mount: expected an element");
  const existing = registry.get(target);
  if (existing) return existing;

  const isTextarea = target.tagName === "TEXTAREA";
  const textarea = isTextarea ? target : null;
  const onChange = typeof options.onChange === "function" ? options.onChange : null;
  const readOnlyDefault = textarea ? textarea.readOnly || textarea.disabled : false;
  let readOnly = options.readOnly == null ? readOnlyDefault : !!options.readOnly;
  const initialText =
    options.initialText != null ? String(options.initialText) : textarea ? textarea.value : "";

  const readOnlyConf = new Compartment();
  const readOnlyExt = (ro) => [
    EditorState.readOnly.of(ro),
    EditorView.editorAttributes.of({ class: ro ? "cm-panka-readonly" : "cm-panka-editable" }),
    EditorView.contentAttributes.of({ "aria-readonly": ro ? "true" : "false" }),
  ];

  let emitting = true; // false while setText(..., {emit: false}) dispatches

  const contentAttrs = { "aria-multiline": "true" };
  if (textarea) {
    const label = labelTextFor(textarea);
    if (label) contentAttrs["aria-label"] = label;
  }

  const extensions = [
    lineNumbers(),
    lintGutter(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    search({ top: true }),
    EditorState.allowMultipleSelections.of(false),
    EditorState.tabSize.of(2),
    indentUnit.of(INDENT),
    yaml(),
    syntaxHighlighting(pankaHighlight),
    pankaTheme,
    lineFindingsField,
    readOnlyConf.of(readOnlyExt(readOnly)),
    EditorView.contentAttributes.of(contentAttrs),
    keymap.of([
      { key: "Tab", run: insertTwoSpaces, shift: dedent },
      ...defaultKeymap,
      ...historyKeymap,
      ...searchKeymap,
      ...lintKeymap,
    ]),
    EditorView.updateListener.of((update) => {
      if (!update.docChanged) return;
      const text = update.state.doc.toString();
      if (textarea) textarea.value = text;
      if (!emitting) return;
      if (textarea) textarea.dispatchEvent(new Event("input", { bubbles: true }));
      if (onChange) {
        try {
          onChange(text);
        } catch (err) {
          setTimeout(() => {
            throw err;
          });
        }
      }
    }),
  ];
  const nonce = options.nonce != null ? String(options.nonce) : pageNonce();
  if (nonce) extensions.push(EditorView.cspNonce.of(nonce));

  // Where the editor goes: after a textarea (which is hidden but stays in the
  // form), or inside any other element.
  let host, parent;
  if (textarea) {
    host = document.createElement("div");
    host.className = "panka-editor";
    textarea.insertAdjacentElement("afterend", host);
    parent = host;
  } else {
    parent = target;
  }

  const view = new EditorView({
    state: EditorState.create({ doc: initialText, extensions }),
    parent,
  });

  // Hide the textarea through the CSSOM (allowed under CSP without
  // 'unsafe-inline'), keep its value in sync from now on.
  let prevDisplay = "";
  const listeners = [];
  const listen = (el, type, fn) => {
    el.addEventListener(type, fn);
    listeners.push(() => el.removeEventListener(type, fn));
  };
  if (textarea) {
    prevDisplay = textarea.style.display;
    textarea.style.display = "none";
    textarea.value = initialText;
    // Clicking the textarea's <label> focuses the editor.
    try {
      for (const label of textarea.labels || []) listen(label, "click", () => view.focus());
    } catch (_) {
      /* ignore */
    }
    // A form reset restores the textarea's default value; follow it.
    if (textarea.form) {
      listen(textarea.form, "reset", () => setTimeout(() => editor.setText(textarea.value, { emit: false })));
    }
  }

  let destroyed = false;
  const editor = {
    view,
    element: target,
    getText() {
      return view.state.doc.toString();
    },
    setText(text, opts = {}) {
      text = text == null ? "" : String(text);
      if (text === view.state.doc.toString()) return;
      emitting = !!opts.emit;
      try {
        view.dispatch({
          changes: { from: 0, to: view.state.doc.length, insert: text },
          selection: { anchor: Math.min(view.state.selection.main.head, text.length) },
          userEvent: "set",
        });
      } finally {
        emitting = true;
      }
    },
    setReadOnly(ro) {
      readOnly = !!ro;
      view.dispatch({ effects: readOnlyConf.reconfigure(readOnlyExt(readOnly)) });
    },
    isReadOnly() {
      return readOnly;
    },
    setFindings(findings) {
      const doc = view.state.doc;
      const diagnostics = [];
      const perLine = new Map(); // line.from -> severity
      for (const f of Array.isArray(findings) ? findings : []) {
        if (!f) continue;
        const severity = SEVERITIES.has(f.severity) ? f.severity : "warning";
        const { line, from, to } = findingRange(doc, f);
        const message = f.message != null ? String(f.message) : "";
        const d = { from, to, severity, message: message || (f.code ? String(f.code) : severity) };
        if (f.code) d.source = String(f.code);
        diagnostics.push(d);
        const prev = perLine.get(line.from);
        if (prev == null || SEVERITY_RANK[severity] > SEVERITY_RANK[prev]) perLine.set(line.from, severity);
      }
      const builder = new RangeSetBuilder();
      for (const pos of [...perLine.keys()].sort((a, b) => a - b)) {
        const sev = perLine.get(pos);
        if (sev === "error" || sev === "warning") {
          builder.add(pos, pos, Decoration.line({ class: `cm-panka-line-${sev}` }));
        }
      }
      view.dispatch(setDiagnostics(view.state, diagnostics), { effects: setLineFindings.of(builder.finish()) });
    },
    gotoLine(line, column) {
      const doc = view.state.doc;
      const l = doc.line(Math.min(Math.max(toInt(line, 1), 1), doc.lines));
      const col = Math.max(toInt(column, 1), 1);
      const pos = Math.min(l.from + col - 1, l.to);
      view.dispatch({
        selection: { anchor: pos },
        effects: EditorView.scrollIntoView(pos, { y: "center" }),
      });
      view.focus();
    },
    focus() {
      view.focus();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      if (textarea) textarea.value = view.state.doc.toString();
      for (const off of listeners) off();
      view.destroy();
      if (host) host.remove();
      if (textarea) textarea.style.display = prevDisplay;
      registry.delete(target);
    },
  };
  registry.set(target, editor);
  return editor;
}

const PankaEditor = {
  version: VERSION,
  mount,
  get(element) {
    return (element && registry.get(element)) || null;
  },
};

if (typeof window !== "undefined") window.PankaEditor = PankaEditor;

export default PankaEditor;
