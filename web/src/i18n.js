// Chinese by default, English by a switch (remembered in localStorage).
// t('key', {name}) looks the key up in the current language; names from the
// API come in both languages (title/title_en, name/name_en) and pick() chooses.

const STRINGS = {
  zh: {
    app: 'approvald 审批',
    login: '登录', logout: '退出', username: '用户名', password: '密码',
    loginHint: '演示环境：用户名为人员编号（如 zhang_min），密码 approvald-demo',
    pending: '我的待办', done: '已办', cc: '抄送我的', mine: '我发起的', start: '发起', audit: '审计',
    live: '实时', offline: '离线', connecting: '连接中',
    empty: '暂无内容', loading: '加载中…', retry: '重试',
    instance: '申请', workflow: '流程', status: '状态', submitter: '申请人', amount: '金额',
    currentStep: '当前环节', since: '到达时间', created: '提交时间', title: '标题',
    chooseWorkflow: '选择要发起的流程', submit: '提交', submitting: '提交中…',
    required: '必填', invalidMoney: '请输入金额（元），最多两位小数', invalidInt: '请输入整数',
    tooLong: '不能超过 {n} 个字', atLeastItems: '至少需要 {n} 项', outOfRange: '超出允许范围',
    addRow: '添加一行', removeRow: '删除', upload: '上传', uploading: '上传中…', uploaded: '已上传',
    attachments: '附件', download: '下载', data: '申请内容', timeline: '办理记录', diagram: '流程图',
    actions: '可执行的操作', noActions: '您当前没有可执行的操作', comment: '意见', commentRequired: '此环节必须填写意见',
    confirm: '确定', cancel: '取消', actedFor: '代 {name}', system: '系统',
    newTask: '新待办：{title}', updated: '申请已更新：{event}',
    submitted: '已提交，编号 {id}', done_ok: '操作成功',
    returnTo: '退回到', person: '人员', people: '人员（可多选）', how: '加签方式', before: '前加签', after: '后加签',
    option: '表决', reason: '理由',
    meeting: '会议', agenda: '议程', receipts: '已阅回执', quorum: '法定人数', present: '出席', recused: '回避',
    speakingOrder: '发言顺序（主要领导末位表态）', lockedUntilLast: '待其他成员发言后', locked: '锁定', votes: '表决', result: '结果',
    minutes: '会议纪要', minutesDraft: '会议纪要（根据会议记录生成）', distributed: '议程已分发', notDistributed: '议程未分发',
    opened: '会议已开始', notOpened: '会议未开始', members: '成员', head: '主要领导', secretary: '会议秘书',
    passed: '通过', failed: '未通过', deferred: '缓议',
    agree: '同意', disagree: '不同意', defer: '缓议', of: '/',
    auditSearch: '查询审计记录', actor: '操作人', action: '类型', from: '开始日期', to: '结束日期', search: '查询',
    verify: '验证', verified: '已验证：包含在签名检查点中', notVerified: '验证失败', checkpoint: '签名检查点',
    size: '树大小', root: '根哈希', signature: '签名', signatureOk: 'Ed25519 签名有效', signatureBad: '签名无效',
    exportBundle: '下载导出包', exportCsv: '导出 CSV', reports: '报表', ledger: '三重一大台账', rectification: '整改进度', procurement: '采购合规',
    more: '更多', index: '序号', time: '时间', kind: '种类',
    lang: 'English', notFound: '找不到页面', back: '返回',
    fieldTypeUnsupported: '不支持的字段类型 {type}',
    running: '办理中', approved: '已通过', rejected: '已驳回', withdrawn: '已撤回', cancelled: '已取消',
    submitShort: '提交', resubmitTitle: '修改后重新提交', resubmitHint: '申请已退回给您：修改下列内容后重新提交，或撤销申请。',
    resubmit: '重新提交', reportsHint: '按所选期间生成；可在页面查看，或下载 CSV。', view: '查看', rowsCount: '共 {n} 行',
  },
  en: {
    app: 'approvald',
    login: 'Log in', logout: 'Log out', username: 'Username', password: 'Password',
    loginHint: 'Demo: the username is a person id (e.g. zhang_min), password approvald-demo',
    pending: 'To do', done: 'Done', cc: "CC'd to me", mine: 'My requests', start: 'New request', audit: 'Audit',
    live: 'live', offline: 'offline', connecting: 'connecting',
    empty: 'Nothing here', loading: 'Loading…', retry: 'Retry',
    instance: 'Request', workflow: 'Workflow', status: 'Status', submitter: 'Submitter', amount: 'Amount',
    currentStep: 'Current step', since: 'Since', created: 'Submitted', title: 'Title',
    chooseWorkflow: 'Choose a workflow', submit: 'Submit', submitting: 'Submitting…',
    required: 'Required', invalidMoney: 'Enter an amount in yuan, at most 2 decimals', invalidInt: 'Enter a whole number',
    tooLong: 'At most {n} characters', atLeastItems: 'At least {n} required', outOfRange: 'Out of the allowed range',
    addRow: 'Add a row', removeRow: 'Remove', upload: 'Upload', uploading: 'Uploading…', uploaded: 'uploaded',
    attachments: 'Attachments', download: 'Download', data: 'Details', timeline: 'History', diagram: 'Diagram',
    actions: 'What you can do', noActions: 'Nothing for you to do here now', comment: 'Comment', commentRequired: 'This step requires a comment',
    confirm: 'Confirm', cancel: 'Cancel', actedFor: 'for {name}', system: 'System',
    newTask: 'New task: {title}', updated: 'Request updated: {event}',
    submitted: 'Submitted as #{id}', done_ok: 'Done',
    returnTo: 'Return to', person: 'Person', people: 'People', how: 'How', before: 'Before me', after: 'After me',
    option: 'Vote', reason: 'Reason',
    meeting: 'Meeting', agenda: 'Agenda', receipts: 'Read receipts', quorum: 'Quorum', present: 'Present', recused: 'Recused',
    speakingOrder: 'Speaking order (head of unit last)', lockedUntilLast: 'after the others', locked: 'Locked', votes: 'Votes', result: 'Result',
    minutes: 'Minutes', minutesDraft: 'Minutes (generated from the meeting record)', distributed: 'Agenda distributed', notDistributed: 'Agenda not distributed',
    opened: 'Meeting open', notOpened: 'Meeting not open', members: 'Members', head: 'Head of unit', secretary: 'Secretary',
    passed: 'Passed', failed: 'Not passed', deferred: 'Deferred',
    agree: 'Agree', disagree: 'Disagree', defer: 'Defer', of: '/',
    auditSearch: 'Search the audit trail', actor: 'Actor', action: 'Type', from: 'From', to: 'To', search: 'Search',
    verify: 'Verify', verified: 'Verified: included in the signed checkpoint', notVerified: 'Verification failed', checkpoint: 'Signed checkpoint',
    size: 'Tree size', root: 'Root hash', signature: 'Signature', signatureOk: 'Ed25519 signature valid', signatureBad: 'Signature invalid',
    exportBundle: 'Download export bundle', exportCsv: 'Export CSV', reports: 'Reports', ledger: '三重一大 ledger', rectification: 'Rectification progress', procurement: 'Procurement compliance',
    more: 'More', index: 'Index', time: 'Time', kind: 'Kind',
    lang: '中文', notFound: 'Page not found', back: 'Back',
    fieldTypeUnsupported: 'Unsupported field type {type}',
    running: 'In progress', approved: 'Approved', rejected: 'Rejected', withdrawn: 'Withdrawn', cancelled: 'Cancelled',
    submitShort: 'Submit', resubmitTitle: 'Correct and resubmit', resubmitHint: 'The request was returned to you: correct it below and resubmit, or cancel it.',
    resubmit: 'Resubmit', reportsHint: 'Built for the chosen period; view it here or download CSV.', view: 'View', rowsCount: '{n} rows',
  },
};

