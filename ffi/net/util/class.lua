-- Plain-metatable classes: new(name[, base]) makes one, is_a(v, class)
-- tells an instance of it or of a subclass. A class is its instances'
-- metatable, and its methods are found in one __index step. A subclass
-- starts as a copy of its base's fields (methods and metamethods alike: Lua
-- reads metamethods with rawget, so __tostring would not be inherited
-- through __index), and still looks up in its base anything the base gains
-- later. The copy matters on PUC Lua, where each extra __index hop costs on
-- every send and recv.
local setmetatable, getmetatable, pairs, type = setmetatable, getmetatable, pairs, type

local function new_class(name, base)
    local class = {}
    if base then
        for key, value in pairs(base) do
            class[key] = value
        end
        setmetatable(class, {__index = base})
    end
    class._NAME = name
    class.__index = class
    return class
end

-- Whether v is an instance of class or of a subclass of it: its metatable
-- is class, or has class among the bases it looks up in (each subclass's
-- metatable's __index is its base).
local function is_a(v, class)
    local c = type(v) == 'table' and getmetatable(v)
    while type(c) == 'table' do
        if c == class then return true end
        local mt = getmetatable(c)
        c = mt and mt.__index
    end
    return false
end

-- Never compiled by LuaJIT: it runs a few times, while modules load, and
-- once its copy loop had a trace, a module loaded by a __gc finalizer ran
-- that trace for ever (LuaJIT 2.1; a finalizer may use lua-net).
if jit then jit.off(new_class) end -- luacheck: ignore 113

return {new = new_class, is_a = is_a}
