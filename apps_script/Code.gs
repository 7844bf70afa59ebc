/**
 * sheetqueue companion: tells sheetqueue within seconds when the team edits a
 * request's Status, Team Note or Shopper Message, with the editor's email when
 * Google gives it.
 *
 * It only reads the sheet. Each edit of a watched cell becomes one event in a
 * small queue (script properties); the queue is posted, signed with the shared
 * secret, to POST <SHEETQUEUE_URL>/v1/sheet-events in batches of up to 100 (60 KB).
 * A batch that fails stays queued for the next flush (every minute). The
 * worker's regular poll stays the safety net: a lost event costs speed only.
 *
 * Install: run `install` once from the editor (it creates the two triggers).
 * Print a filled-in copy of this file with `sheetqueue apps-script`.
 */

var SHEETQUEUE_URL = '__SHEETQUEUE_URL__';
var SHEETQUEUE_SECRET = '__SHEETQUEUE_SECRET__';
var REQUESTS_TAB = 'Requests';

var REQUEST_ID_COLUMN = 'Request ID';
var WATCHED_COLUMNS = ['Status', 'Team Note', 'Shopper Message'];
var HEADER_ROW = 1;
var EVENTS_PATH = '/v1/sheet-events';
var EDIT_HANDLER = 'onSheetEdit';
var FLUSH_HANDLER = 'flushSheetEvents';

var BATCH_SIZE = 100; // events per POST (the endpoint takes 1..100)
var MAX_BODY_BYTES = 60000; // bytes per POST (the endpoint takes 64 KiB)
var MAX_QUEUED = 500; // oldest events dropped beyond this
var MAX_QUEUE_BYTES = 400000; // script properties hold 500 KB in all
var CHUNK_BYTES = 8000; // one property value holds 9 KB
var MAX_VALUE_CHARS = 2000; // longer old/new values are cut
var MAX_ID_CHARS = 64; // a longer Request ID cell is not a queue row (the endpoint takes 64)
var RUN_BUDGET_MS = 20000; // no new batch after this long (runs stay well under 30 s)
var LOCK_WAIT_MS = 10000;
var FLUSH_HOLD_MS = 60000; // a flush that died frees the queue after this long
var QUEUE_PREFIX = 'sheetqueue.queue.';
var FLUSHING_KEY = 'sheetqueue.flushing_until';

/** The installable on-edit trigger: queue the watched cells of this edit, then flush. */
function onSheetEdit(e) {
  if (!e || !e.range) return;
  var events = eventsFromEdit_(e, new Date());
  if (!events.length) return;
  var mayFlush = withLock_(function (props) {
    var queue = readQueue_(props);
    writeQueue_(props, boundQueue_(queue.concat(events)));
    return claimFlush_(props);
  });
  if (mayFlush === null) {
    console.warn('sheetqueue: queue busy, ' + events.length + ' edit event(s) not queued');
    return;
  }
  if (mayFlush) flushClaimed_();
}

/** The time-driven trigger (every minute): send what is queued. */
function flushSheetEvents() {
  var mayFlush = withLock_(function (props) {
    return readQueue_(props).length > 0 && claimFlush_(props);
  });
  if (mayFlush) flushClaimed_();
}

/** Create the on-edit and the every-minute triggers; running it again changes nothing. */
function install() {
  if (!isConfigured_()) {
    throw new Error('SHEETQUEUE_URL and SHEETQUEUE_SECRET are not filled in: paste the ' +
      'script printed by `sheetqueue apps-script`');
  }
  var spreadsheet = SpreadsheetApp.getActive();
  var sheet = spreadsheet.getSheetByName(REQUESTS_TAB);
  if (!sheet) {
    throw new Error('no tab named "' + REQUESTS_TAB + '": set REQUESTS_TAB at the top of Code.gs');
  }
  var columns = headerColumns_(sheet);
  if (!columns.requestId) console.warn('sheetqueue: no "' + REQUEST_ID_COLUMN + '" column in row 1');
  WATCHED_COLUMNS.forEach(function (name) {
    if (!columns.watched[name]) console.warn('sheetqueue: no "' + name + '" column in row 1');
  });
  var kept = {};
  ScriptApp.getProjectTriggers().forEach(function (trigger) {
    var handler = trigger.getHandlerFunction();
    if (handler !== EDIT_HANDLER && handler !== FLUSH_HANDLER) return;
    if (kept[handler]) {
      ScriptApp.deleteTrigger(trigger);
    } else {
      kept[handler] = trigger;
    }
  });
  if (!kept[EDIT_HANDLER]) {
    ScriptApp.newTrigger(EDIT_HANDLER).forSpreadsheet(spreadsheet).onEdit().create();
  }
  if (!kept[FLUSH_HANDLER]) {
    ScriptApp.newTrigger(FLUSH_HANDLER).timeBased().everyMinutes(1).create();
  }
  console.log('sheetqueue: watching ' + REQUESTS_TAB + ', posting to ' + eventsUrl_());
}

