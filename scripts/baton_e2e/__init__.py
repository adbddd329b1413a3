"""Baton's end-to-end harness: real `baton` processes driven over HTTP, one package.

Library modules:
  checks     CheckFailed, check(), say(), poll(), get(): how a check fails and reports
  engines    processes: free ports, a release build, `baton engine`/`router`/`serve` children
  metrics    parse_metrics(): Prometheus text, the one parser every script uses
  pd_proxy   vLLM's toy disaggregated-serving proxy calls (also a command: --self-test)

Checks (each a module with a main, run by a Swift test through BatonTesting's ScriptRunner):
  pd_e2e, router_e2e, router_failures, chaos_router, serve_e2e, openai_interop, openapi_check

Run one from the package root's parent, scripts/:
  cd scripts && python3 -m baton_e2e.pd_e2e ../.build/debug/baton
or from the repository root with `PYTHONPATH=scripts`. The benchmark scripts next to this
package (scripts/bench_*.py) import it as it is: a script's own folder is on Python's path.
Unit tests of the library: `cd scripts && python3 -m unittest baton_e2e.test_metrics baton_e2e.test_layout`.
"""
