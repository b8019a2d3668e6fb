-- The bad-input matrix: every public function and method of the Lua API
-- called with what a careless or hostile caller passes (nil, wrong types,
-- negative, huge, NaN, infinities, fractions, empty strings, strings with a
-- NUL), on open and on closed sockets, and with a wrong self (the calls:
-- spec/parity/matrix.lua). Each call must either raise a "bad argument"
-- error or return a documented outcome: a failure (nil or false and a
-- strerror message), an acting method's nil or message, "again" (nil, nil,
-- true), or values of the same types as the plain call (the argument was
-- accepted or ignored); a wrong self only a failure. Never a crash, another
-- error, or a descriptor left open. That each outcome's text is the same
-- on every runtime is checked by the meson test 'parity-matrix'
-- (spec/parity/matrix_calls.lua); of a socket method with a wrong self,
-- which raises in the backend's own words, only that it raises.
local matrix = require('spec.parity.matrix')
local cases = require('spec.parity.cases')
local h = require('spec.lua.helper')
local net = require('net')

local function types(r)
  local t = {}
  for i = 1, r.n do t[i] = type(r[i]) end
  return table.concat(t, ',')
end

-- Every message a failure can carry: net.strerror of every errno and
-- getaddrinfo code net knows.
local MESSAGES = {}
for code = 1, 4095 do MESSAGES[net.strerror(-code)] = true end
for name, v in pairs(net) do
  if type(v) == 'number' and name:match('^EAI_') then MESSAGES[net.strerror(v)] = true end
end
MESSAGES[net.strerror(-4096)] = nil -- "Unknown error": no failure says that