/** Remove the two triggers (the queue stays until the next install flushes it). */
function uninstall() {
  ScriptApp.getProjectTriggers().forEach(function (trigger) {
    var handler = trigger.getHandlerFunction();
    if (handler === EDIT_HANDLER || handler === FLUSH_HANDLER) ScriptApp.deleteTrigger(trigger);
  });
}

// --- edits -> events ------------------------------------------------------

function eventsFromEdit_(e, now) {
  var range = e.range;
  var sheet = range.getSheet();
  if (sheet.getName() !== REQUESTS_TAB) return [];
  var firstRow = Math.max(range.getRow(), HEADER_ROW + 1);
  var lastRow = range.getLastRow();
  if (lastRow < firstRow) return [];
  var columns = headerColumns_(sheet);
  if (!columns.requestId) return [];
  var firstColumn = range.getColumn();
  var lastColumn = range.getLastColumn();
  var hit = WATCHED_COLUMNS.filter(function (name) {
    var column = columns.watched[name];
    return column && column >= firstColumn && column <= lastColumn;
  });
  if (!hit.length) return [];
  var rows = lastRow - firstRow + 1;
  var ids = sheet.getRange(firstRow, columns.requestId, rows, 1).getDisplayValues();
  var single = range.getNumRows() === 1 && range.getNumColumns() === 1;
  var values = single ? null : sheet.getRange(firstRow, firstColumn, rows,
    lastColumn - firstColumn + 1).getDisplayValues();
  var by = editorEmail_(e);
  var at = now.toISOString();
  var events = [];
  for (var r = 0; r < rows; r++) {
    var requestId = String(ids[r][0]).trim();
    if (!requestId || requestId.length > MAX_ID_CHARS) continue;
    hit.forEach(function (name) {
      var offset = columns.watched[name] - firstColumn;
      events.push({
        id: Utilities.getUuid(),
        request_id: requestId,
        column: name,
        old: single ? text_(e.oldValue) : '',
        new: single ? singleNewValue_(e) : text_(values[r][offset]),
        by: by,
        at: at
      });
    });
  }
  return events;
}

function headerColumns_(sheet) {
  var width = sheet.getLastColumn();
  var found = { requestId: 0, watched: {} };
  if (width < 1) return found;
  var header = sheet.getRange(HEADER_ROW, 1, 1, width).getDisplayValues()[0];
  var wanted = {};
  WATCHED_COLUMNS.forEach(function (name) { wanted[headerKey_(name)] = name; });
  for (var c = 0; c < header.length; c++) {
    var key = headerKey_(header[c]);
    if (key === headerKey_(REQUEST_ID_COLUMN) && !found.requestId) found.requestId = c + 1;
    var name = wanted[key];
    if (name && !found.watched[name]) found.watched[name] = c + 1;
  }
  return found;
}

/** Headers match case- and space-insensitively, as the worker reads them. */
function headerKey_(text) {
  return String(text).replace(/[\s_]+/g, '').toLowerCase();
}

function singleNewValue_(e) {
  var value = e.value;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return text_(value);
  }
  return text_(e.range.getDisplayValue()); // a cleared cell gives no value
}

/** The value as text, cut to MAX_VALUE_CHARS without splitting a character in two. */
function text_(value) {
  if (value === undefined || value === null || typeof value === 'object') return '';
  var text = String(value);
  if (text.length <= MAX_VALUE_CHARS) return text;
  var last = text.charCodeAt(MAX_VALUE_CHARS - 1);
  return text.slice(0, last >= 0xd800 && last < 0xdc00 ? MAX_VALUE_CHARS - 1 : MAX_VALUE_CHARS);
}

