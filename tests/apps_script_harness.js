// Runs the Apps Script companion (Code.gs) under Node with stand-ins for the
// Google services it uses. Reads one scenario as JSON on stdin, prints one
// JSON report on stdout. UrlFetchApp.fetch makes a real, blocking HTTP request
// (through a child process), as Apps Script's does.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const vm = require('vm');
const { execFileSync } = require('child_process');

const scenario = JSON.parse(fs.readFileSync(0, 'utf8'));
const report = { steps: [], fetches: [], forbidden: [], console: [], reads: [] };

// Any method the stand-in does not define (setValue, appendRow, clear, ...) is
// refused and recorded: the script may only read the sheet.
function strict(kind, target) {
  return new Proxy(target, {
    get(object, name) {
      if (typeof name === 'symbol' || name in object) return object[name];
      report.forbidden.push(kind + '.' + String(name));
      throw new Error('stand-in: ' + kind + '.' + String(name) + ' is not allowed');
    },
    set(object, name) {
      report.forbidden.push(kind + '.' + String(name) + '=');
      throw new Error('stand-in: setting ' + kind + '.' + String(name) + ' is not allowed');
    },
  });
}

const tabs = scenario.tabs || {};

function cell(tab, row, column) {
  const line = tabs[tab][row - 1] || [];
  const value = line[column - 1];
  return value === undefined || value === null ? '' : String(value);
}

function makeRange(tab, row, column, rows, columns) {
  const grid = () => {
    report.reads.push({ tab, row, column, rows, columns });
    const out = [];
    for (let r = 0; r < rows; r++) {
      const line = [];
      for (let c = 0; c < columns; c++) line.push(cell(tab, row + r, column + c));
      out.push(line);
    }
    return out;
  };
  return strict('Range', {
    getRow: () => row,
    getColumn: () => column,
    getNumRows: () => rows,
    getNumColumns: () => columns,
    getLastRow: () => row + rows - 1,
    getLastColumn: () => column + columns - 1,
    getSheet: () => makeSheet(tab),
    getA1Notation: () => 'R' + row + 'C' + column,
    getValues: grid,
    getDisplayValues: grid,
    getValue: () => grid()[0][0],
    getDisplayValue: () => grid()[0][0],
  });
}

function makeSheet(tab) {
  if (!(tab in tabs)) return null;
  return strict('Sheet', {
    getName: () => tab,
    getSheetId: () => Object.keys(tabs).indexOf(tab),
    getLastRow: () => tabs[tab].length,
    getLastColumn: () => Math.max(0, ...tabs[tab].map((line) => line.length)),
    getRange: (row, column, rows, columns) => makeRange(tab, row, column, rows || 1, columns || 1),
  });
}

const spreadsheet = strict('Spreadsheet', {
  getId: () => scenario.spreadsheet_id,
  getName: () => 'Queue',
  getSheetByName: (name) => makeSheet(name),
  getSheets: () => Object.keys(tabs).map(makeSheet),
});

const SpreadsheetApp = strict('SpreadsheetApp', {
  getActive: () => spreadsheet,
  getActiveSpreadsheet: () => spreadsheet,
});

// Script properties with Google's limits: 9 KB a value, 500 KB in all.
const props = Object.assign({}, scenario.props || {});
function checkProps() {
  let total = 0;
  for (const [key, value] of Object.entries(props)) {
    const size = Buffer.byteLength(key + value, 'utf8');
    if (Buffer.byteLength(value, 'utf8') > 9 * 1024) {
      throw new Error('Exception: Argument too large: value (' + key + ')');
    }
    total += size;
  }
  if (total > 500 * 1024) throw new Error('Exception: You have exceeded the property storage quota.');
}
const scriptProperties = strict('Properties', {
  getProperty: (key) => (key in props ? props[key] : null),
  getProperties: () => Object.assign({}, props),
  getKeys: () => Object.keys(props),
  setProperty: (key, value) => {
    props[key] = String(value);
    checkProps();
    return scriptProperties;
  },
  setProperties: (values, deleteAllOthers) => {
    if (deleteAllOthers) for (const key of Object.keys(props)) delete props[key];
    for (const [key, value] of Object.entries(values)) props[key] = String(value);
    checkProps();
    return scriptProperties;
  },
  deleteProperty: (key) => {
    delete props[key];
    return scriptProperties;
  },
});
const PropertiesService = strict('PropertiesService', {
  getScriptProperties: () => scriptProperties,
});

let locksHeld = 0;
const scriptLock = strict('Lock', {
  tryLock: () => {
    if (scenario.lock_busy) return false;
    locksHeld++;
    return true;
  },
  waitLock: () => {
    if (scenario.lock_busy) throw new Error('Exception: Lock timeout');
    locksHeld++;
  },
  hasLock: () => locksHeld > 0,
  releaseLock: () => {
    if (locksHeld > 0) locksHeld--;
  },
});
const LockService = strict('LockService', { getScriptLock: () => scriptLock });

function signed(buffer) {
  return Array.from(buffer, (b) => (b > 127 ? b - 256 : b));
}
function bytesOf(value, charset) {
  if (Array.isArray(value)) return Buffer.from(value.map((b) => (b + 256) % 256));
  return Buffer.from(String(value), charset === 'US_ASCII' ? 'ascii' : 'utf8');
}
const Utilities = strict('Utilities', {
  Charset: { UTF_8: 'UTF_8', US_ASCII: 'US_ASCII' },
  getUuid: () => crypto.randomUUID(),
  computeHmacSha256Signature: (value, key, charset) =>
    signed(crypto.createHmac('sha256', bytesOf(key, charset)).update(bytesOf(value, charset)).digest()),
});

