#!/usr/bin/env python3
"""Tests of run_case.py's matching: matchers, named objects, subset and exact matching,
defaults, {var} substitution. Runs with python3 alone; extra arguments are ignored, so ctest
may pass the ones every script here gets."""
import json
import os
import shutil
import sys
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_case  # noqa: E402
from run_case import check, effective_expect, match, merge, subst  # noqa: E402

V4 = "0b6f8a52-3d4e-4c1a-9f2b-1a2b3c4d5e6f"
V1 = "0b6f8a52-3d4e-1c1a-9f2b-1a2b3c4d5e6f"
V4_RX = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"  # as cases wrote it


def errors(want, got):
    return match(want, got, "$", [])


class Matchers(unittest.TestCase):
    def ok(self, want, got):
        self.assertEqual(errors(want, got), [], "%r should match %r" % (want, got))

    def fails(self, want, got):
        self.assertNotEqual(errors(want, got), [], "%r should not match %r" % (want, got))

    def test_named_strings(self):
        self.ok("$any", None)
        self.ok("$notnull", 0)
        self.fails("$notnull", None)
        self.ok("$uuid", V1)
        self.ok("$uuid", V4)
        self.fails("$uuid", V4.upper())
        self.fails("$uuid", 7)
        self.ok("$uuid4", V4)
        self.fails("$uuid4", V1)
        self.fails("$uuid4", V4[:-1])
        self.fails("$uuid4", "0b6f8a52-3d4e-4c1a-cf2b-1a2b3c4d5e6f")  # variant bits
        self.ok("$iso", "2026-01-01T00:00:00.000Z")
        self.fails("$iso", "2026-01-01T00:00:00Z")
        self.ok("$iso_offset", "2026-01-01T00:00:00+00:00")
        self.fails("$iso_offset", "2026-01-01T00:00:00+01:00")
        self.fails("$iso_offset", "2026-01-01T00:00:00.000Z")

    def test_uuid4_is_the_regex_it_replaces(self):
        rx = {"$regex": V4_RX}
        for got in (V4, V1, V4 + "\n", "x" + V4, None, 4):
            self.assertEqual(bool(errors(rx, got)), bool(errors("$uuid4", got)), repr(got))

    def test_unknown_dollar_string_is_a_literal(self):
        self.ok("$5.00", "$5.00")
        self.fails("$5.00", "$6.00")

    def test_operators(self):
        self.ok({"$len": 2}, [1, 2])
        self.ok({"$len": 3}, "abc")
        self.fails({"$len": 2}, [1])
        self.fails({"$len": 2}, 2)
        self.ok({"$each": {"a": 1}}, [{"a": 1, "b": 2}, {"a": 1}])
        self.fails({"$each": {"a": 1}}, [{"a": 1}, {"a": 2}])
        self.fails({"$each": 1}, {"a": 1})
        self.ok({"$ne": 3}, 4)
        self.fails({"$ne": 3}, 3)
        self.ok({"$gte": 3}, 3)
        self.fails({"$gte": 3}, 2)
        self.fails({"$gte": 3}, "9")
        self.ok({"$lte": 3}, 3)
        self.fails({"$lte": 3}, 4)
        self.ok({"$regex": "^ab"}, "abc")
        self.fails({"$regex": "^ab"}, "cab")
        self.fails({"$regex": "."}, 1)
        self.ok({"$contains": {"id": 2}}, [{"id": 1}, {"id": 2}])
        self.fails({"$contains": {"id": 3}}, [{"id": 1}, {"id": 2}])
        with self.assertRaises(run_case.Failure):
            errors({"$nope": 1}, 1)

    def test_rasl_meta(self):
        meta = {"request_id": V4, "timestamp": "2026-01-01T00:05:00+00:00"}
        self.ok("$rasl_meta", meta)
        self.ok({"$rasl_meta": "2026-01-01T00:05:00+00:00"}, meta)
        self.fails({"$rasl_meta": "2026-01-01T00:00:00+00:00"}, meta)
        self.fails("$rasl_meta", dict(meta, request_id=V1))
        self.fails("$rasl_meta", dict(meta, timestamp="2026-01-01T00:05:00Z"))
        self.fails("$rasl_meta", {"timestamp": meta["timestamp"]})
        self.fails("$rasl_meta", None)
        paged = dict(meta, pagination={"total": 3})
        self.ok({"$rasl_meta": meta["timestamp"], "pagination": {"total": 3}}, paged)
        self.fails({"$rasl_meta": meta["timestamp"], "pagination": {"total": 4}}, paged)
        self.fails({"$rasl_meta": meta["timestamp"], "pagination": "$any"}, meta)
        # subset, like any object: other members may be there
        self.ok("$rasl_meta", paged)

    def test_subset(self):
        self.ok({"a": 1}, {"a": 1, "b": 2})
        self.fails({"a": 1, "c": 3}, {"a": 1, "b": 2})
        self.fails({"a": 1}, [1])
        self.ok({"a": {"b": {}}}, {"a": {"b": {"c": 1}}})
        self.ok({"b": "$absent"}, {"a": 1})
        self.fails({"a": "$absent"}, {"a": None})
        self.ok({"a": None}, {"a": None})
        self.fails({"a": None}, {})

    def test_lists_match_element_by_element(self):
        self.ok([{"id": 1}, {"id": 2}], [{"id": 1, "x": 0}, {"id": 2}])
        self.fails([{"id": 1}], [{"id": 1}, {"id": 2}])
        self.fails([{"id": 2}, {"id": 1}], [{"id": 1}, {"id": 2}])

    def test_scalars_keep_their_type(self):
        self.ok(1, 1)
        self.fails(1, True)
        self.fails(True, 1)
        self.fails(1, 1.0)
        self.fails("1", 1)
        self.ok(0.5, 0.5)


