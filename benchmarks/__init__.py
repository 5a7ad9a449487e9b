"""penstock's performance targets, measured (``make bench``, or ``python -m benchmarks``).

Each ``benchmarks/bench_<area>.py`` exposes ``run(quick: bool = False) -> list[dict]``; every
row it returns compares penstock with a baseline against a target ratio:

``benchmark`` (str), ``baseline`` (str, what penstock is compared to), ``baseline_us`` (float),
``penstock_us`` (float), ``ratio`` (float), ``limit`` (float, the target ratio), ``ok`` (bool),
and optionally ``note`` (str).

The runner (:mod:`benchmarks.__main__`) collects every such module, prints one markdown table,
writes it to ``benchmarks/RESULTS.md`` and exits 1 when any row misses its target.
"""
