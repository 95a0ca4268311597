"""Wires the plugin into Locust. A locustfile calls `setup(...)` once at import time."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from locust import User, events
from locust.env import Environment
from locust.runners import MasterRunner, Runner, WorkerRunner

from .driver import Driver, FreeRun, PlanShape, Recorders
from .openmodel import make_open_dispatcher, make_open_user
from .options import add_common_options
from .plan import Phase, Plan, PlanError, load_plan
from .state import STATE

log = logging.getLogger(__name__)

_installed = False


def setup(
    scenario: str,
    user_classes: list[type[User]],
    *,
    gauges: tuple[str, ...] = (),
    counters: tuple[str, ...] = (),
    open_model: bool = True,
    extra_options: Callable[[Any], None] | None = None,
    setup_requests: tuple[str, ...] = (),
) -> None:
    """Register options and listeners for one scenario.

    `user_classes` are the scenario's closed-model users (defined in the locustfile, so plain
    `locust -f` runs them); `extra_options(parser)` adds the scenario's own `--tb-...` options.
    When `open_model` is true an open-model scheduler class is derived from the first one and
    added to the environment only when the open model is in use. `setup_requests` names
    requests ("WS ws connect") that users make as they start, before the window opens; they
    are recorded from the phase's start and counted in its window.
    """
    global _installed
    if _installed:
        return
    _installed = True
    STATE.declare(list(gauges), list(counters), setup_requests)
    open_cls = make_open_user(user_classes[0]) if open_model else None

    def classes(env: Environment) -> tuple[list[type[User]], type[User] | None, str]:
        problem = "" if open_model else "streams are closed-model only"
        return list(user_classes), open_cls, problem

    _install(scenario, classes, extra_options)


def attach() -> None:
    """Measure a team's own, unmodified locustfile: `locust -f twinbench_plugin.py,theirs.py`.

    The user classes are whatever Locust found in the files (known only once Locust has
    loaded them all, hence at `init`); the scenario's name comes from the plan. The open model
    draws the classes' plain @task functions by class weight × task weight, each class's
    tasks on one instance of it (its `on_start` run once per phase).
    """
    global _installed
    if _installed:
        return
    _installed = True
    STATE.declare([], [], ())
    made: dict[str, tuple[type[User] | None, str]] = {}

    def classes(env: Environment) -> tuple[list[type[User]], type[User] | None, str]:
        users = [c for c in env.user_classes if not getattr(c, "tb_open_user", False)]
        if "open" not in made:
            try:
                made["open"] = (make_open_dispatcher(users), "")
            except TypeError as exc:
                made["open"] = (None, str(exc))
        open_cls, problem = made["open"]
        return users, open_cls, problem

    events.init_command_line_parser.add_listener(_check_option)
    _install(None, classes, None)


def _check_option(parser: Any) -> None:
    parser.add_argument(
        "--tb-check",
        default="",
        help="twinbench: write what the locustfile defines (JSON) to this file and exit",
    )


def _write_check(environment: Environment, path: str, classes: Any) -> None:
    users, open_cls, problem = classes(environment)
    info = {
        "users": [c.__name__ for c in users],
        "open_model": open_cls is not None,
        "open_problem": problem,
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(info, fh)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # before Locust starts anything: nothing of ours is running yet


ClassesOf = Callable[[Environment], tuple[list[type[User]], "type[User] | None", str]]


def _install(scenario: str | None, classes: ClassesOf, extra_options: Any) -> None:
    if scenario is not None:
        STATE.scenario = scenario
    events.init_command_line_parser.add_listener(add_common_options)
    if extra_options is not None:
        events.init_command_line_parser.add_listener(extra_options)
    events.request.add_listener(STATE.on_request)

    @events.init.add_listener
    def on_init(environment: Environment, runner: Runner | None = None, **_: Any) -> None:
        opts = environment.parsed_options
        check = getattr(opts, "tb_check", "") if opts is not None else ""
        if check:
            _write_check(environment, check, classes)
        if runner is None:
            return
        user_classes, open_cls, open_problem = classes(environment)
        if isinstance(runner, WorkerRunner):
            # a worker learns the model only from the master's messages: it must know both
            if open_cls is not None and open_cls not in environment.user_classes:
                environment.user_classes.append(open_cls)
            Recorders(environment, open_cls).register(runner)
            _on_quit(environment, None, None)
            return
        plan = _plan_from_options(environment, scenario)
        name = scenario or (plan.scenario if plan is not None else "run")
        STATE.scenario = name
        driver = Driver(environment, name, getattr(opts, "tb_out", "") or "", opts)
        driver.register(runner)
        if not isinstance(runner, MasterRunner):
            Recorders(environment, open_cls).register(runner)  # local: talks to itself
        shape: PlanShape | None = None
        if plan is not None:
            if plan.model == "open":
                if open_cls is None:
                    _fatal(f"scenario {name} has no open model ({open_problem})")
                assert open_cls is not None
                if open_cls not in environment.user_classes:
                    environment.user_classes.append(open_cls)
            driver.params = dict(plan.params)
            shape = PlanShape(driver, plan, list(user_classes), open_cls)
            shape.runner = runner
            environment.shape_class = shape
            if opts is not None:
                opts.run_time = None  # the plan decides when the run ends
        elif driver.out_path:
            free = FreeRun(driver)
            environment.events.test_start.add_listener(free.on_test_start)
            environment.events.test_stopping.add_listener(free.on_test_stopping)
        _on_quit(environment, driver, shape)

    del on_init


def _plan_from_options(environment: Environment, scenario: str | None) -> Plan | None:
    opts = environment.parsed_options
    if opts is None:
        return None
    try:
        if opts.tb_plan:
            return load_plan(opts.tb_plan, scenario)
    except (OSError, PlanError) as exc:
        _fatal(f"--tb-plan {opts.tb_plan}: {exc}")
    if opts.tb_model != "open":
        return None
    # The open model without a plan is a one-phase plan: rate from --tb-rate, the in-flight
    # cap from -u (else --tb-max-inflight), measured for --run-time minus --tb-warmup.
    if opts.tb_rate <= 0 or not opts.run_time:
        _fatal("--tb-model open without --tb-plan needs --tb-rate R and --run-time T")
    warmup = float(opts.tb_warmup)
    measure = float(opts.run_time) - warmup
    if measure <= 0:
        _fatal("--run-time must be longer than --tb-warmup")
    phase = Phase(
        "run", (environment.host or "").rstrip("/"), opts.num_users, opts.tb_rate, warmup, measure
    )
    return Plan(scenario or "run", "open", (phase,), {})


def _on_quit(environment: Environment, driver: Driver | None, shape: PlanShape | None) -> None:
    def discard(**_: Any) -> None:
        # The run is ending (plan done, SIGTERM, Ctrl-C): a phase still in progress is dropped,
        # and no greenlet of ours outlives the runner.
        if driver is not None:
            driver.stopping = True
        if shape is not None:
            shape.abort()
        STATE.discard()

    environment.events.quitting.add_listener(discard)


def _fatal(message: str) -> None:
    log.error(message)
    sys.stderr.write(f"twinload: {message}\n")
    sys.exit(2)
