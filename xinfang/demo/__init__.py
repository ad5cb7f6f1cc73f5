"""演示数据 (`xinfang demo`), outside the runtime apps: realistic petitions across units,
categories, channels and states.

One plan, two ways to carry it out:

- Every matter is first *planned*, as a pure function of the seed and its index: type, channel,
  category, place, text, petitioner, and the steps of its life (route, accept, extend, reply,
  rate, review ...) with who takes them and when. Times are spread over the last ~18 months and
  never lie in the future; some matters are overdue, some due soon.
- The service path (small runs) replays every step through `services.case_*`, in time order,
  as the real users would: the demo timeline is exactly what the system produces.
- The bulk path (large runs) computes the same rows in memory the way the services do (state,
  clock, due times, timeline, co-handlers, search index) and writes them in large batches.

`tests/demo/test_demo.py` checks that both paths give identical matters and timelines.

The modules: `org` (the demo organisation), `words` (names, stories, weights), `plans` (the plan
of one matter), `builder` (a plan carried out in memory), `replay` (the service path), `writer`
(the bulk path's inserts), `run` (`generate`).
"""
