"""The harness is one package imported the normal way: no script edits Python's import path
(scripts/reference, the fixture generators with their vendored gguf-py, aside), and there is one
Prometheus parser."""
import os
import re
import unittest

from .engines import ROOT

PATH_EDIT = re.compile(r"\bsys\.path\.(insert|append|extend)\b|\bsys\.path\s*(\+=|=[^=])")
EXEMPT = (os.path.join("scripts", "reference") + os.sep,)
SKIP_DIRS = {".build", ".git", ".swiftpm", "__pycache__", "node_modules"}


def python_files():
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                yield os.path.relpath(path, ROOT), path


class LayoutTests(unittest.TestCase):
    def test_the_scan_sees_the_harness(self):
        found = {rel for rel, _ in python_files()}
        self.assertIn(os.path.join("scripts", "baton_e2e", "pd_e2e.py"), found)
        self.assertIn(os.path.join("scripts", "bench_router.py"), found)

    def test_no_import_path_edits(self):
        offenders = []
        for rel, path in python_files():
            if rel.startswith(EXEMPT):
                continue
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if PATH_EDIT.search(line.split("#", 1)[0]) and path != os.path.abspath(__file__):
                        offenders.append(f"{rel}:{n}: {line.strip()}")
        self.assertEqual(offenders, [], "import the baton_e2e package instead of editing sys.path")

    def test_one_metrics_parser(self):
        """parse_metrics is defined once, in baton_e2e/metrics.py, and none of the old module-level
        copies (enginelib's parse_metrics/metric_sum/metrics, chaos_router's series/total,
        soak_engine's metric, bench_kv_transfer's metrics) is back anywhere."""
        mine = os.path.join("scripts", "baton_e2e", "metrics.py")
        defined, copies = [], []
        for rel, path in python_files():
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if re.search(r"^def parse_metrics\(", text, re.M):
                defined.append(rel)
            if rel != mine:
                copies += [f"{rel}: def {m.group(1)}" for m in re.finditer(r"^def (parse_metrics|metric_sum|metrics|metric|series|total)\(", text, re.M)]
        self.assertEqual(defined, [mine])
        self.assertEqual(copies, [], "use baton_e2e.metrics (parse_metrics, fetch, Metrics.total)")


if __name__ == "__main__":
    unittest.main()
