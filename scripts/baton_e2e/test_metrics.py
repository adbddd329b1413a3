"""parse_metrics on a sample exposition: labels, escapes, histograms, odd values and bad lines."""
import math
import unittest

from .metrics import parse_metrics

SAMPLE = r'''# HELP vllm:request_success_total Finished requests.
# TYPE vllm:request_success_total counter
vllm:request_success_total{model_name="smollm2",finished_reason="stop"} 3
vllm:request_success_total{finished_reason="length",model_name="smollm2",} 2
vllm:request_success_total{model_name="smollm2",finished_reason="abort"} 1 1700000000000
baton_router_requests_total{path="split",code="200"} 7
odd{msg="a \"quoted\" {brace}, a back\\slash\nand a new line",x="1"} -2.5e-3

# TYPE baton_kv_transfer_seconds histogram
baton_kv_transfer_seconds_bucket{le="0.005"} 1
baton_kv_transfer_seconds_bucket{le="0.05"} 4
baton_kv_transfer_seconds_bucket{le="+Inf"} 5
baton_kv_transfer_seconds_sum 0.125
baton_kv_transfer_seconds_count 5
vllm:kv_cache_usage_perc 0
up NaN
down +Inf
'''


class ParseMetricsTests(unittest.TestCase):
    def setUp(self):
        self.m = parse_metrics(SAMPLE)

    def test_every_sample_in_order(self):
        self.assertEqual(len(self.m), 13)
        self.assertEqual([s.name for s in self.m][:2], ["vllm:request_success_total"] * 2)

    def test_labels_and_sums(self):
        self.assertEqual(self.m["vllm:request_success_total"], 6)
        self.assertEqual(self.m.total("vllm:request_success_total", finished_reason="abort"), 1)
        self.assertEqual(self.m.total("vllm:request_success_total", model_name="smollm2", finished_reason="length"), 2)
        self.assertEqual(self.m.total("baton_router_requests_total", code=200), 7, "label values compare as strings")
        self.assertEqual(self.m.total("vllm:request_success_total", finished_reason="nothing"), 0)
        self.assertEqual(self.m.total("absent"), 0)
        self.assertNotIn("absent", self.m)
        self.assertIsNone(self.m.get("absent"))
        with self.assertRaises(KeyError):
            self.m["absent"]
        self.assertIn("vllm:kv_cache_usage_perc", self.m)
        self.assertEqual(self.m.get("vllm:kv_cache_usage_perc"), 0)

    def test_escapes(self):
        [odd] = self.m.series("odd")
        self.assertEqual(odd.labels, {"msg": 'a "quoted" {brace}, a back\\slash\nand a new line', "x": "1"})
        self.assertEqual(odd.value, -2.5e-3)

    def test_histogram(self):
        self.assertEqual(self.m.buckets("baton_kv_transfer_seconds"), [(0.005, 1), (0.05, 4), (math.inf, 5)])
        self.assertEqual(self.m["baton_kv_transfer_seconds_count"], 5)
        self.assertEqual(self.m["baton_kv_transfer_seconds_sum"], 0.125)

    def test_special_values(self):
        self.assertTrue(math.isnan(self.m["up"]))
        self.assertEqual(self.m["down"], math.inf)

    def test_a_malformed_line_is_an_error(self):
        for bad in ["no_value", 'x{a="1"', 'x{a=1} 2', "x two"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_metrics(bad + "\n")

    def test_empty(self):
        self.assertEqual(len(parse_metrics("")), 0)


if __name__ == "__main__":
    unittest.main()