function editorEmail_(e) {
  try {
    var user = e.user || Session.getActiveUser();
    return user && user.getEmail ? String(user.getEmail() || '') : '';
  } catch (error) {
    return '';
  }
}

// --- the queue (script properties, under the script lock) ---------------

function withLock_(work) {
  var lock = LockService.getScriptLock();
  if (!lock.tryLock(LOCK_WAIT_MS)) return null;
  try {
    return work(PropertiesService.getScriptProperties());
  } finally {
    lock.releaseLock();
  }
}

var storedChunks_ = 0; // chunks of the queue as last read (under the lock)

function readQueue_(props) {
  var all = props.getProperties();
  var count = parseInt(all[QUEUE_PREFIX + 'n'] || '0', 10);
  storedChunks_ = count;
  var text = '';
  for (var i = 0; i < count; i++) text += all[QUEUE_PREFIX + i] || '';
  if (!text) return [];
  try {
    var queue = JSON.parse(text);
    return Array.isArray(queue) ? queue : [];
  } catch (error) {
    console.error('sheetqueue: the queued events could not be read; starting an empty queue');
    return [];
  }
}

/** Write the queue read under the same lock; chunks it no longer needs are deleted. */
function writeQueue_(props, queue) {
  var before = storedChunks_;
  var chunks = queue.length ? chunksOf_(JSON.stringify(queue), CHUNK_BYTES) : [];
  var values = {};
  values[QUEUE_PREFIX + 'n'] = String(chunks.length);
  chunks.forEach(function (chunk, i) { values[QUEUE_PREFIX + i] = chunk; });
  props.setProperties(values);
  for (var i = chunks.length; i < before; i++) props.deleteProperty(QUEUE_PREFIX + i);
  storedChunks_ = chunks.length;
}

/** Keep the newest events within the count and size limits, warning about the dropped. */
function boundQueue_(queue) {
  var dropped = Math.max(0, queue.length - MAX_QUEUED);
  var kept = queue.slice(dropped);
  var bytes = utf8Length_(JSON.stringify(kept));
  while (kept.length && bytes > MAX_QUEUE_BYTES) {
    bytes -= utf8Length_(JSON.stringify(kept[0])) + 1;
    kept.shift();
    dropped++;
  }
  if (dropped) console.warn('sheetqueue: queue full, dropped the ' + dropped + ' oldest event(s)');
  return kept;
}

function chunksOf_(text, maxBytes) {
  var chunks = [];
  var start = 0;
  var bytes = 0;
  for (var i = 0; i < text.length; i++) {
    var code = text.charCodeAt(i);
    var pair = code >= 0xd800 && code < 0xdc00 && i + 1 < text.length;
    var size = code < 0x80 ? 1 : code < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) {
      chunks.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
    if (pair) i++;
  }
  if (start < text.length) chunks.push(text.slice(start));
  return chunks;
}

function utf8Length_(text) {
  var bytes = 0;
  for (var i = 0; i < text.length; i++) {
    var code = text.charCodeAt(i);
    var surrogate = code >= 0xd800 && code <= 0xdfff; // a pair is 4 bytes: 2 each
    bytes += code < 0x80 ? 1 : code < 0x800 || surrogate ? 2 : 3;
  }
  return bytes;
}

/** One run at a time sends: true when this run may (a dead run's claim ends on its own). */
function claimFlush_(props) {
  var until = parseInt(props.getProperty(FLUSHING_KEY) || '0', 10);
  if (until > Date.now()) return false;
  props.setProperty(FLUSHING_KEY, String(Date.now() + FLUSH_HOLD_MS));
  return true;
}

// --- sending ------------------------------------------------------------

