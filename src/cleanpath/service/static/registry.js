// Form fields from the question registry (GET /api/questions): the same defaults, bounds, choices and
// help texts the CLI shows, declared once in cleanpath.registry. A form opts in with
// data-question="NAME"; each of its fields with data-param="PARAM".
//
// A field whose default is derived when the question runs (the packs of the snapshot's countries, a
// third of the replacement cost as budget) stays empty with the rule as its placeholder, and an
// empty field is not sent, so the server applies the registry's default.
import { el } from "./util.js";

export async function applyRegistry(api) {
  const { data } = await api("/api/questions");
  const byName = new Map(data.questions.map((q) => [q.name, q]));
  for (const form of document.querySelectorAll("[data-question]")) {
    const q = byName.get(form.dataset.question);
    if (!q) continue;
    for (const field of form.querySelectorAll("[data-param]")) {
      const p = q.params.find((x) => x.name === field.dataset.param);
      if (p) applyParam(field, p);
    }
  }
  return byName;
}

function applyParam(field, p) {
  const bits = [p.help];
  if (p.unit) bits.push(`Unit: ${p.unit}.`);
  if (p.default_text) bits.push(`Default: ${p.default_text}.`);
  field.title = bits.join(" ");
  field.dataset.kind = p.kind;
  if (field.tagName === "SELECT" && p.choices && !field.multiple) {
    field.replaceChildren(...p.choices.map((c) => el("option", { value: c, title: p.choice_help?.[c] || "" },
      p.choice_help?.[c] ? `${c}: ${p.choice_help[c]}` : c)));
    if (p.default !== null) field.value = p.default;
    return;
  }
  if (field.type === "checkbox") { field.checked = Boolean(p.default); return; }
  if (field.type === "number") {
    if (p.min !== null) field.min = p.min_open ? String(p.min + (p.kind === "int" ? 1 : 1e-9)) : String(p.min);
    if (p.max !== null) field.max = String(p.max);
    field.step = p.kind === "int" ? "1" : "any";
  }
  if (p.default !== null && p.default !== undefined && !Array.isArray(p.default)) field.value = String(p.default);
  else if (p.default_text && "placeholder" in field) field.placeholder = p.default_text;
}

// The values of a registry form's fields that are set: the request body of its question.
export function formParams(form) {
  const out = {};
  for (const field of form.querySelectorAll("[data-param]")) {
    const name = field.dataset.param;
    if (field.type === "checkbox") out[name] = field.checked;
    else if (field.multiple) { const v = [...field.selectedOptions].map((o) => o.value); if (v.length) out[name] = v.join(","); }
    else if (field.value.trim() !== "") out[name] = field.type === "number" ? Number(field.value) : field.value.trim();
  }
  return out;
}
