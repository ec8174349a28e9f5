// The dual-line expense reimbursement (workflows/expense.yaml) written as an
// XState 5 machine, for comparing approvald's engine with the best-known
// JavaScript statechart library on the same flow (bench/README.md).
//
// The model does what the engine's Decide() does on the path the benchmark
// drives, with the idioms XState recommends (setup() with named guards and
// actions, parameterised guards, assign() for every state change):
//   - submit: the submitter must be a person of the organisation; the form is
//     validated against the same field rules (text lengths, enum options,
//     money bounds in integer fen, the date, 1-50 invoices each with number,
//     amount and a "sha256:" attachment reference, no unknown fields);
//   - 双线把关: a parallel state with two regions that must both finish,
//       business: department head of the submitter's department -> the deputy
//                 who supervises that department;
//       finance:  duplicate-invoice check (automatic) -> 计财室 head (comment
//                 required) -> the deputy who supervises 计财室;
//     each approval's assignees are resolved from the organisation when the
//     node is entered; a node whose only assignee is the submitter is skipped;
//   - every approval is guarded: the node named in the command is this node,
//     the actor is an assignee, is not the submitter, has not acted on this
//     instance before (one person acts once) and did not sign the other
//     line's nodes (distinct_from); the comment is present where required;
//   - after the join: the expense-standard check (automatic; over the
//     standard goes to the head of unit), the amount choice (>= 100,000.00
//     yuan goes to the head of unit, asking first for the 三重一大 decision
//     reference when the form lacks it), and the cashier's payment task,
//     which needs a voucher number;
//   - rejection on any approval ends the instance `rejected`;
//   - every accepted command appends a history entry (the engine's events)
//     and the acts that separation of duties reads.
// The organisation comes from config/org.yaml, the same file the engine reads.
import { assign, setup } from 'xstate';

export const LARGE_AMOUNT_FEN = 100000 * 100;  // yuan(100000)

const CATEGORIES = new Set(['travel', 'meeting', 'training', 'reception', 'office', 'other']);
const FORM_FIELDS = new Set(['purpose', 'category', 'amount', 'spent_on', 'invoices', 'attachments',
  'attendees', 'days', 'justification', 'decision_ref', 'voucher_no']);
const ATTACHMENT = /^sha256:[0-9a-f]{64}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

// Indexes the organisation as loaded from config/org.yaml.
export function indexOrg(doc) {
  const people = new Map();
  for (const p of doc.people) people.set(p.id, { dept: p.dept ?? null, positions: p.positions ?? [] });
  const departments = new Map();
  for (const d of doc.departments) departments.set(d.id, { head: d.head, supervisor: d.supervisor });
  const holders = new Map();
  for (const p of doc.people) {
    for (const pos of p.positions ?? []) {
      if (!holders.has(pos)) holders.set(pos, []);
      holders.get(pos).push(p.id);
    }
  }
  return { people, departments, holders };
}