class Check(unittest.TestCase):
    def test_json_exact_compares_key_order(self):
        self.assertEqual(check({"json_exact": {"a": 1, "b": 2}}, 200, {}, b'{"a":1,"b":2}'), [])
        self.assertNotEqual(check({"json_exact": {"a": 1, "b": 2}}, 200, {}, b'{"b":2,"a":1}'),
                            [])
        self.assertNotEqual(check({"json_exact": {"a": 1}}, 200, {}, b'{"a":1,"b":2}'), [])
        self.assertNotEqual(check({"json_exact": [1, 2]}, 200, {}, b'[2,1]'), [])

    def test_json_exact_takes_matchers_literally(self):
        self.assertNotEqual(check({"json_exact": {"a": "$any"}}, 200, {}, b'{"a":1}'), [])

    def test_status_headers_body(self):
        head = {"content-type": "application/json", "x-n": "5"}
        self.assertEqual(check({"status": 200, "headers": {"Content-Type": "application/json",
                                                           "X-N": 5, "Retry-After": "$absent"}},
                               200, head, b"{}"), [])
        self.assertNotEqual(check({"status": 201}, 200, head, b"{}"), [])
        self.assertNotEqual(check({"headers": {"X-Gone": "$any"}}, 200, head, b"{}"), [])
        self.assertNotEqual(check({"headers": {"X-N": "$absent"}}, 200, head, b"{}"), [])
        self.assertEqual(check({"headers": {"X-N": {"$regex": "^[0-9]$"}}}, 200, head, b""), [])
        self.assertEqual(check({"body": "abc", "body_contains": ["b"], "body_regex": "^a"},
                               200, {}, b"abc"), [])
        self.assertNotEqual(check({"body": "ab"}, 200, {}, b"abc"), [])
        self.assertNotEqual(check({"body_contains": "z"}, 200, {}, b"abc"), [])
        self.assertNotEqual(check({"json": {}}, 200, {}, b"not json"), [])

    def test_paths(self):
        body = json.dumps({"a": {"b": [10, {"c": "x"}]}}).encode()
        self.assertEqual(check({"paths": {"a.b.0": 10, "a.b.1.c": "x", "a.z": "$absent",
                                          "": {"$len": 1}}}, 200, {}, body), [])
        self.assertNotEqual(check({"paths": {"a.b.5": "$any"}}, 200, {}, body), [])
        self.assertNotEqual(check({"paths": {"a.b.0": 11}}, 200, {}, body), [])


