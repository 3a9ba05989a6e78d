/**
 * The report's script, inlined as text: sortable tables, the metric picker of the threshold
 * chart, and the row browser. It reads the data embedded in `#report-data` and builds every
 * element from text nodes, so no value from a dataset or a model is ever parsed as HTML.
 */
export const REPORT_SCRIPT = `
'use strict';
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);

  // Sortable tables: click a header to sort by it, again to reverse.
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var headers = table.querySelectorAll('th');
    headers.forEach(function (th, column) {
      th.addEventListener('click', function () {
        var descending = th.getAttribute('data-sorted') === '▲';
        headers.forEach(function (other) { other.removeAttribute('data-sorted'); });
        th.setAttribute('data-sorted', descending ? '▼' : '▲');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).filter(function (row) {
          return !row.classList.contains('total');
        });
        var totals = Array.prototype.slice.call(body.rows).filter(function (row) {
          return row.classList.contains('total');
        });
        rows.sort(function (a, b) {
          var x = sortKey(a.cells[column]);
          var y = sortKey(b.cells[column]);
          var order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
          return descending ? -order : order;
        });
        rows.concat(totals).forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  function sortKey(cell) {
    if (!cell) return '';
    var raw = cell.getAttribute('data-value');
    var text = raw === null ? cell.textContent : raw;
    var number = Number(text);
    return text !== '' && !isNaN(number) ? number : text;
  }

  // The threshold chart shows one metric at a time.
  var picker = document.getElementById('threshold-metric');
  if (picker) {
    picker.addEventListener('change', function () {
      document.querySelectorAll('.threshold-chart').forEach(function (chart) {
        chart.hidden = chart.getAttribute('data-path') !== picker.value;
      });
    });
  }

  // The row browser.
  var lineages = data.lineages;
  var rows = data.rows.keys;
  var chosen = lineages.slice(0, 3).map(function (lineage) { return lineage.run; });
  var selected = rows.length > 0 ? rows[0].key : null;
  var search = document.getElementById('row-search');
  var list = document.getElementById('row-list');
  var count = document.getElementById('row-count');
  var detail = document.getElementById('row-detail');
  var picks = document.getElementById('lineage-picks');
  var searchText = {};
  var LIMIT = 500;

  if (!list) return;

  lineages.forEach(function (lineage) {
    var label = document.createElement('label');
    label.className = 'pick';
    var box = document.createElement('input');
    box.type = 'checkbox';
    box.value = lineage.run;
    box.checked = chosen.indexOf(lineage.run) >= 0;
    box.addEventListener('change', function () {
      chosen = lineages
        .map(function (l) { return l.run; })
        .filter(function (run) {
          var input = picks.querySelector('input[value="' + cssEscape(run) + '"]');
          return input && input.checked;
        });
      searchText = {};
      renderList();
      renderDetail();
    });
    label.appendChild(box);
    label.appendChild(document.createTextNode(lineage.label + (lineage.best ? ' ★' : '')));
    label.title = lineage.run;
    picks.appendChild(label);
  });

  search.addEventListener('input', function () { renderList(); });

  function cssEscape(text) {
    return String(text).replace(/["\\\\]/g, '\\\\$&');
  }

  function lineageOf(run) {
    for (var i = 0; i < lineages.length; i++) if (lineages[i].run === run) return lineages[i];
    return null;
  }

  function cellOf(run, key) {
    var cells = data.rows.cells[run];
    return cells ? cells[key] : undefined;
  }

  function textOf(key) {
    if (searchText[key] === undefined) {
      var parts = [key, JSON.stringify(data.rows.data[key] || {})];
      chosen.forEach(function (run) {
        var lineage = lineageOf(run);
        Object.keys(lineage.members).forEach(function (stage) {
          var cell = cellOf(lineage.members[stage], key);
          if (cell) parts.push(JSON.stringify(cell.outputs || cell.error || ''));
        });
      });
      searchText[key] = parts.join('\\n').toLowerCase();
    }
    return searchText[key];
  }

  function renderList() {
    var words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var matching = rows.filter(function (row) {
      var text = textOf(row.key);
      return words.every(function (word) { return text.indexOf(word) >= 0; });
    });
    list.textContent = '';
    matching.slice(0, LIMIT).forEach(function (row) {
      var item = document.createElement('li');
      item.setAttribute('data-key', row.key);
      if (row.key === selected) item.className = 'selected';
      var marks = document.createElement('span');
      marks.className = 'marks';
      chosen.forEach(function (run) {
        var cell = cellOf(run, row.key);
        var mark = document.createElement('span');
        var ok = cell && cell.status === 'ok';
        mark.className = ok ? 'ok-mark' : 'bad-mark';
        mark.textContent = ok ? '●' : '✗';
        mark.title = lineageOf(run).label + (ok ? '' : ': ' + (cell ? cell.error : 'no result'));
        marks.appendChild(mark);
      });
      item.appendChild(marks);
      item.appendChild(document.createTextNode(row.key));
      item.addEventListener('click', function () {
        selected = row.key;
        list.querySelectorAll('li.selected').forEach(function (li) { li.className = ''; });
        item.className = 'selected';
        renderDetail();
      });
      list.appendChild(item);
    });
    count.textContent = matching.length + ' of ' + rows.length + ' rows' +
      (matching.length > LIMIT ? ' (first ' + LIMIT + ' listed)' : '');
  }

  function block(text, className) {
    var pre = document.createElement('pre');
    if (className) pre.className = className;
    pre.textContent = text;
    return pre;
  }

  function show(value) {
    return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  }

  function renderDetail() {
    detail.textContent = '';
    if (selected === null) return;
    var title = document.createElement('h3');
    title.textContent = 'Row ' + selected;
    detail.appendChild(title);

    var rowData = data.rows.data[selected];
    if (rowData) {
      var details = document.createElement('details');
      var summary = document.createElement('summary');
      summary.textContent = 'data';
      details.appendChild(summary);
      details.appendChild(block(JSON.stringify(rowData, null, 2)));
      detail.appendChild(details);
    }
    if (chosen.length === 0) {
      detail.appendChild(block('Pick one or more lineages above.', 'muted'));
      return;
    }

    var grid = document.createElement('div');
    grid.className = 'side-by-side';
    grid.style.gridTemplateColumns = '90px repeat(' + chosen.length + ', minmax(0, 1fr))';
    grid.appendChild(document.createElement('div'));
    chosen.forEach(function (run) {
      var lineage = lineageOf(run);
      var head = document.createElement('div');
      head.className = 'cell head' + (lineage.best ? ' best' : '');
      head.textContent = (lineage.rank === null ? '' : '#' + lineage.rank + ' ') + lineage.label +
        (lineage.best ? ' ★' : '');
      head.title = run;
      grid.appendChild(head);
    });
    data.stages.forEach(function (stage) {
      if (!chosen.some(function (run) { return lineageOf(run).members[stage]; })) return;
      var name = document.createElement('div');
      name.className = 'stage-name';
      name.textContent = stage;
      grid.appendChild(name);
      chosen.forEach(function (run) {
        var member = lineageOf(run).members[stage];
        var cell = document.createElement('div');
        cell.className = 'cell';
        var found = member ? cellOf(member, selected) : undefined;
        if (!found) {
          cell.appendChild(block('no result', 'muted'));
        } else if (found.status !== 'ok') {
          cell.appendChild(block(found.status + ': ' + found.error, 'error'));
        } else {
          Object.keys(found.outputs).forEach(function (output) {
            var label = document.createElement('div');
            label.className = 'muted mono';
            label.textContent = output;
            cell.appendChild(label);
            cell.appendChild(block(show(found.outputs[output])));
          });
        }
        cell.title = member || '';
        grid.appendChild(cell);
      });
    });
    detail.appendChild(grid);
  }

  renderList();
  renderDetail();
})();
`;