function isMoney(v, min, max) {
  return Number.isSafeInteger(v) && v >= min && v <= max;
}
function isText(v, maxLength) {
  return typeof v === 'string' && [...v].length <= maxLength;
}
function isDate(v) {
  const m = typeof v === 'string' && DATE.exec(v);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

// The form rules of workflows/expense.yaml. Money is integer fen.
export function validForm(form) {
  for (const key of Object.keys(form)) if (!FORM_FIELDS.has(key)) return false;
  if (!isText(form.purpose, 200) || form.purpose.length === 0) return false;
  if (!CATEGORIES.has(form.category)) return false;
  if (!isMoney(form.amount, 1, 1000000000)) return false;
  if (!isDate(form.spent_on)) return false;
  const inv = form.invoices;
  if (!Array.isArray(inv) || inv.length < 1 || inv.length > 50) return false;
  for (const i of inv) {
    if (i === null || typeof i !== 'object') return false;
    if (!isText(i.number, 40) || i.number.length === 0) return false;
    if (!isMoney(i.amount, 1, Number.MAX_SAFE_INTEGER)) return false;
    if (i.file !== undefined && !ATTACHMENT.test(i.file)) return false;
  }
  if (form.attachments !== undefined &&
      (!Array.isArray(form.attachments) || !form.attachments.every((a) => ATTACHMENT.test(a)))) return false;
  if (form.attendees !== undefined && !(Number.isSafeInteger(form.attendees) && form.attendees >= 1 && form.attendees <= 10000)) return false;
  if (form.days !== undefined && !(Number.isSafeInteger(form.days) && form.days >= 1 && form.days <= 366)) return false;
  if (form.justification !== undefined && !isText(form.justification, 500)) return false;
  if (form.decision_ref !== undefined && form.decision_ref !== null && !isText(form.decision_ref, 60)) return false;
  if (form.voucher_no !== undefined && !isText(form.voucher_no, 40)) return false;
  return true;
}

// Assignee expressions of the workflow, over the organisation.
function resolve(context, who) {
  const { org, submitterDept } = context;
  switch (who) {
    case 'head_of(submitter.dept)': {
      const d = org.departments.get(submitterDept);
      return d ? [d.head] : [];
    }
    case 'supervisor_of(submitter.dept)': {
      const d = org.departments.get(submitterDept);
      return d ? [d.supervisor] : [];
    }
    case "head_of(dept('finance'))": return [org.departments.get('finance').head];
    case "supervisor_of(dept('finance'))": return [org.departments.get('finance').supervisor];
    case "holders('head_of_unit')": return org.holders.get('head_of_unit') ?? [];
    case "holders('cashier')": return org.holders.get('cashier') ?? [];
    case 'submitter': return [context.submitter];
    default: throw new Error(`unknown assignee expression ${who}`);
  }
}

function actedBefore(acts, person) {
  for (const a of acts) if (a.person === person) return true;
  return false;
}
function signedAny(acts, person, nodes) {
  for (const a of acts) if (a.person === person && nodes.includes(a.node)) return true;
  return false;
}

// `params` of the approval and task guards: { node, distinctFrom, commentRequired, allowRepeat, fields }.
function mayAct({ context, event }, p) {
  if (event.node !== p.node) return false;
  const actor = event.actor;
  if (!context.assignees[p.node]?.includes(actor)) return false;      // not_assignee
  if (actor === context.submitter) return false;                        // self_approval
  if (!p.allowRepeat && actedBefore(context.acts, actor)) return false; // already_acted
  if (p.distinctFrom && signedAny(context.acts, actor, p.distinctFrom)) return false;  // same_person_both_lines
  if (p.commentRequired && !(event.comment && event.comment.trim())) return false;      // comment_required
  if (p.fields) for (const f of p.fields) if (!isText(event.data?.[f], 40) || !event.data[f]) return false;
  return true;
}

function record(context, event, node, action) {
  const entry = { type: action, actor: event.actor, node, comment: event.comment ?? '', at: context.now };
  return {
    acts: [...context.acts, { person: event.actor, node, action }],
    history: [...context.history, entry],
  };
}

// An approval node inside a region: resolve on entry, skip when only the
// submitter could sign, approve to `next`, reject to the machine's `rejected`.
function approvalNode(node, who, next, extra = {}) {
  const params = { node, ...extra };
  return {
    entry: { type: 'enterNode', params: { node, who } },
    always: { guard: { type: 'onlyAssigneeIsSubmitter', params: { node } }, target: next,
              actions: { type: 'recordSkip', params: { node } } },
    on: {
      APPROVE: { guard: { type: 'mayAct', params }, target: next,
                 actions: { type: 'recordDecision', params: { node, action: 'approve' } } },
      REJECT: { guard: { type: 'mayAct', params: { ...params, commentRequired: false } }, target: '#expense.rejected',
                actions: { type: 'recordDecision', params: { node, action: 'reject' } } },
    },
  };
}

export const expenseMachine = setup({
  guards: {
    maySubmit: ({ context, event }) =>
      context.org.people.has(event.actor) && event.form !== null && typeof event.form === 'object' &&
      validForm(event.form),
    mayAct,
    onlyAssigneeIsSubmitter: ({ context }, { node }) => {
      const a = context.assignees[node];
      return a.length === 1 && a[0] === context.submitter;
    },
    invoicesUnique: ({ context }) => {
      const seen = new Set();
      for (const inv of context.form.invoices) {
        if (seen.has(inv.number) || context.facts.invoiceNumbers.has(inv.number)) return false;
        seen.add(inv.number);
      }
      return true;
    },
    withinStandard: ({ context }) => {
      const std = context.config.expenseStandards[context.form.category];
      return !std || context.form.amount <= std.limit;
    },
    largeWithoutDecision: ({ context }) =>
      context.form.amount >= LARGE_AMOUNT_FEN && (context.form.decision_ref ?? null) === null,
    large: ({ context }) => context.form.amount >= LARGE_AMOUNT_FEN,
  },
  actions: {
    recordSubmission: assign(({ context, event }) => ({
      submitter: event.actor,
      submitterDept: context.org.people.get(event.actor).dept,
      form: event.form,
      history: [...context.history, { type: 'submitted', actor: event.actor, node: '', at: context.now }],
    })),
    enterNode: assign(({ context }, { node, who }) => ({
      assignees: { ...context.assignees, [node]: resolve(context, who) },
      history: [...context.history, { type: 'node_entered', actor: 'system', node, at: context.now }],
    })),
    recordSkip: assign(({ context }, { node }) => ({
      history: [...context.history, { type: 'node_skipped', actor: 'system', node, at: context.now }],
    })),
    recordDecision: assign(({ context, event }, { node, action }) => record(context, event, node, action)),
    recordCheck: assign(({ context }, { node, verdict }) => ({
      checks: { ...context.checks, [node]: verdict },
      history: [...context.history, { type: 'check_completed', actor: 'system', node, verdict, at: context.now }],
    })),
    recordRoute: assign(({ context }, { to }) => ({
      history: [...context.history, { type: 'routed', actor: 'system', node: 'amount_route', to, at: context.now }],
    })),
    recordTask: assign(({ context, event }, { node }) => ({
      ...record(context, event, node, 'complete'),
      form: { ...context.form, ...event.data },
    })),
  },
}).createMachine({
  id: 'expense',
  initial: 'draft',
  context: ({ input }) => ({
    org: input.org,
    facts: input.facts,        // { invoiceNumbers: Set } claimed by other reimbursements
    config: input.config,      // { expenseStandards: { category: { limit } } }
    now: input.now,
    submitter: null,
    submitterDept: null,
    form: null,
    assignees: {},
    acts: [],
    checks: {},
    history: [],
  }),
  states: {
    draft: {
      on: { SUBMIT: { guard: 'maySubmit', target: 'dual_review', actions: 'recordSubmission' } },
    },
    dual_review: {
      type: 'parallel',
      states: {
        business: {
          initial: 'dept_head_review',
          states: {
            dept_head_review: approvalNode('dept_head_review', 'head_of(submitter.dept)', 'dept_deputy_review',
              { distinctFrom: ['finance_review', 'finance_deputy_review'] }),
            dept_deputy_review: approvalNode('dept_deputy_review', 'supervisor_of(submitter.dept)', 'done',
              { distinctFrom: ['finance_review', 'finance_deputy_review'] }),
            done: { type: 'final' },
          },
        },
        finance: {
          initial: 'invoice_check',
          states: {
            invoice_check: {
              always: [
                { guard: 'invoicesUnique', target: 'finance_review',
                  actions: { type: 'recordCheck', params: { node: 'invoice_check', verdict: 'pass' } } },
                { target: '#expense.rejected',
                  actions: { type: 'recordCheck', params: { node: 'invoice_check', verdict: 'fail' } } },
              ],
            },
            finance_review: approvalNode('finance_review', "head_of(dept('finance'))", 'finance_deputy_review',
              { distinctFrom: ['dept_head_review', 'dept_deputy_review'], commentRequired: true }),
            finance_deputy_review: approvalNode('finance_deputy_review', "supervisor_of(dept('finance'))", 'done',
              { distinctFrom: ['dept_head_review', 'dept_deputy_review'] }),
            done: { type: 'final' },
          },
        },
      },
      onDone: 'standard_check',
    },
    standard_check: {
      always: [
        { guard: 'withinStandard', target: 'amount_route',
          actions: { type: 'recordCheck', params: { node: 'standard_check', verdict: 'pass' } } },
        { target: 'over_standard_review',
          actions: { type: 'recordCheck', params: { node: 'standard_check', verdict: 'flag' } } },
      ],
    },
    over_standard_review: approvalNode('over_standard_review', "holders('head_of_unit')", 'amount_route',
      { commentRequired: true }),
    amount_route: {
      always: [
        { guard: 'largeWithoutDecision', target: 'link_decision',
          actions: { type: 'recordRoute', params: { to: 'link_decision' } } },
        { guard: 'large', target: 'head_review', actions: { type: 'recordRoute', params: { to: 'head_review' } } },
        { target: 'pay', actions: { type: 'recordRoute', params: { to: 'pay' } } },
      ],
    },
    link_decision: {
      entry: { type: 'enterNode', params: { node: 'link_decision', who: 'submitter' } },
      on: {
        COMPLETE: {
          // The submitter answers their own task: the only node where that is allowed.
          guard: ({ context, event }) => event.node === 'link_decision' && event.actor === context.submitter &&
            isText(event.data?.decision_ref, 60) && event.data.decision_ref.length > 0,
          target: 'head_review',
          actions: { type: 'recordTask', params: { node: 'link_decision' } },
        },
      },
    },
    head_review: approvalNode('head_review', "holders('head_of_unit')", 'pay',
      { commentRequired: true, allowRepeat: true }),
    pay: {
      entry: { type: 'enterNode', params: { node: 'pay', who: "holders('cashier')" } },
      on: {
        COMPLETE: { guard: { type: 'mayAct', params: { node: 'pay', fields: ['voucher_no'] } }, target: 'approved',
                    actions: { type: 'recordTask', params: { node: 'pay' } } },
      },
    },
    approved: { type: 'final' },
    rejected: { type: 'final' },
  },
});