function flushClaimed_() {
  var started = Date.now();
  var released = false;
  try {
    var batch = withLock_(function (props) { return nextBatch_(readQueue_(props)); });
    while (batch && batch.length) {
      var outcome = sendBatch_(batch);
      var sent = outcome !== 'failed';
      var again = sent && Date.now() - started < RUN_BUDGET_MS;
      batch = withLock_(function (props) {
        var queue = readQueue_(props);
        if (sent) {
          var gone = {};
          batch.forEach(function (event) { gone[event.id] = true; });
          var left = queue.filter(function (event) { return !gone[event.id]; });
          writeQueue_(props, left);
          queue = left;
        }
        if (again && queue.length) {
          props.setProperty(FLUSHING_KEY, String(Date.now() + FLUSH_HOLD_MS));
          return nextBatch_(queue);
        }
        props.deleteProperty(FLUSHING_KEY);
        released = true;
        return null;
      });
    }
  } finally {
    if (!released) withLock_(function (props) { props.deleteProperty(FLUSHING_KEY); });
  }
}

/** The oldest queued events that fit one POST: at most BATCH_SIZE, the body under MAX_BODY_BYTES. */
function nextBatch_(queue) {
  var batch = [];
  var bytes = 200; // sent_at, spreadsheet_id and the braces around the events
  for (var i = 0; i < queue.length && batch.length < BATCH_SIZE; i++) {
    var size = asciiJson_(queue[i]).length + 1; // ASCII: one byte a character
    if (batch.length && bytes + size > MAX_BODY_BYTES) break;
    batch.push(queue[i]);
    bytes += size;
  }
  return batch;
}

/** 'sent' (2xx), 'rejected' (the endpoint refuses the batch for good) or 'failed' (kept). */
function sendBatch_(batch) {
  if (!isConfigured_()) {
    console.error('sheetqueue: SHEETQUEUE_URL and SHEETQUEUE_SECRET are not filled in; ' +
      batch.length + ' event(s) wait in the queue');
    return 'failed';
  }
  var now = Date.now();
  var body = asciiJson_({
    sent_at: new Date(now).toISOString(),
    spreadsheet_id: SpreadsheetApp.getActive().getId(),
    events: batch
  });
  var t = String(Math.floor(now / 1000));
  var signature = hex_(Utilities.computeHmacSha256Signature(t + '.' + body, SHEETQUEUE_SECRET,
    Utilities.Charset.UTF_8));
  var response;
  try {
    response = UrlFetchApp.fetch(eventsUrl_(), {
      method: 'post',
      contentType: 'application/json',
      payload: body,
      headers: { 'X-Sheetqueue-Signature': 't=' + t + ',v1=' + signature },
      muteHttpExceptions: true,
      followRedirects: false
    });
  } catch (error) {
    console.warn('sheetqueue: could not reach ' + eventsUrl_() + ' (' + error + '); ' +
      batch.length + ' event(s) kept for the next flush');
    return 'failed';
  }
  var code = response.getResponseCode();
  if (code >= 200 && code < 300) return 'sent';
  var answer = String(response.getContentText()).slice(0, 300);
  if (code === 400 || code === 413 || code === 422) {
    console.error('sheetqueue: the endpoint refused a batch of ' + batch.length +
      ' event(s) (HTTP ' + code + ': ' + answer + '); dropped');
    return 'rejected';
  }
  console.warn('sheetqueue: HTTP ' + code + ' (' + answer + '); ' + batch.length +
    ' event(s) kept for the next flush');
  return 'failed';
}

function isConfigured_() {
  return SHEETQUEUE_URL.indexOf('__SHEETQUEUE') < 0 && SHEETQUEUE_SECRET.indexOf('__SHEETQUEUE') < 0 &&
    SHEETQUEUE_URL !== '' && SHEETQUEUE_SECRET !== '';
}

function eventsUrl_() {
  return SHEETQUEUE_URL.replace(/\/+$/, '') + EVENTS_PATH;
}

/** JSON with every non-ASCII character escaped: the body's bytes are the same in any charset. */
function asciiJson_(value) {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, function (c) {
    return '\\u' + ('0000' + c.charCodeAt(0).toString(16)).slice(-4);
  });
}

/** Signed bytes (-128..127, as Apps Script returns them) as lowercase hex. */
function hex_(bytes) {
  var out = '';
  for (var i = 0; i < bytes.length; i++) out += ('0' + ((bytes[i] + 256) % 256).toString(16)).slice(-2);
  return out;
}
