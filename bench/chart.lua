-- bench/chart.lua: the picture of a bench/run table (issue 12): every
-- implementation's median rate over C's on the same workload, as clustered
-- bars (one cluster per implementation, one bar per workload; a dashed line
-- at 1 = C), written as SVG by gnuplot (Debian gnuplot-nox). Loaded by
-- bench/run with dofile; returns write(rows, path, subtitle), which returns
-- nil or why no chart was written (gnuplot missing or failing is not a
-- failure of the bench).

-- rows: bench/run's rows ({w = workload, impl = implementation, median =
-- rate or nil}) in table order. Returns the workloads and the labels in
-- order of first appearance, and ratio[w.name][label].
local function ratios(rows)
  local base, workloads, labels, seen, ratio = {}, {}, {}, {}, {}
  for _, row in ipairs(rows) do
    if row.impl.label == 'C' and row.median then base[row.w.name] = row.median end
  end
  for _, row in ipairs(rows) do
    local w, label = row.w, row.impl.label
    if label ~= 'C' and row.median and base[w.name] then
      if not ratio[w.name] then
        ratio[w.name] = {}
        workloads[#workloads + 1] = w
      end
      ratio[w.name][label] = row.median / base[w.name]
      if not seen[label] then
        seen[label] = true
        labels[#labels + 1] = label
      end
    end
  end
  return workloads, labels, ratio
end

local function q(s) return "'" .. tostring(s):gsub("'", [['\'']]) .. "'" end

-- A string as a gnuplot string literal (double quotes: \n is a new line).
local function gq(s)
  return '"' .. tostring(s):gsub('[\\"]', '\\%0'):gsub('\n', '\\n') .. '"'
end

return function(rows, path, subtitle)
  if not os.execute('command -v gnuplot >/dev/null 2>&1') then
    return 'gnuplot not installed (Debian gnuplot-nox)'
  end
  local workloads, labels, ratio = ratios(rows)
  if #workloads == 0 then return 'no workload with a C row to compare with' end
  -- The data: one line per implementation, one column per workload; "-"
  -- where the implementation has no figure for the workload.
  local data = path .. '.dat'
  local f = assert(io.open(data, 'w'))
  local head = { 'implementation' }
  for _, w in ipairs(workloads) do head[#head + 1] = w.title end
  f:write(table.concat(head, '\t'), '\n')
  local top = 1
  for _, label in ipairs(labels) do
    local line = { label }
    for _, w in ipairs(workloads) do
      local r = ratio[w.name][label]
      line[#line + 1] = r and ('%.4f'):format(r) or '-'
      if r and r > top then top = r end
    end
    f:write(table.concat(line, '\t'), '\n')
  end
  f:close()
  local width = math.max(900, 60 + #labels * (12 * #workloads + 20))
  local script = table.concat({
    ('set terminal svg size %d,640 dynamic noenhanced font "sans,12" background "#ffffff"'):format(width),
    'set output ' .. gq(path),
    'set datafile separator "\\t"',
    'set datafile missing "-"',
    'set title ' .. gq('lua-net bench: rate of each implementation over C\'s rate on the same workload (medians)\n'
      .. subtitle),
    'set style data histograms',
    'set style histogram clustered gap 1',
    'set style fill solid 0.9 border rgb "#404040"',
    'set key outside top center horizontal',
    'set ylabel "× C (higher is faster)"',
    ('set yrange [0:%.2f]'):format(math.ceil(top * 10 + 0.5) / 10),
    'set ytics 0.1',
    'set grid ytics lc rgb "#d0d0d0"',
    'set xtics rotate by 30 right nomirror',
    'set bmargin 10',
    'set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "#000000" front',
    'set label "C = 1" at graph 1, first 1 offset 0.5, 0 left',
    'set rmargin 8',
    ('plot for [i=2:%d] %s using i:xtic(1) title columnheader(i)'):format(#workloads + 1, gq(data)),
  }, '\n')
  local gp = path .. '.gp'
  f = assert(io.open(gp, 'w'))
  f:write(script, '\n')
  f:close()
  local p = io.popen('gnuplot ' .. q(gp) .. ' 2>&1')
  local out = p:read('a')
  local ok = p:close()
  os.remove(gp)
  os.remove(data)
  if not ok then return 'gnuplot failed: ' .. out end
end