const FETCH_CHILD = `
const http = require('http');
const job = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const request = http.request(job.url, { method: job.method, headers: job.headers }, (response) => {
  const parts = [];
  response.on('data', (part) => parts.push(part));
  response.on('end', () => process.stdout.write(JSON.stringify(
    { code: response.statusCode, text: Buffer.concat(parts).toString('utf8') })));
});
request.on('error', (error) => process.stdout.write(JSON.stringify({ error: error.code || String(error) })));
request.end(Buffer.from(job.body, 'latin1'));
`;

const UrlFetchApp = strict('UrlFetchApp', {
  fetch: (url, options) => {
    if (!/^https?:\/\//.test(url)) throw new Error('Exception: Invalid argument: ' + url);
    const payload = String(options.payload || '');
    for (let i = 0; i < payload.length; i++) {
      // Apps Script's charset for a string payload is not what the script should rely on.
      if (payload.charCodeAt(i) > 0x7e) throw new Error('stand-in: non-ASCII payload');
    }
    const headers = Object.assign({}, options.headers || {});
    if (options.contentType) headers['Content-Type'] = options.contentType;
    const job = { url, method: String(options.method || 'get').toUpperCase(), headers, body: payload };
    const answer = JSON.parse(execFileSync(process.execPath, ['-e', FETCH_CHILD], {
      input: JSON.stringify(job),
      timeout: 20000,
    }).toString('utf8'));
    report.fetches.push({ url, code: answer.code || null, error: answer.error || null,
      mute: options.muteHttpExceptions === true });
    if (answer.error) throw new Error('Exception: Address unavailable: ' + url);
    if (answer.code >= 400 && !options.muteHttpExceptions) {
      throw new Error('Exception: Request failed for ' + url + ' returned code ' + answer.code);
    }
    return strict('HTTPResponse', {
      getResponseCode: () => answer.code,
      getContentText: () => answer.text,
    });
  },
});

// Triggers: kept in the report so a later run sees them, like the project's.
let triggerSeq = 0;
const triggers = (scenario.triggers || []).slice();
function makeTrigger(info) {
  return strict('Trigger', {
    getHandlerFunction: () => info.handler,
    getEventType: () => info.type,
    getUniqueId: () => info.id,
    getTriggerSource: () => info.source,
  });
}
const ScriptApp = strict('ScriptApp', {
  EventType: { ON_EDIT: 'ON_EDIT', CLOCK: 'CLOCK' },
  getProjectTriggers: () => triggers.map(makeTrigger),
  deleteTrigger: (trigger) => {
    const index = triggers.findIndex((info) => info.id === trigger.getUniqueId());
    if (index >= 0) triggers.splice(index, 1);
  },
  newTrigger: (handler) => {
    const create = (info) => () => {
      const made = Object.assign({ handler, id: 'trigger-' + ++triggerSeq + '-' + Date.now() }, info);
      triggers.push(made);
      return makeTrigger(made);
    };
    return strict('TriggerBuilder', {
      forSpreadsheet: (target) => {
        if (target !== spreadsheet) throw new Error('stand-in: not the active spreadsheet');
        return strict('SpreadsheetTriggerBuilder', {
          onEdit: () => strict('Builder', { create: create({ type: 'ON_EDIT', source: 'SPREADSHEETS' }) }),
        });
      },
      timeBased: () => strict('ClockTriggerBuilder', {
        everyMinutes: (minutes) => {
          if (![1, 5, 10, 15, 30].includes(minutes)) throw new Error('stand-in: bad minutes');
          return strict('Builder', { create: create({ type: 'CLOCK', source: 'CLOCK', minutes }) });
        },
      }),
    });
  },
});

const Session = strict('Session', {
  getActiveUser: () => strict('User', { getEmail: () => scenario.active_user || '' }),
  getEffectiveUser: () => strict('User', { getEmail: () => 'owner@shop.example' }),
});

function logger(level) {
  return (...parts) => report.console.push({ level, text: parts.map(String).join(' ') });
}
const sandboxConsole = { log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error') };

const context = vm.createContext({
  SpreadsheetApp, PropertiesService, LockService, Utilities, UrlFetchApp, ScriptApp, Session,
  console: sandboxConsole,
});
vm.runInContext(fs.readFileSync(scenario.code, 'utf8'), context, { filename: 'Code.gs' });

function editEvent(edit) {
  const rows = edit.rows || 1;
  const columns = edit.columns || 1;
  // The sheet already holds the new values when the trigger runs.
  if (edit.values) {
    edit.values.forEach((line, r) => line.forEach((value, c) => {
      const target = tabs[edit.tab];
      while (target.length < edit.row + r) target.push([]);
      target[edit.row + r - 1][edit.column + c - 1] = value;
    }));
  }
  const event = {
    range: makeRange(edit.tab, edit.row, edit.column, rows, columns),
    source: spreadsheet,
    authMode: 'FULL',
    triggerUid: 'trigger-edit',
  };
  if ('old' in edit) event.oldValue = edit.old;
  if ('value' in edit) event.value = edit.value;
  if (edit.user !== undefined) event.user = strict('User', { getEmail: () => edit.user });
  return event;
}

for (const step of scenario.steps) {
  const before = report.fetches.length;
  let error = null;
  try {
    const fn = context[step.call];
    if (typeof fn !== 'function') throw new Error('Code.gs has no function ' + step.call);
    fn(step.edit ? editEvent(step.edit) : undefined);
  } catch (caught) {
    error = String(caught && caught.message ? caught.message : caught);
  }
  report.steps.push({ call: step.call, error, fetches: report.fetches.length - before });
}

report.props = props;
report.triggers = triggers;
report.locks_held = locksHeld;
process.stdout.write(JSON.stringify(report));
