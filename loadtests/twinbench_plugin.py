"""twinbench's measurement for a team's own locustfile, used unmodified.

    locust -f twinbench_plugin.py,locustfile.py --headless --tb-plan plan.json --tb-out out.jsonl

Locust loads both files; this one defines no User class and attaches the twinload plugin
(µs histograms per request name, warm-up and measured windows, the settle gate, the open
model) to the User classes of the other file. loadtests/README.md has the details.
"""

from twinload.plugin import attach

attach()
