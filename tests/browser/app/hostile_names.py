"""What the hostile flows of ``hostile_flows`` must show: step name -> docstring summary."""

from __future__ import annotations

#: The text every step's node must show, in the flow ``end``.
END_STEPS = {
    "graph": "Starts with <b>bold</b> & <img src=x onerror=\"alert('doc')\">.",
    "end": "Ends <script>alert('doc')</script> here.",
    "style": "A #35; hash, #quot; and &amp; entity-looking text.",
    "click": "click graph href \"javascript:alert('doc')\"",
    "subgraph": "[brackets] (parens) {braces} |pipes|",
    "ops": "Starts with o after an arrow.",
    "xray": "Starts with x after an arrow.",
    'say "hi" it\'s [a] (b) {c} |d|': None,
    "<b>bold</b>": None,
    '<img src=x onerror="alert(1)">': None,
    "#35; not a hash": None,
    "a --> b": None,
    "javascript:alert(1)": None,
    "class": None,
    "%%{init: {'theme': 'dark'}}%%": None,
}
#: The steps of the flow ``style``.
STYLE_STEPS = ("x", "o", "linkStyle")