// Action names, both languages.
const ACTIONS = {
  approve: ['同意', 'Approve'], reject: ['驳回', 'Reject'], return: ['退回', 'Return'],
  withdraw: ['撤回', 'Withdraw'], take_back: ['收回', 'Take back'], transfer: ['转办', 'Transfer'],
  delegate: ['委托', 'Delegate'], add_signer: ['加签', 'Add signer'], cc: ['抄送', 'CC'], urge: ['催办', 'Urge'],
  comment: ['评论', 'Comment'], complete: ['办理完成', 'Complete'], resubmit: ['重新提交', 'Resubmit'],
  distribute: ['分发议程', 'Distribute agenda'], acknowledge: ['确认已阅', 'Acknowledge'], attend: ['签到出席', 'Attend'],
  recuse: ['申请回避', 'Recuse'], open: ['宣布开会', 'Open meeting'], opinion: ['发表意见', 'State opinion'],
  vote: ['表决', 'Vote'], close: ['宣布结果', 'Close and count'], defer: ['缓议', 'Defer'],
};

// Event types for the timeline.
const EVENTS = {
  submitted: ['提交申请', 'submitted'], node_entered: ['到达', 'reached'], node_completed: ['完成', 'completed'],
  signed: ['签署', 'signed'], check_completed: ['自动检查', 'automatic check'], returned: ['退回', 'returned'],
  withdrawn: ['撤回', 'withdrew'], taken_back: ['收回', 'took back'], transferred: ['转办', 'transferred'],
  signer_added: ['加签', 'added a signer'], cc_added: ['抄送', 'CC'], urged: ['催办', 'urged'], commented: ['评论', 'commented'],
  agenda_distributed: ['分发议程', 'distributed the agenda'], receipt_acknowledged: ['确认已阅', 'acknowledged'],
  attended: ['出席', 'attended'], recused: ['回避', 'recused'], meeting_opened: ['开会', 'opened the meeting'],
  opinion_stated: ['发表意见', 'stated an opinion'], voted: ['表决', 'voted'], meeting_closed: ['宣布结果', 'closed the meeting'],
  completed: ['办结', 'finished'], rejected: ['驳回', 'rejected'], escalated: ['升级', 'escalated'], reminded: ['提醒', 'reminder'],
  deadline_passed: ['超时', 'deadline passed'], branch_completed: ['分支完成', 'line completed'], routed: ['分支选择', 'routed'], resubmitted: ['重新提交', 'resubmitted'], delegated: ['委托', 'delegated'],
};

let lang = localStorage.getItem('approvald.lang') === 'en' ? 'en' : 'zh';
document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';

export function getLang() {
  return lang;
}
export function setLang(l) {
  lang = l === 'en' ? 'en' : 'zh';
  localStorage.setItem('approvald.lang', lang);
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
}

export function t(key, vars) {
  let s = STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace('{' + k + '}', v);
  return s;
}

// obj.title / obj.title_en, obj.name / obj.name_en, obj.label / obj.label_en.
export function pick(obj, field = 'title') {
  if (!obj) return '';
  if (lang === 'en' && obj[field + '_en']) return obj[field + '_en'];
  return obj[field] ?? '';
}

export function personName(p) {
  if (!p) return '';
  if (p.id === 'system') return t('system');
  return pick(p, 'name') || p.id;
}

export function actionName(a) {
  const e = ACTIONS[a];
  return e ? e[lang === 'en' ? 1 : 0] : a;
}

export function eventName(type) {
  const e = EVENTS[type];
  return e ? e[lang === 'en' ? 1 : 0] : type;
}
