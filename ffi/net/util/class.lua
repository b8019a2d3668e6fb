-- Plain-metatable classes: a class is its instances' metatable, looks up
-- missing methods in its base, and repeats the base's metamethods (Lua reads
-- metamethods with rawget, so __tostring is not inherited through __index).
local setmetatable, rawget = setmetatable, rawget

local METAMETHODS = {'__tostring', '__eq'}

return function(name, base)
    local class = {_NAME = name}
    class.__index = class
    if base then
        setmetatable(class, {__index = base})
        for _, mm in ipairs(METAMETHODS) do
            if rawget(class, mm) == nil then
                class[mm] = base[mm]
            end
        end
    end
    return class
end