class Defaults(unittest.TestCase):
    CASE = {"defaults": {"expect": {"status": 200, "json": {"meta": {"$rasl_meta": "T0"},
                                                            "success": True}}}}

    def test_merge(self):
        self.assertEqual(merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}, "d": 4}),
                         {"a": {"b": 1, "c": 3}, "d": 4})
        self.assertEqual(merge({"a": {"b": 1}}, {"a": "$absent"}), {"a": "$absent"})
        self.assertEqual(merge({"a": [1, 2]}, {"a": [3]}), {"a": [3]})
        self.assertEqual(merge({}, {"a": 1}), {"a": 1})

    def test_every_member_merged_into_a_step(self):
        got = effective_expect(self.CASE["defaults"], {"request": {}, "expect": {
            "json": {"meta": {"pagination": {"total": 1}}}}})
        self.assertEqual(got, {"status": 200, "json": {"meta": {"$rasl_meta": "T0", "pagination":
                                                                {"total": 1}}, "success": True}})

    def test_a_step_overrides_one_member(self):
        got = effective_expect(self.CASE["defaults"], {"request": {}, "expect": {
            "status": 404, "json": {"meta": {"$rasl_meta": "T1"}, "success": False}}})
        self.assertEqual(got, {"status": 404, "json": {"meta": {"$rasl_meta": "T1"},
                                                       "success": False}})

    def test_a_step_without_expect_gets_the_defaults(self):
        self.assertEqual(effective_expect(self.CASE["defaults"], {"request": {}}),
                         self.CASE["defaults"]["expect"])

    def test_opting_out(self):
        step = {"request": {}, "defaults": False, "expect": {"status": 204}}
        self.assertEqual(effective_expect(self.CASE["defaults"], step), {"status": 204})

    def test_no_defaults(self):
        self.assertEqual(effective_expect({}, {"expect": {"status": 1}}), {"status": 1})

    def test_set_defaults_replaces_them_for_the_steps_after(self):
        runner = run_case.Runner(types.SimpleNamespace(fixtures="-", emulator="-"), self.CASE)
        try:
            step = {"request": {}, "expect": {"json": {"a": 1}}}
            self.assertEqual(effective_expect(runner.defaults, step)["status"], 200)
            runner.step({"set_defaults": {"expect": {"status": 201}}})
            self.assertEqual(effective_expect(runner.defaults, step),
                             {"status": 201, "json": {"a": 1}})
            runner.step({"set_defaults": {}})
            self.assertEqual(effective_expect(runner.defaults, step), {"json": {"a": 1}})
        finally:
            for d in runner.dirs:
                shutil.rmtree(d, ignore_errors=True)

    def test_the_merged_expectation_is_checked(self):
        body = json.dumps({"success": True, "meta": {"request_id": V4, "timestamp": "T0"}})
        step = {"request": {}, "expect": {"json": {"data": "$absent"}}}
        want = effective_expect(self.CASE["defaults"], step)
        self.assertEqual(check(want, 200, {}, body.encode()), [])
        bad = json.dumps({"success": True, "meta": {"request_id": V1, "timestamp": "T0"}})
        self.assertNotEqual(check(want, 200, {}, bad.encode()), [])
        self.assertNotEqual(check(want, 201, {}, body.encode()), [])

    def test_defaults_are_not_changed_by_a_step(self):
        case = json.loads(json.dumps(self.CASE))
        effective_expect(case["defaults"], {"expect": {"json": {"meta": {"x": 1}}}})
        self.assertEqual(case, self.CASE)


class Subst(unittest.TestCase):
    ENV = {"id": 7, "name": "ann", "_c": 3}

    def test_strings(self):
        self.assertEqual(subst("/contacts/{id}", self.ENV), "/contacts/7")
        self.assertEqual(subst("{name}-{id}", self.ENV), "ann-7")
        self.assertEqual(subst("c{_c:02d}", self.ENV), "c03")

    def test_a_whole_variable_keeps_its_type(self):
        self.assertEqual(subst("{id}", self.ENV), 7)
        self.assertEqual(subst("{id:d}", self.ENV), "7")

    def test_unknown_names_stay(self):
        self.assertEqual(subst("/contacts/{nope}", self.ENV), "/contacts/{nope}")
        self.assertEqual(subst("{nope}", self.ENV), "{nope}")
        self.assertEqual(subst('{"a": 1}', self.ENV), '{"a": 1}')

    def test_nested_values(self):
        self.assertEqual(subst({"a": ["{id}", {"b": "x{name}"}], "n": 1}, self.ENV),
                         {"a": [7, {"b": "xann"}], "n": 1})

    def test_keys_are_not_substituted(self):
        self.assertEqual(subst({"{id}": 1}, self.ENV), {"{id}": 1})


class Counting(unittest.TestCase):
    """tools/count_assertions.py counts a check the same however it is written."""

    def test_named_objects_and_defaults_count_as_spelled_out(self):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools"))
        import count_assertions
        rx = {"$regex": V4_RX}
        spelled = {"steps": [
            {"request": {}, "expect": {"status": 200, "json": {"meta": {
                "request_id": rx, "timestamp": "T0", "pagination": {"total": 1}}}}},
            {"request": {}, "expect": {"json": {"meta": {"request_id": rx, "timestamp": "T1"}}}},
            {"request": {}, "expect": {"status": 204}}]}
        short = {"defaults": {"expect": {"json": {"meta": {"$rasl_meta": "T0"}}}}, "steps": [
            {"request": {}, "expect": {"status": 200,
                                       "json": {"meta": {"pagination": {"total": 1}}}}},
            {"set_defaults": {"expect": {"json": {"meta": {"$rasl_meta": "T1"}}}}},
            {"request": {}},
            {"request": {}, "defaults": False, "expect": {"status": 204}}]}
        self.assertEqual(count_assertions.count_case(spelled), 7)
        self.assertEqual(count_assertions.count_case(short), 7)


class Dig(unittest.TestCase):
    def test_paths(self):
        doc = {"a": [{"b": 1}]}
        self.assertEqual(run_case.dig(doc, "a.0.b"), 1)
        self.assertEqual(run_case.dig(doc, ""), doc)
        with self.assertRaises(KeyError):
            run_case.dig(doc, "z")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=1)