-- nil when the outcome of a call is acceptable, else why not. ok, r: the
-- pcall's flag and the packed results (or {n = 1, message}); base: the
-- packed results of the plain call (no arguments) on a twin, or nil when
-- that raised (then any value is taken as the argument's valid use);
-- strict: no value is acceptable, only failures (a wrong self), and a lone
-- false (a question answered "no": dirty() of a reader that holds nothing).
local function judge(ok, r, base, strict)
  if not ok then
    local msg = r[1]
    if type(msg) == 'string' and msg:find("bad argument #%d+ to '[%w_]+' %(") then return nil end
    return 'raised ' .. tostring(msg)
  end
  if r.n == 0 then return strict and 'returned nothing' or nil end
  local first, second = r[1], r[2]
  if first == nil or first == false then
    if MESSAGES[second] then return nil end -- a failure
    if strict and not (first == false and r.n == 1) then return 'returned ' .. types(r) end
    if second == nil and (r[3] == nil or r[3] == true) and r.n <= 3 then return nil end -- acted, again, end
    -- a stream cut off: nil, nil, nil and how it ended
    if second == nil and r[3] == nil and type(r[4]) == 'string' and r.n == 4 then return nil end
    return 'returned ' .. types(r) .. (type(second) == 'string' and (' "' .. second .. '"') or '')
  end
  -- an acting method that failed: its message alone
  if type(first) == 'string' and r.n == 1 and MESSAGES[first] then return nil end
  if strict then return 'returned ' .. types(r) end
  if not base then return nil end
  if types(r) == types(base) then return nil end
  -- a send's "again" (0, nil, true) or a partial count
  if type(first) == 'number' and first >= 0 and r[2] == nil and r[3] == true then return nil end
  return 'returned ' .. types(r) .. ' where the plain call returns ' .. types(base)
end

-- Problems grouped by what was called: {"name: N calls, e.g. ..."}, so a
-- failure lists each function once.
local function summary(problems)
  local by, order = {}, {}
  for _, p in ipairs(problems) do
    local key = p.what
    if not by[key] then
      by[key] = {n = 0, example = p.example}
      order[#order + 1] = key
    end
    by[key].n = by[key].n + 1
  end
  table.sort(order)
  local out = {}
  for _, key in ipairs(order) do
    out[#out + 1] = ('%s: %d calls, e.g. %s'):format(key, by[key].n, by[key].example)
  end
  return out
end

-- Asserts no problems but the KNOWN ones, which then make the test pending
-- with their list (pending ends the test: it comes last).
local function no_problems(problems)
  local left, known, reasons = {}, {}, {}
  for _, p in ipairs(problems) do
    if matrix.known(p.what) then
      known[#known + 1] = p
      reasons[p.what] = matrix.known(p.what)
    else
      left[#left + 1] = p
    end
  end
  assert.are.same({}, summary(left))
  if #known > 0 then
    local lines = summary(known)
    for i, line in ipairs(lines) do lines[i] = line .. ' [' .. reasons[line:match('^(.-): %d+ calls')] .. ']' end
    pending('known, left to their owners: ' .. table.concat(lines, '; '))
  end
end

local counts = {}
local total = 0

-- A report function for the runs: judges each call into problems.
local function judging(problems, kind, strict)
  return function(what, label, ok, r, base, closed)
    local k = closed and 'closed' or kind
    counts[k] = (counts[k] or 0) + 1
    total = total + 1
    local why = judge(ok, r, base, strict)
    if why then problems[#problems + 1] = {what = what, example = label .. ': ' .. why} end
  end
end

local FUNCS, CLASSES = matrix.api()

describe('the bad-input matrix', function()
  local fds_before

  setup(function()
    collectgarbage('collect')
    fds_before = h.fd_count_all()
  end)

  teardown(function()
    cases.cleanup()
    collectgarbage('collect')
    collectgarbage('collect')
    local parts = {}
    for k, v in pairs(counts) do parts[#parts + 1] = k .. '=' .. v end
    table.sort(parts)
    io.stderr:write('\n# matrix: ', total, ' calls (', table.concat(parts, ' '), ')\n')
  end)

  it('finds the API it covers', function()
    assert.is_true(#FUNCS >= 10)
    for _, name in ipairs({'net.Socket', 'net.addrinfo', 'net.buffer', 'net.stream.Socket'}) do
      assert.is_truthy(CLASSES[name], name)
    end
    -- a module that cannot load outside its host must be a known one
    local unknown = {}
    for _, line in ipairs(matrix.unloadable) do
      if not matrix.known(line:match('^[^:]+') .. '.') then unknown[#unknown + 1] = line end
    end
    assert.are.same({}, unknown)
  end)

  it('every module function, with every value and poisoned option tables', function()
    local problems = {}
    matrix.functions(FUNCS, judging(problems, 'function'))
    no_problems(problems)
  end)

  it('every socket method, on every fixture, open and closed', function()
    local problems = {}
    matrix.socket_methods(judging(problems, 'method'))
    no_problems(problems)
  end)

  it('every method of the other classes', function()
    local problems = {}
    local missing = matrix.other_methods(CLASSES, judging(problems, 'other'))
    assert.are.same({}, missing) -- a class with no maker: add one to matrix.MAKE
    no_problems(problems)
  end)

  it('a wrong self: every method raises or fails, nothing else happens', function()
    local problems = {}
    matrix.wrong_selves(CLASSES, function(what, label, ok, r)
      counts.self = (counts.self or 0) + 1
      total = total + 1
      if ok then
        -- {-1} has a closed socket's shape: "Bad file descriptor", and
        -- getfd's -1 (LuaSocket's closed socket)
        local closed_fd = label == 'self={-1}' and what:match(':getfd$') and r.n == 1 and r[1] == -1
        local why = not closed_fd and judge(ok, r, nil, true)
        if why then problems[#problems + 1] = {what = what, example = label .. ' ' .. why} end
      elseif type(r[1]) ~= 'string' then
        problems[#problems + 1] = {what = what, example = label .. ' raised a ' .. type(r[1])}
      end
    end)
    no_problems(problems)
  end)

  -- The classes whose every method checks its self first (net.util.args).
  for _, cname in ipairs({ 'net.addrinfo', 'net.buffer', 'net.poll', 'net.reader', 'net.dgram.Batch' }) do
    it(cname .. "'s methods name a wrong self as a bad argument", function()
      local cls = CLASSES[cname]
      for _, name in ipairs(matrix.methods_of(cls)) do
        h.raises(("bad argument #0 to '%s' (%s expected, got table)"):format(name, cname), cls[name], {})
        h.raises(("bad argument #0 to '%s' (%s expected, got nil)"):format(name, cname), cls[name])
      end
    end)
  end

  it("every socket class's getfd names a wrong self as a bad argument", function()
    for cname, cls in pairs(CLASSES) do
      if cls.getfd and cname ~= 'net.reader' then
        h.raises("bad argument #0 to 'getfd' (net.Socket expected, got table)", cls.getfd, {})
      end
    end
  end)

  it('leaves no descriptor open', function()
    cases.cleanup()
    collectgarbage('collect')
    collectgarbage('collect')
    assert.are.equal(fds_before, h.fd_count_all())
  end)
end)
