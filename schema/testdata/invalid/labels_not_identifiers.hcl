# A dot splits an address; a newline or backtick reaches Markdown and headers.
local_ca "a.b" {}

local_ca "x\n## trustform plan: no changes" {}

local_ca "`code`" {}
