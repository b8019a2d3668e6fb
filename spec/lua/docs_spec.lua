-- Docs coverage: every public name of the Lua API has an entry in
-- doc/reference.md, and every entry there names something that exists.
-- Nothing is listed here: the modules, their functions and the classes'
-- methods are found at run time, so the check follows the code as it moves.
--
-- What is public. The modules are the *.lua files beside the loaded `net`
-- module (net/**.lua) except the internal ones: net.core and net.core.*
-- (the primitive table, doc/internals.md), net.util.* and net.cdef. In a
-- module, every function field is public (also inside a plain table of the
-- module: inet.server.new), and every class found there (a table that is its
-- own __index and has a _NAME; see ffi/net/util/class.lua) has its function
-- fields as methods; a module that is itself a class (net.socket, which net
-- exports as net.Socket) has no functions of its own. A name starting with
-- "_" is not public (_NAME, __index, __tostring). The constants (numbers)
-- are documented as a group and are not entries.
--
-- How reference.md names them (the entry convention):
-- * A heading "Module `net.x`" opens the section of module net.x. A heading
--   "Class `net.x.Y`" or "Classes `A`, `B`" opens the section of the classes
--   it names by their _NAME; backticked names inside parentheses in the
--   heading are remarks ("(adds to `net.Socket`)"). Any other heading closes
--   the section.
-- * Entries are the code spans in the FIRST cell of a table row of such a
--   section. Code anywhere else (prose, other cells, other sections) is free
--   text and names nothing.
-- * In a module section, `m.f(...)` is the function f of the module, where m
--   is the last part of the module's name (`net.wrap(fd)`, `stream.pair(`,
--   `inet.server.new{`: a dotted path reaches into plain tables; `{` counts
--   as a call). `m.Name` with neither is a field (a class) that must exist.
--   Another prefix (`net.stream.Socket` in net.stream) is a problem of form.
-- * In a class section, `x:m(...)` is the method m (x is any word: sock, buf,
--   ai); a bare `m` in the same cell is one more method of the row
--   (`sock:rcvbuf([bytes])`, `sndbuf`; an alias: alias `tcpintvl`).
-- * A class lists the methods it adds or overrides (its value differs from
--   its base's). A method inherited unchanged is documented under the class
--   that defines it, and listing it again under a subclass is an error, as is
--   any entry given twice.
-- Fenced code blocks are skipped. The reference is found under
-- $NET_SOURCE_ROOT (set by the meson test env), else the current directory.
local net = require('net')
local class = require('net.util.class').new

local REFERENCE = 'doc/reference.md'

-- ------------------------------------------------------------ the code --

local function is_class(t)
  return rawget(t, '__index') == t and type(rawget(t, '_NAME')) == 'string'
end

local function is_public(key)
  return type(key) == 'string' and key:sub(1, 1) ~= '_'
end

-- The class a class copies and still looks up in (nil for a root class).
local function base_of(cls)
  local mt = getmetatable(cls)
  local base = mt and rawget(mt, '__index')
  if type(base) == 'table' and is_class(base) then return base end
end

-- Whether cls defines method name itself, rather than inheriting it as is.
local function own(cls, name)
  local base = base_of(cls)
  return not (base and base[name] == cls[name])
end

-- The public functions of a module table: {["server.new"] = true, ...}, and
-- every class it holds, with their bases, into classes (_NAME -> class). A
-- module that is a class (net.socket is net.Socket) has no functions.
local function module_functions(mod, classes)
  local funcs, seen = {}, {}
  local function walk(t, prefix)
    seen[t] = true
    for key, value in pairs(t) do
      if is_public(key) and type(value) == 'function' then
        funcs[prefix .. key] = true
      elseif is_public(key) and type(value) == 'table' and is_class(value) then
        local cls = value
        while cls do
          classes[cls._NAME] = cls
          cls = base_of(cls)
        end
      elseif is_public(key) and type(value) == 'table' and not seen[value] then
        walk(value, prefix .. key .. '.')
      end
    end
  end
  walk(is_class(mod) and {Class = mod} or mod, '')
  return funcs
end

local function internal(name)
  return name == 'net.core' or name:match('^net%.core%.') or name:match('^net%.util%.')
    or name == 'net.cdef'
end

-- Where the loaded net module lives: the directory that holds net/.
local function module_root()
  for _, value in pairs(net) do
    if type(value) == 'function' then
      local source = debug.getinfo(value, 'S').source
      local root = source:match('^@(.*)/net/init%.lua$') or source:match('^@(.*)/net%.lua$')
      if root then return root end
    end
  end
  error('cannot tell where the net module was loaded from')
end

-- The names of the public modules, sorted, found beside the loaded net.
local function public_modules()
  local root = module_root()
  local p = assert(io.popen("find '" .. root .. "/net' -name '*.lua'"))
  local names = {}
  for path in p:lines() do
    local name = path:sub(#root + 2):gsub('%.lua$', ''):gsub('/init$', ''):gsub('/', '.')
    if not internal(name) then names[#names + 1] = name end
  end
  p:close()
  table.sort(names)
  return names
end

-- ---------------------------------------------------------- the reference --

-- The first cell of a table row, or nil for another line ("\|" is a bar
-- inside a cell).
local function first_cell(line)
  if line:sub(1, 1) ~= '|' then return nil end
  local i = 2
  while true do
    local bar = line:find('|', i, true)
    if not bar then return line:sub(2) end
    if line:sub(bar - 1, bar - 1) ~= '\\' then return line:sub(2, bar - 1) end
    i = bar + 1
  end
end

local WORD = '[%a_][%w_]*'

-- The entries of a reference text: a list of {section =, name =, kind =
-- 'function' | 'field' | 'method', line =}, where section is {module =
-- name} or {classes = {names}}; and the problems of its form.
local function parse(text)
  local entries, problems = {}, {}
  local section, fenced, n = nil, false, 0
  for line in (text .. '\n'):gmatch('([^\n]*)\n') do
    n = n + 1
    local where = REFERENCE .. ':' .. n .. ': '
    if line:match('^%s*```') then
      fenced = not fenced
    elseif fenced then -- luacheck: ignore 542
      -- a code example: its "#" lines are not headings
    elseif line:match('^#') then
      local heading = line:gsub('^#+%s*', ''):gsub('%b()', '')
      local kind = heading:match('^(%a+)')
      section = nil
      if kind == 'Module' then
        local name = heading:match('^Module%s+`([^`]+)`')
        if name then
          section = {module = name, line = n}
        else
          problems[#problems + 1] = where .. 'a Module heading names no `module`'
        end
      elseif kind == 'Class' or kind == 'Classes' then
        local names = {}
        for name in heading:gmatch('`([^`]+)`') do names[#names + 1] = name end
        if #names > 0 then
          section = {classes = names, line = n}
        else
          problems[#problems + 1] = where .. 'a Class heading names no `class`'
        end
      end
    elseif section then
      local cell = first_cell(line)
      for span in (cell or ''):gmatch('`([^`]*)`') do
        local function add(name, kind)
          entries[#entries + 1] = {section = section, name = name, kind = kind, line = n}
        end
        if section.module then
          local last = section.module:match('([^.]+)$')
          -- a full module name as the prefix is read as the module's last part
          local full = span:sub(1, #section.module + 1) == section.module .. '.'
          local m, path, call = (full and last .. span:sub(#section.module + 1) or span)
            :match('^(' .. WORD .. ')%.(' .. WORD .. '[%w_%.]*)([%({]?)')
          if span:match('^' .. WORD .. ':') then
            problems[#problems + 1] = where .. '`' .. span .. '` is a method: list it under a Class heading'
          elseif m then
            if m ~= last or (full and section.module ~= last) then
              problems[#problems + 1] = where .. '`' .. span .. '` in module ' .. section.module
                .. ': spell it `' .. last .. '.' .. path .. call .. '`'
            end
            if call ~= '' then
              add(path, 'function')
            elseif not span:find('[^%w_%.]') then
              add(path, 'field')
            end
          end
        else
          local method = span:match('^' .. WORD .. ':(' .. WORD .. ')%(')
          if method then
            add(method, 'method')
          elseif span:match('^' .. WORD .. '$') then
            add(span, 'method')
          end
        end
      end
    end
  end
  return entries, problems
end

-- --------------------------------------------------------------- the check --

local function get(t, path)
  for key in path:gmatch('[^.]+') do
    if type(t) ~= 'table' then return nil end
    t = t[key]
  end
  return t
end

-- Messages in the order of the reference's lines, then alphabetically.
local function by_line(a, b)
  local la = tonumber(a:match('^[^:]*:(%d+):')) or 0
  local lb = tonumber(b:match('^[^:]*:(%d+):')) or 0
  if la ~= lb then return la < lb end
  return a < b
end

-- Checks a reference text against modules ({name -> module table}). Returns
-- three sorted lists of messages: the form's problems, the public names with
-- no entry, the entries that name nothing (or name it where it is not).
local function check(text, modules)
  local entries, form = parse(text)
  local classes, funcs = {}, {}
  for name, mod in pairs(modules) do
    funcs[name] = module_functions(mod, classes)
  end

  local documented, stale = {}, {}
  local function once(key, where)
    if documented[key] then
      stale[#stale + 1] = where .. key .. ' has an entry already (line ' .. documented[key] .. ')'
    end
    documented[key] = documented[key] or where:match(':(%d+): $')
  end
  local reported = {}
  for _, e in ipairs(entries) do
    local where = REFERENCE .. ':' .. e.line .. ': '
    local s = e.section
    if s.module then
      local mod = modules[s.module]
      if not mod then
        if not reported[s] then
          stale[#stale + 1] = REFERENCE .. ':' .. s.line .. ': module ' .. s.module
            .. ' is not a public module'
          reported[s] = true
        end
      else
        if e.kind == 'function' then
          if type(get(mod, e.name)) ~= 'function' then
            stale[#stale + 1] = where .. s.module .. ': no function ' .. e.name
          end
        elseif get(mod, e.name) == nil then
          stale[#stale + 1] = where .. s.module .. ': no field ' .. e.name
        end
        once(s.module .. ': ' .. e.name, where) -- a field given twice too
      end
    else
      for _, cname in ipairs(s.classes) do
        local cls = classes[cname]
        if not cls then
          if not reported[cname] then
            stale[#stale + 1] = REFERENCE .. ':' .. s.line .. ': no class ' .. cname
            reported[cname] = true
          end
        elseif type(cls[e.name]) ~= 'function' then
          stale[#stale + 1] = where .. cname .. ': no method ' .. e.name
        elseif not own(cls, e.name) then
          stale[#stale + 1] = where .. cname .. ':' .. e.name .. ' is inherited unchanged from '
            .. base_of(cls)._NAME .. ': document it there only'
        else
          once(cname .. ':' .. e.name, where)
        end
      end
    end
  end

  local missing = {}
  for mname, list in pairs(funcs) do
    for path in pairs(list) do
      if not documented[mname .. ': ' .. path] then
        missing[#missing + 1] = mname .. ': function ' .. path
      end
    end
  end
  for cname, cls in pairs(classes) do
    for key, value in pairs(cls) do
      if is_public(key) and type(value) == 'function' and own(cls, key)
          and not documented[cname .. ':' .. key] then
        missing[#missing + 1] = cname .. ': method ' .. key
      end
    end
  end
  table.sort(form, by_line)
  table.sort(missing, by_line)
  table.sort(stale, by_line)
  return form, missing, stale, entries
end

local function read_reference()
  local root = os.getenv('NET_SOURCE_ROOT') or '.'
  local f = assert(io.open(root .. '/' .. REFERENCE, 'r'))
  local text = f:read('*a')
  f:close()
  return text
end

local function report(what, list)
  return #list .. ' ' .. what .. ':\n  ' .. table.concat(list, '\n  ')
end

-- ----------------------------------------------------------------- specs --

describe('doc/reference.md', function()
  local names = public_modules()
  local modules = {}
  for _, name in ipairs(names) do modules[name] = require(name) end
  local form, missing, stale, entries = check(read_reference(), modules)

  it('is found with the modules it documents', function()
    -- the spec looked where the code is: net and net.stream at least
    assert.is_table(modules['net'])
    assert.is_table(modules['net.stream'])
    assert.is_true(#entries > 0, 'no entries parsed from ' .. REFERENCE)
  end)

  it('follows the entry convention', function()
    assert(#form == 0, report('problems of form', form))
  end)

  it('has an entry for every public module function and class method', function()
    assert(#missing == 0, report('public names without an entry', missing))
  end)

  it('names only functions and methods that exist, each once, where they are defined', function()
    assert(#stale == 0, report('entries naming nothing', stale))
  end)
end)

-- The check itself, on a small reference and a made-up module: it must
-- report what is missing and what is stale, or the specs above prove nothing.
describe('the docs check', function()
  local Base = class('fake.Base')
  local function method() end
  Base.open, Base.shut, Base._hidden = method, function() end, method
  local Sub = class('fake.Sub', Base)
  Sub.extra = function() end
  Sub.alias = Sub.extra
  Sub.shut = function() end -- overrides
  local fake = {Base = Base, Sub = Sub, NUMBER = 7, make = function() end,
                client = {new = function() end}, _private = function() end}
  local modules = {['net.fake'] = fake, ['net.fake.base'] = Base}

  local DOC = table.concat({
    '# Title',
    '## Module `net.fake`',
    '| name | notes |',
    '|---|---|',
    '| `fake.make()` → x | made |',
    '| `fake.Base`, `fake.Sub` | classes; `fake.gone()` in a later cell names nothing |',
    '## Class `fake.Base`',
    '```sh',
    '# not a heading: the rows below stay in the section',
    '```',
    '| `b:open()`, `shut` | `b:nothing()` |',
    '### Class `fake.Sub` (adds to `fake.Base`)',
    '| `s:extra(a \\| b)`, alias `alias` | |',
    '| `s:shut()` | overridden |',
    '## Environment',
    '| `s:elsewhere()` | free text |',
  }, '\n')

  it('passes a reference that documents everything', function()
    local form, missing, stale = check(DOC .. '\n## Module `net.fake`\n| `fake.client.new{}` | |', modules)
    assert.same({}, form)
    assert.same({}, missing)
    assert.same({}, stale)
  end)

  it('names each public function and method without an entry', function()
    local doc = DOC:gsub('| `s:shut%(%)` | overridden |', '')
    local _, missing = check(doc, modules)
    assert.same({'fake.Sub: method shut', 'net.fake: function client.new'}, missing)
  end)

  it('names each entry for something that does not exist, or is listed twice', function()
    local doc = DOC .. table.concat({'',
      '## Module `net.fake`',
      '| `fake.client.new{}`, `fake.nothing()`, `fake.Gone`, `fake.make()`, `fake.Base` | |',
      '## Module `net.none`',
      '| `none.f()` | |',
      '## Classes `fake.Sub`, `fake.Missing`',
      '| `s:open()`, `vanished` | |',
      '| `s:extra()` | |',
    }, '\n')
    local form, _, stale = check(doc, modules)
    assert.same({}, form)
    assert.same({
      REFERENCE .. ':18: net.fake: Base has an entry already (line 6)',
      REFERENCE .. ':18: net.fake: make has an entry already (line 5)',
      REFERENCE .. ':18: net.fake: no field Gone',
      REFERENCE .. ':18: net.fake: no function nothing',
      REFERENCE .. ':19: module net.none is not a public module',
      REFERENCE .. ':21: no class fake.Missing',
      REFERENCE .. ':22: fake.Sub: no method vanished',
      REFERENCE .. ':22: fake.Sub:open is inherited unchanged from fake.Base: document it there only',
      REFERENCE .. ':23: fake.Sub:extra has an entry already (line 13)',
    }, stale)
  end)

  it('names entries that break the convention', function()
    local form = check('## Module `net.fake`\n| `net.make()`, `c:new()`, `net.fake.Sub` | |\n## Class\n', modules)
    assert.same({
      REFERENCE .. ':2: `c:new()` is a method: list it under a Class heading',
      REFERENCE .. ':2: `net.fake.Sub` in module net.fake: spell it `fake.Sub`',
      REFERENCE .. ':2: `net.make()` in module net.fake: spell it `fake.make(`',
      REFERENCE .. ':3: a Class heading names no `class`',
    }, form)
  end)
end)
